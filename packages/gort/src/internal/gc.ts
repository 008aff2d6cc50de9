// Collections asked for by the shared heap's pacer (malloc.ts gcRequest).
// A channel whose last handle died on some thread is freed when that
// thread's collector finds the handle dead and runs its finalizer (refs.ts);
// V8 collects when its own heap fills and knows nothing of the shared one.
// So every thread watches the heap's gcGen word and runs a full collection
// when it moves: Ms at their event-loop turns and before they idle, the
// host from an Atomics.waitAsync on the word.
//
// The collector is V8's gc(), exposed by setting --expose-gc at run time
// and taking the function from a fresh context (or globalThis.gc when node
// ran with --expose-gc). Where that fails, records are still freed, at V8's
// own pace.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { SharedHeap } from './heap.js'
import { heapw, HEAP_GCGEN } from './layout.js'

let collector: (() => void) | null | undefined

/** This thread's full collection, or null where it cannot be had. */
function collectorFn(): (() => void) | null {
  if (collector === undefined) {
    const g = (globalThis as { gc?: unknown }).gc
    if (typeof g === 'function') {
      collector = g as () => void
    } else {
      try {
        setFlagsFromString('--expose-gc')
        collector = runInNewContext('gc') as () => void
      } catch {
        collector = null
      }
    }
  }
  return collector
}

/** Per heap on this thread: the last gcGen collected for. */
const seen = new WeakMap<SharedHeap, number>()

/**
 * Collects if the heap asked for a collection since this thread last did;
 * returns whether it did (the finalizers run at the next event-loop turn).
 * Cheap otherwise (one load).
 */
export function collectIfAsked(h: SharedHeap): boolean {
  const gen = Atomics.load(h.i32, heapw(h.layout, HEAP_GCGEN))
  if ((seen.get(h) ?? 0) === gen) return false
  seen.set(h, gen)
  const gc = collectorFn()
  if (gc === null) return false
  gc()
  return true
}

/**
 * On the host: collects each time the heap asks, until stop() is called.
 * A pending waitAsync does not keep the process alive.
 */
export function watchCollections(h: SharedHeap): () => void {
  let stopped = false
  const w = heapw(h.layout, HEAP_GCGEN)
  const loop = async (): Promise<void> => {
    while (!stopped && !h.dead) {
      const gen = Atomics.load(h.i32, w)
      collectIfAsked(h)
      const r = Atomics.waitAsync(h.i32, w, gen)
      if (r.async) await r.value
    }
  }
  void loop()
  return () => {
    stopped = true
    Atomics.notify(h.i32, w)
  }
}
