// The gcount credit: how an M keeps sched.gcount (the number of live
// goroutines) without an atomic per goroutine. docs/design/scheduler.md,
// "Go's policy, ported", has the measurements.
//
// Invariant: sched.gcount = the live goroutines + every M's credit, so the
// count reads high by at most 2 × GCOUNT_BATCH per M, never low. Callers,
// all on this M: gcountTake from go() (mspawn.ts, before newproc1 counts the
// G in), gcountPut from goexit (execute.ts, a goroutine nobody awaits; an
// awaited one is counted out at once, so that the host sees it gone), and
// flushGcount from mloop each time schedule() returns. M.gcredit mirrors
// the credit for the host, which takes it back if the M dies (newm.ts mdied).

import { M_GCREDIT, SCHED_GCOUNT, schedw } from './layout.js'
import { l, m, mb } from './mstate.js'

/**
 * sched.gcount without a shared atomic per goroutine: two Ms creating
 * goroutines in parallel would otherwise bounce the counter's cache line
 * twice per goroutine. The M holds credit: counts it added to sched.gcount
 * ahead of need (GCOUNT_BATCH at a time), spent by each goroutine it
 * creates with go() and earned back by each exit of a goroutine nobody
 * awaits; a chain of goroutines on one M touches the counter not at all.
 * sched.gcount = the live goroutines + every M's credit, so it only ever
 * reads high, never low: nothing that waits for it to reach 0 (close,
 * sysmon's exit, the deadlock check) can act early. The M gives its credit
 * back whenever it leaves schedule (an event-loop turn at least every
 * HOUSEKEEPING_MS, or going idle), and the host takes it back if the M
 * dies (M.gcredit).
 */
let gcredit = 0
const GCOUNT_BATCH = 64

/** A count for a goroutine this M is creating (newproc1's counted). */
export function gcountTake(): void {
  if (gcredit === 0) {
    Atomics.add(m, schedw(l, SCHED_GCOUNT), GCOUNT_BATCH)
    gcredit = GCOUNT_BATCH
  }
  m[mb + M_GCREDIT] = --gcredit
}

/**
 * A count given back by a goroutine of this M that exited with nobody
 * awaiting it (goexit); past 2 × GCOUNT_BATCH, the excess goes back to
 * sched.gcount.
 */
export function gcountPut(): void {
  if (++gcredit >= 2 * GCOUNT_BATCH) {
    Atomics.sub(m, schedw(l, SCHED_GCOUNT), gcredit - GCOUNT_BATCH)
    gcredit = GCOUNT_BATCH
  }
  m[mb + M_GCREDIT] = gcredit // plain: only the host reads it, after the M died
}

/** Gives all of this M's credit back to sched.gcount (mloop, whenever schedule returns). */
export function flushGcount(): void {
  if (gcredit === 0) return
  Atomics.sub(m, schedw(l, SCHED_GCOUNT), gcredit)
  gcredit = 0
  m[mb + M_GCREDIT] = 0
}

