// Reference counts for the shared records that JS objects stand for:
// channels, sync objects and contexts. Go frees an unreachable channel with
// its garbage collector; here a channel is a block in the shared heap that
// many isolates can reach, and none of their collectors sees the others. So
// each record counts its references (the record's `refs` word) and frees
// itself when the count reaches zero. A reference is one of:
//
//   - a handle object on some thread (a Chan, a WaitGroup, ...). The object
//     that creates a record holds the first reference; decoding a handle
//     makes a new object with a reference of its own. Each is registered
//     with its heap's FinalizationRegistry on its thread, which releases the
//     reference after the object is collected;
//   - an encoded copy in a value block (internal/codec/): a channel sent over a
//     channel, an argument or result of a goroutine. The block holds one
//     reference per handle in it, taken when it is written and dropped when
//     the block is freed, decoded or not;
//   - a record that points at another one: a context holds its done channel
//     and, while it is linked under its parent, its parent (and the parent
//     holds it in its child list); a Cond holds its Mutex.
//
// A record with a waiter queued on it is always referenced: the waiter is a
// goroutine whose generator, or a host promise whose async frame, holds a
// handle until the wait is over. Cycles (a channel buffering itself, a
// context never cancelled under a parent never cancelled) are not freed;
// the second is Go's documented leak of a context whose cancel function is
// never called.
//
// Atomics.sub returns the count before: the thread that takes it from 1 to 0
// is the only one left that knows the record, and frees it without a lock.

import type { SharedHeap } from './heap.js'
import { throwFatal } from './throw.js'

/** How a kind of record is counted: the word of its count, and how it is freed when the count reaches zero. */
export interface RefKind {
  /** Word offset of the count within the record. */
  readonly refsWord: number
  /** Frees the record at ptr (its count just reached zero) and releases what it references. */
  readonly free: (h: SharedHeap, ptr: number) => void
}

const refKinds: Array<RefKind | undefined> = []

/** Per heap, on this thread: the registry that releases the references of collected handle objects. */
const registries = new WeakMap<SharedHeap, FinalizationRegistry<number>>()

/** Handle kinds fit in the low byte of a registry's held value; the record's byte offset is above it. */
const KIND_BITS = 256

/** Declares, on this thread, how records of a handle kind are counted and freed. */
export function defineRefKind(kind: number, k: RefKind): void {
  if (!Number.isInteger(kind) || kind < 0 || kind >= KIND_BITS) throw new RangeError(`defineRefKind: kind ${kind} is not an integer from 0 to ${KIND_BITS - 1}`)
  refKinds[kind] = k
}

/** Whether records of this kind are counted (defineRefKind). */
export function counted(kind: number): boolean {
  return refKinds[kind] !== undefined
}

/** Takes a reference on the record at ptr, which the caller already holds one on (so it cannot be freed meanwhile). */
export function retain(h: SharedHeap, kind: number, ptr: number): void {
  const k = refKinds[kind]
  if (k === undefined || ptr === 0) return
  const before = Atomics.add(h.i32, (ptr >> 2) + k.refsWord, 1)
  if (before <= 0) throwFatal('retain', `record ${ptr} of kind ${kind} had ${before} references: it was freed`)
}

/** Drops a reference on the record at ptr; the last one frees it. */
export function release(h: SharedHeap, kind: number, ptr: number): void {
  const k = refKinds[kind]
  if (k === undefined || ptr === 0 || h.dead) return
  const before = Atomics.sub(h.i32, (ptr >> 2) + k.refsWord, 1)
  if (before === 1) k.free(h, ptr)
  else if (before <= 0) throwFatal('release', `record ${ptr} of kind ${kind} had ${before} references: released once too often`)
}

/**
 * Makes obj hold the reference on the record at ptr that the caller took
 * (a new record's first one, or retain's): when obj is collected, the
 * reference is released on this thread.
 */
export function track(h: SharedHeap, obj: object, kind: number, ptr: number): void {
  if (ptr === 0 || refKinds[kind] === undefined) return
  let reg = registries.get(h)
  if (reg === undefined) {
    reg = new FinalizationRegistry<number>((held) => {
      release(h, held % KIND_BITS, Math.floor(held / KIND_BITS))
    })
    registries.set(h, reg)
  }
  reg.register(obj, ptr * KIND_BITS + kind)
}
