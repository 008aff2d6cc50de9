// A goroutine's arguments and result in its G record.
//
// G.arg and G.result are arena pointers to encoded values (internal/codec/), with
// small cases kept in the record itself, so that a trivial goroutine spawned
// from the host (one number in, one number out) touches no lock but the run
// queue's: no malloc for its arguments, none for its result.
//
//	0          no arguments / the result undefined
//	> 0        an arena pointer (internal/codec/)
//	INL_NUM    one number argument / a number result, in G.inl (float64)
//	INL_TRUE, INL_FALSE, INL_NULL   a result of true, false or null
//	INL_HANDLE one shared handle argument (a channel, a mutex: codec/handles.ts),
//	           its ptr * 256 + kind in G.inl; the G holds a reference on
//	           the record, which passes to the handle object decoded
//
// The G's owner writes these before publishing the G (a run queue's tail
// store, the completion stack's CAS) and the next owner reads them after.

import { freeValue } from './codec/block.js'
import { decodeArgs, decodeValue } from './codec/decode.js'
import { commitStaged, encodeArgs, encodeArgsOrStage, encodeValue, type StagedBlock } from './codec/encode.js'
import { handleObject, handleRefOf } from './codec/handles.js'
import type { SharedHeap } from './heap.js'
import { G_ARG, G_INL, G_RESULT } from './layout.js'
import { release, retain } from './refs.js'

const INL_NUM = -1
const INL_TRUE = -2
const INL_FALSE = -3
const INL_NULL = -4
const INL_HANDLE = -5
/** Handle kinds that fit an inline argument (refs.ts's held-value split). */
const INL_KINDS = 256

/** Stores args in the G at word gb. Throws DataCloneError (nothing allocated) if they cannot be copied. */
export function putArgs(h: SharedHeap, gb: number, args: readonly unknown[]): void {
  if (args.length === 0) h.i32[gb + G_ARG] = 0
  else if (args.length === 1 && typeof args[0] === 'number') {
    h.f64[(gb + G_INL) >> 1] = args[0]
    h.i32[gb + G_ARG] = INL_NUM
  } else if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null && putHandleArg(h, gb, args[0])) {
    // go(fn, ch): no block, no heap.lock.
  } else h.i32[gb + G_ARG] = encodeArgs(h, args)
}

/**
 * putArgs for a caller that can wait for arena space (the host's spawns,
 * arenawait.ts): stores args in the G and returns undefined, or, when they
 * need a block the arena has no room for now (or `now` is false: others
 * wait already), leaves G.arg 0 and returns them staged, for putStaged.
 * Throws DataCloneError, or a RangeError naming heapSize if they could
 * never fit; nothing stays allocated then.
 */
export function putArgsOrStage(h: SharedHeap, gb: number, args: readonly unknown[], now: boolean): StagedBlock | undefined {
  if (args.length === 0 || (args.length === 1 && typeof args[0] === 'number')) {
    putArgs(h, gb, args)
    return undefined
  }
  if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null && putHandleArg(h, gb, args[0])) return undefined
  const r = encodeArgsOrStage(h, args, now)
  if (typeof r === 'number') {
    h.i32[gb + G_ARG] = r
    return undefined
  }
  h.i32[gb + G_ARG] = 0
  return r
}

/** Moves staged arguments into the arena and the G; false if the arena has no room for them yet. */
export function putStaged(h: SharedHeap, gb: number, s: StagedBlock): boolean {
  const p = commitStaged(h, s)
  if (p === 0) return false
  h.i32[gb + G_ARG] = p
  return true
}

/** Stores a lone handle argument inline, with a reference of the G's; false if o is not one that fits. */
function putHandleArg(h: SharedHeap, gb: number, o: object): boolean {
  const r = handleRefOf(o)
  if (r === undefined || r.kind >= INL_KINDS || r.ptr <= 0) return false
  // Another runtime's handle: the codec refuses it with the error.
  if ((o as { heap?: { sab?: unknown } }).heap?.sab !== h.sab) return false
  retain(h, r.kind, r.ptr)
  h.f64[(gb + G_INL) >> 1] = r.ptr * INL_KINDS + r.kind
  h.i32[gb + G_ARG] = INL_HANDLE
  return true
}

