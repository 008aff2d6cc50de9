// gort/bench's PB: Go's testing.PB, the iterations a parallel body runs.
// Its record (layout.ts `pb`) holds the count every body takes grains from.
// The class lives here, not in ../bench.ts, because an M must decode a PB
// even when the body's module imports gort/bench for its types only
// (mworker.ts imports this module).

import { kHandle, registerHandleKind, type HandleRef } from './codec/handles.js'
import { HandleKind } from './handlekind.js'
import type { SharedHeap } from './heap.js'
import { PB_BYTES, PB_GRAIN, PB_LEFT, PB_REFS } from './layout.js'
import { free, malloc } from './malloc.js'
import { defineRefKind, track } from './refs.js'

/**
 * Go's testing.PB: the iterations a parallel body runs. Call next() before
 * each iteration; it returns false when the shared count is used up.
 */
export class PB {
  /** Iterations taken from the shared count and not yet run by this goroutine. */
  private cache = 0

  // A PB comes from parallel() (newpb), never from `new`.
  private constructor(
    /** @internal */ readonly heap: SharedHeap,
    /** @internal */ readonly ptr: number,
    /** @internal */ readonly grain: number,
  ) {
    track(heap, this, HandleKind.PB, ptr)
  }

  /** @internal */
  static of(heap: SharedHeap, ptr: number, grain: number): PB {
    return new PB(heap, ptr, grain)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.PB, ptr: this.ptr }
  }

  /** Whether there is another iteration to run (Go's pb.Next). */
  next(): boolean {
    if (this.cache > 0) {
      this.cache--
      return true
    }
    // Take a grain; Atomics.sub returns what was left before (pairs with the other bodies' subs).
    const left = Atomics.sub(this.heap.i32, (this.ptr >> 2) + PB_LEFT, this.grain)
    if (left <= 0) return false
    this.cache = Math.min(this.grain, left) - 1
    return true
  }
}

/** A new PB over a fresh count of `iterations`, taken `grain` at a time. Any thread. */
export function newpb(h: SharedHeap, iterations: number, grain: number): PB {
  const ptr = malloc(h, PB_BYTES)
  const w = ptr >> 2
  h.i32[w + PB_GRAIN] = grain
  Atomics.store(h.i32, w + PB_LEFT, iterations)
  Atomics.store(h.i32, w + PB_REFS, 1) // the PB returned
  return PB.of(h, ptr, grain)
}

// Every thread that loads this module decodes PBs; not shared (each object
// has its own grain cache). Freed with the last reference.
registerHandleKind(HandleKind.PB, (h, ptr) => PB.of(h, ptr, h.i32[(ptr >> 2) + PB_GRAIN]))
defineRefKind(HandleKind.PB, { refsWord: PB_REFS, free })
