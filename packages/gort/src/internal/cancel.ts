// Cancelling a goroutine from the outside: the request word G.cancel, and
// G.started for timeouts counted from a goroutine's start.
//
// Go has no such thing: a goroutine ends when its function returns, and
// callers ask it to stop through a context it selects on. gort needs more,
// because its job runners (gort/pool, gort/bullmq) run code that does not
// know about contexts: a task aborted by its caller must stop running, run
// its finally blocks, and give its P back, without the whole thread being
// killed as piscina must. So an awaited goroutine (rt.go, the pool's tasks)
// can be cancelled: the reason is thrown into its generator at its next
// safe point, as if the yield had thrown.
//
// The protocol (docs/design/scheduler.md, "Cancellation"):
//  - The host encodes the reason into the arena and CASes G.cancel from 0
//    to its offset (or CANCEL_NOREASON when the reason cannot be cloned),
//    then sets G.preempt so the G's M leaves its fast path at the next
//    safe point. A failed CAS means a request is already there (or was
//    taken): the new one is dropped, its block freed.
//  - The G's M takes the request with one exchange to CANCEL_TAKEN, at a
//    safe point only: a plain yield, gosched(), sleep() or until(); or
//    before starting it (it never runs); or while it is parked in sleep()
//    or until() on its M (the host posts the M a message; the park is
//    abandoned and the M's own wake-up for it ignored). A G parked on a
//    channel or a lock is not interrupted: its operation completes first
//    (throwing there would lose a value handed to it), and the request is
//    taken at its next safe point.
//  - The record of an awaited G is the host's until it collects the
//    result (complete(), host.ts): only then is it freed for reuse. So the
//    host's CAS can never hit a newer goroutine in the same record, and
//    the host clears G.cancel when it collects, freeing a reason block no
//    M took.
//  - A G that never reaches a safe point (a plain function in a loop, a
//    blocking Atomics.wait) cannot take it: after a grace period the host
//    terminates its M (newm.ts kill), as piscina terminates a Worker.

import type { SharedHeap } from './heap.js'
import { decodeValue } from './codec/decode.js'
import { freeValue } from './codec/block.js'
import { encodeValue } from './codec/encode.js'
import { registerError } from './codec/errors.js'
import { gbase, G_CANCEL, G_PREEMPT, G_STARTED } from './layout.js'
import { getg, mheap } from './proc.js'

/** Goroutine.cancel's options. */
export interface CancelOptions {
  /**
   * How long a goroutine that never reaches a safe point may keep running
   * before its M (worker thread) is terminated, failing the other
   * goroutines that live on it too. Default Infinity: never.
   */
  graceMs?: number
}

/** G.cancel: a request whose reason could not be cloned; the M throws a generic Error. */
export const CANCEL_NOREASON = -1
/** G.cancel: the G's M took the request (thrown in, or the G never started). */
export const CANCEL_TAKEN = -2

/**
 * What Goroutine.cancel() throws into a goroutine when it is given no
 * reason (or one that cannot cross threads). The same class on every thread.
 */
export class GoroutineCanceled extends Error {
  override name = 'GoroutineCanceled'
  constructor(message = 'goroutine canceled') {
    super(message)
  }
}
registerError(GoroutineCanceled, { name: 'gort.GoroutineCanceled' })

/**
 * Asks G gp to stop: returns false if a request was already made (or taken).
 * The host only, for a G it awaits (its record is not reused before the
 * host collects it).
 */
export function requestCancel(h: SharedHeap, gp: number, reason: unknown): boolean {
  const m = h.i32
  const gb = gbase(h.layout, gp)
  if (Atomics.load(m, gb + G_CANCEL) !== 0) return false
  let p: number
  try {
    p = reason === undefined ? CANCEL_NOREASON : encodeValue(h, reason)
    if (p === 0) p = CANCEL_NOREASON
  } catch {
    p = CANCEL_NOREASON
  }
  // Pairs with the exchange in takeCancel (the M) and clearCancel (the host).
  if (Atomics.compareExchange(m, gb + G_CANCEL, 0, p) !== 0) {
    if (p > 0) freeValue(h, p)
    return false
  }
  // The M's safe point checks G.preempt first (mloop.ts execute).
  Atomics.store(m, gb + G_PREEMPT, 1)
  return true
}

/** Whether a request waits for gp's M to take it. Any thread. */
export function cancelPending(m: Int32Array, gb: number): boolean {
  const c = Atomics.load(m, gb + G_CANCEL)
  return c !== 0 && c !== CANCEL_TAKEN
}

/** Whether the calling goroutine was cancelled (its request taken or waiting). In a goroutine. */
export function cancelled(): boolean {
  const h = mheap()
  const gp = getg()
  return h !== undefined && gp !== 0 && Atomics.load(h.i32, gbase(h.layout, gp) + G_CANCEL) !== 0
}

/**
 * Takes the request (the G's M, at a safe point): the reason to throw in,
 * decoded here and its block freed. Call only when cancelPending.
 */
export function takeCancel(h: SharedHeap, gb: number): unknown {
  const c = Atomics.exchange(h.i32, gb + G_CANCEL, CANCEL_TAKEN)
  if (c > 0) {
    try {
      return decodeValue(h, c)
    } catch (e) {
      return e
    } finally {
      freeValue(h, c)
    }
  }
  return new GoroutineCanceled()
}

/** The host collected the G: forget any request, freeing a reason no M took. */
export function clearCancel(h: SharedHeap, gb: number): void {
  const c = Atomics.exchange(h.i32, gb + G_CANCEL, 0)
  if (c > 0) freeValue(h, c)
}

/** Wall-clock milliseconds modulo 2^31, never 0: G.started's clock. */
export function startStamp(): number {
  return ((performance.timeOrigin + performance.now()) % 0x80000000) | 0 || 1
}

/** Milliseconds since G gp's start, or -1 if it has not started. Any thread. */
export function sinceStart(h: SharedHeap, gp: number): number {
  const s = Atomics.load(h.i32, gbase(h.layout, gp) + G_STARTED)
  if (s === 0) return -1
  return (startStamp() - s + 0x80000000) % 0x80000000
}
