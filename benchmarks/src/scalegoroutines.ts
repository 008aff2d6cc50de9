// The goroutines of the scale suite (suites/scale.ts): a goroutine that
// parks on a channel receive, a spawner that starts many of those from
// inside a goroutine, a goroutine that keeps many channels alive, and the
// trivial goroutine of the soak. Every M imports this module at start (the
// suite passes it in Runtime.start's modules).
//
// It also answers heap probes. The scale suite needs the JS heap of every M,
// and a goroutine cannot be sent to a chosen M (an unstarted goroutine runs
// on whichever M takes it). So each M listens on a BroadcastChannel: the
// app posts a probe and asks the shared heap for a collection
// (requestCollection), which wakes every M, parked or not, within 250 ms to
// collect and turn its event loop once; the probe is delivered in that
// turn. The M collects again (so that finalizers that ran meanwhile count)
// and answers with v8.getHeapStatistics() and its threadId. A probe can
// also ask for a heap snapshot of the M (for the suite's notes on where the
// bytes go).

import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads'
import { getHeapStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { readlinkSync } from 'node:fs'
import path from 'node:path'
import { goroutines, go, chan, type Chan } from 'gort'

/** The name of the probes' BroadcastChannel. */
export const PROBE_CHANNEL = 'gort-scale-heap-probe'

/** A probe, posted by the app. */
export interface HeapProbe {
  type: 'probe'
  id: number
  /** Write a heap snapshot of each M into this directory. */
  snapshotDir?: string
}

/** An M's answer. */
export interface HeapReport {
  type: 'heap'
  id: number
  threadId: number
  /** v8.getHeapStatistics() after a full collection. */
  usedHeapSize: number
  totalHeapSize: number
  externalMemory: number
  mallocedMemory: number
  /** The M's kernel thread id (Linux), so the app can tell its CPU time apart; -1 elsewhere. */
  tid: number
  snapshot?: string
}

/** This thread's kernel thread id, from /proc/thread-self (Linux), or -1. */
function kernelTid(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop())
  } catch {
    return -1
  }
}

let collector: (() => void) | undefined

/** This thread's full collection (V8's gc(), exposed at run time, as gort does). */
export function fullGC(): void {
  if (collector === undefined) {
    const g = (globalThis as { gc?: unknown }).gc
    if (typeof g === 'function') collector = g as () => void
    else {
      setFlagsFromString('--expose-gc')
      collector = runInNewContext('gc') as () => void
    }
  }
  collector()
}

if (!isMainThread) {
  const bc = new BroadcastChannel(PROBE_CHANNEL)
  // Never keep an M alive for this.
  bc.unref()
  bc.onmessage = (ev: unknown) => {
    const msg = (ev as { data: HeapProbe | HeapReport }).data
    if (msg.type !== 'probe') return
    fullGC()
    fullGC()
    const s = getHeapStatistics()
    let snapshot: string | undefined
    if (msg.snapshotDir !== undefined) snapshot = writeHeapSnapshot(path.join(msg.snapshotDir, `m-${threadId}.heapsnapshot`))
    const r: HeapReport = {
      type: 'heap',
      id: msg.id,
      threadId,
      usedHeapSize: s.used_heap_size,
      totalHeapSize: s.total_heap_size,
      externalMemory: s.external_memory,
      mallocedMemory: s.malloced_memory,
      tid: kernelTid(),
      snapshot,
    }
    bc.postMessage(r)
  }
}

export const sg = goroutines(import.meta.url, {
  /** Parks on a receive from c until a value comes or c is closed (Go: `go func() { <-c }()`). */
  *parked(c: Chan<number>): Generator<unknown, void> {
    yield* c.recv()
  },

  /** Starts n parked(c) goroutines with go() and returns n (the 1M test, spawned inside a goroutine). */
  *spawnParked(c: Chan<number>, n: number): Generator<unknown, number> {
    for (let i = 0; i < n; i++) go(sg.parked, c)
    return n
  },

  /**
   * Makes n channels of capacity cap and keeps them alive: announces that
   * they exist on ready, then waits for release to be closed, and returns
   * n. While it waits, its M's heap holds n Chan handles.
   */
  *holdChans(n: number, cap: number, ready: Chan<number>, release: Chan<number>): Generator<unknown, number> {
    const held: Array<Chan<number>> = new Array(n)
    for (let i = 0; i < n; i++) held[i] = chan<number>(cap)
    yield* ready.send(held.length)
    yield* release.recv()
    return held.length
  },

  /** The soak's trivial goroutine. */
  *inc(x: number): Generator<unknown, number> {
    return x + 1
  },
})