/** Reads the G's arguments and frees their block. */
export function takeArgs(h: SharedHeap, gb: number): unknown[] {
  const a = h.i32[gb + G_ARG]
  h.i32[gb + G_ARG] = 0
  if (a === 0) return []
  if (a === INL_NUM) return [h.f64[(gb + G_INL) >> 1]]
  if (a === INL_HANDLE) {
    const x = h.f64[(gb + G_INL) >> 1]
    return [handleObject(h, x % INL_KINDS, Math.floor(x / INL_KINDS), true)]
  }
  try {
    return decodeArgs(h, a)
  } finally {
    freeValue(h, a)
  }
}

/** Frees the G's arguments unread. */
export function dropArgs(h: SharedHeap, gb: number): void {
  const a = h.i32[gb + G_ARG]
  h.i32[gb + G_ARG] = 0
  if (a > 0) freeValue(h, a)
  else if (a === INL_HANDLE) {
    const x = h.f64[(gb + G_INL) >> 1]
    release(h, x % INL_KINDS, Math.floor(x / INL_KINDS))
  }
}

/** The inline float64 of the last encodeSlotCode that returned INL_NUM. */
export let slotCodeF64 = 0

/**
 * Encodes v as a slot code: 0 (undefined), an INL_* kind (a number then
 * sits in slotCodeF64), or an arena pointer (internal/codec/). Throws
 * DataCloneError, with nothing allocated, if v cannot cross threads.
 */
export function encodeSlotCode(h: SharedHeap, v: unknown): number {
  if (v === undefined) return 0
  if (typeof v === 'number') {
    slotCodeF64 = v
    return INL_NUM
  }
  if (v === true) return INL_TRUE
  if (v === false) return INL_FALSE
  if (v === null) return INL_NULL
  return encodeValue(h, v)
}

/** Writes a slot code and its float64 into the slot at word w. */
export function storeSlot(h: SharedHeap, w: number, code: number, f: number): void {
  h.i32[w] = code
  if (code === INL_NUM) h.f64[(w + 2) >> 1] = f
}

/** Decodes a slot code (with its float64) and frees its block. */
export function decodeSlotCode(h: SharedHeap, r: number, f: number): unknown {
  switch (r) {
    case 0:
      return undefined
    case INL_NUM:
      return f
    case INL_TRUE:
      return true
    case INL_FALSE:
      return false
    case INL_NULL:
      return null
  }
  try {
    return decodeValue(h, r)
  } finally {
    freeValue(h, r)
  }
}

/** Stores a result (or an error) in the G. Throws DataCloneError if it cannot be copied. */
export function putResult(h: SharedHeap, gb: number, v: unknown): void {
  const code = encodeSlotCode(h, v)
  h.i32[gb + G_RESULT] = code
  if (code === INL_NUM) h.f64[(gb + G_INL) >> 1] = slotCodeF64
}

/** Reads the G's result and frees its block. */
export function takeResult(h: SharedHeap, gb: number): unknown {
  const r = h.i32[gb + G_RESULT]
  h.i32[gb + G_RESULT] = 0
  return decodeSlotCode(h, r, h.f64[(gb + G_INL) >> 1])
}

// Value slots (layout.ts VSLOT): 4 words at an even word offset w; the code
// at w, the inline float64 at w + 2. Channel buffers and sudogs hold these.

/** Reads the slot at word w, frees its block and empties it. */
export function takeSlot(h: SharedHeap, w: number): unknown {
  const r = h.i32[w]
  h.i32[w] = 0
  return decodeSlotCode(h, r, h.f64[(w + 2) >> 1])
}

