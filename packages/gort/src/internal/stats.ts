// rt.stats(): a snapshot of Ps, Ms, goroutines and sysmon's counts, read
// from the shared heap with atomic loads (a snapshot, not a consistent cut).

import type { SharedHeap } from './heap.js'
import {
  gbase, heapw, mbase, pbase, schedw, HEAP_INUSE_BYTES,
  G_FLAGS, G_STATUS, M_NGS, M_NSTARTED, M_STATE, P_SCHEDTICK, P_STATUS, P_SYSCALLTICK,
  SCHED_GNEXT, SCHED_NPREEMPT, SCHED_NRETAKEEXEC, SCHED_NRETAKESYSCALL, SCHED_NWAKEGUARD, SCHED_SYSMONSLEEPUS, SCHED_SYSMONTICK, SCHED_SYSMONWAIT,
} from './layout.js'
import { gcount } from './proc.js'
import { globrunqsize, runqlen } from './runq.js'
import { Gflags, Gstatus } from './runtime2.js'

export interface RuntimeStats {
  gomaxprocs: number
  goroutines: number
  globalRunqueue: number
  ps: Array<{ id: number; status: string; schedtick: number; syscalltick: number; runqueue: number }>
  ms: Array<{ id: number; threadId: number; state: string; goroutines: number; started: number }>
  /** Goroutines by status (G records; the app's own pending operations are not goroutines). */
  byStatus: { runnable: number; running: number; syscall: number; waiting: number }
  /** Bytes in use in the shared heap's arena (arguments, results, channel buffers, sync records). */
  heapInuseBytes: number
  /**
   * Sysmon's counts: preemption requests, Ps taken from syscalls and from
   * runaway steps, wake-ups it had to make up for (wakeGuards: work left on
   * the global queue with every P idle; a scheduler bug if ever above 0),
   * its loop and sleep.
   */
  sysmon: { preemptions: number; retakesSyscall: number; retakesRunaway: number; wakeGuards: number; loops: number; sleepMicros: number; waitingOnNote: boolean }
}

const pStatusNames = ['idle', 'running', 'syscall', 'gcstop', 'dead', 'exec'] as const
const mStateNames = ['starting', 'running', 'spinning', 'idle', 'dead', 'retired'] as const

/** The snapshot; threads are the Ms' workers by M id (for their threadId). Any thread. */
export function readStats(h: SharedHeap, procs: number, threads: ReadonlyArray<{ threadId: number }>): RuntimeStats {
  const m = h.i32
  const l = h.layout
  const ps = Array.from({ length: procs }, (_, p) => {
    const b = pbase(l, p)
    return {
      id: p,
      status: pStatusNames[Atomics.load(m, b + P_STATUS)],
      schedtick: Atomics.load(m, b + P_SCHEDTICK) >>> 0,
      syscalltick: Atomics.load(m, b + P_SYSCALLTICK) >>> 0,
      runqueue: runqlen(h, p),
    }
  })
  const ms = threads.map((w, i) => ({
    id: i,
    threadId: w.threadId,
    state: mStateNames[Atomics.load(m, mbase(l, i) + M_STATE)],
    goroutines: Atomics.load(m, mbase(l, i) + M_NGS),
    started: Atomics.load(m, mbase(l, i) + M_NSTARTED) >>> 0,
  }))
  const byStatus = { runnable: 0, running: 0, syscall: 0, waiting: 0 }
  const n = Math.min(Atomics.load(m, schedw(l, SCHED_GNEXT)), l.maxGs)
  for (let gp = 1; gp < n; gp++) {
    const b = gbase(l, gp)
    if ((Atomics.load(m, b + G_FLAGS) & Gflags.Ghostwait) !== 0) continue
    const st = Atomics.load(m, b + G_STATUS)
    if (st === Gstatus.Grunnable) byStatus.runnable++
    else if (st === Gstatus.Grunning) byStatus.running++
    else if (st === Gstatus.Gsyscall) byStatus.syscall++
    else if (st === Gstatus.Gwaiting) byStatus.waiting++
  }
  const sysmon = {
    preemptions: Atomics.load(m, schedw(l, SCHED_NPREEMPT)) >>> 0,
    retakesSyscall: Atomics.load(m, schedw(l, SCHED_NRETAKESYSCALL)) >>> 0,
    retakesRunaway: Atomics.load(m, schedw(l, SCHED_NRETAKEEXEC)) >>> 0,
    wakeGuards: Atomics.load(m, schedw(l, SCHED_NWAKEGUARD)) >>> 0,
    loops: Atomics.load(m, schedw(l, SCHED_SYSMONTICK)) >>> 0,
    sleepMicros: Atomics.load(m, schedw(l, SCHED_SYSMONSLEEPUS)),
    waitingOnNote: Atomics.load(m, schedw(l, SCHED_SYSMONWAIT)) === 1,
  }
  return { gomaxprocs: procs, goroutines: gcount(h), globalRunqueue: globrunqsize(h), ps, ms, byStatus, heapInuseBytes: Atomics.load(m, heapw(l, HEAP_INUSE_BYTES)), sysmon }
}
