// The tracer's counters (Go's trace emits them as GoroutineCount-like
// events): goroutines, runnable goroutines and the arena's bytes in use,
// each read exactly as rt.stats() reads it (stats.ts), so that a sample and
// a snapshot taken at a quiet moment agree.

import type { SharedHeap } from '../heap.js'
import { gbase, heapw, schedw, G_FLAGS, G_STATUS, HEAP_INUSE_BYTES, SCHED_GNEXT } from '../layout.js'
import { gcount } from '../proc.js'
import { Gflags, Gstatus } from '../runtime2.js'
import { Ev } from './buffer.js'

/** Goroutines whose G record says runnable, as stats.ts counts byStatus.runnable. */
export function runnableCount(h: SharedHeap): number {
  const m = h.i32
  const l = h.layout
  const n = Math.min(Atomics.load(m, schedw(l, SCHED_GNEXT)), l.maxGs)
  let k = 0
  for (let gp = 1; gp < n; gp++) {
    const b = gbase(l, gp)
    if ((Atomics.load(m, b + G_FLAGS) & Gflags.Ghostwait) !== 0) continue
    if (Atomics.load(m, b + G_STATUS) === Gstatus.Grunnable) k++
  }
  return k
}

/** Arena bytes in use (heapStats' inuseBytes, read without heap.lock: a sample). */
export function heapInuse(h: SharedHeap): number {
  return Atomics.load(h.i32, heapw(h.layout, HEAP_INUSE_BYTES))
}

/** Writes one Counters event with this thread's writer (the caller saw the flag up). */
export function traceCounters(h: SharedHeap): void {
  h.tw.emit(Ev.Counters, gcount(h), runnableCount(h), heapInuse(h))
}
