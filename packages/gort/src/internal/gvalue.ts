// A goroutine's arguments and result in its G record.
//
// G.arg and G.result are arena pointers to encoded values (codec.ts), with
// small cases kept in the record itself, so that a trivial goroutine spawned
// from the host (one number in, one number out) touches no lock but the run
// queue's: no malloc for its arguments, none for its result.
//
//	0          no arguments / the result undefined
//	> 0        an arena pointer (codec.ts)
//	INL_NUM    one number argument / a number result, in G.inl (float64)
//	INL_TRUE, INL_FALSE, INL_NULL   a result of true, false or null
//
// The G's owner writes these before publishing the G (a run queue's tail
// store, the completion stack's CAS) and the next owner reads them after.

import { decodeArgs, decodeValue, encodeArgs, encodeValue, freeValue } from './codec.js'
import type { SharedHeap } from './heap.js'
import { G_ARG, G_INL, G_RESULT } from './layout.js'

const INL_NUM = -1
const INL_TRUE = -2
const INL_FALSE = -3
const INL_NULL = -4

/** Stores args in the G at word gb. Throws DataCloneError (nothing allocated) if they cannot be copied. */
export function putArgs(h: SharedHeap, gb: number, args: readonly unknown[]): void {
  if (args.length === 0) h.i32[gb + G_ARG] = 0
  else if (args.length === 1 && typeof args[0] === 'number') {
    h.f64[(gb + G_INL) >> 1] = args[0]
    h.i32[gb + G_ARG] = INL_NUM
  } else h.i32[gb + G_ARG] = encodeArgs(h, args)
}

/** Reads the G's arguments and frees their block. */
export function takeArgs(h: SharedHeap, gb: number): unknown[] {
  const a = h.i32[gb + G_ARG]
  h.i32[gb + G_ARG] = 0
  if (a === 0) return []
  if (a === INL_NUM) return [h.f64[(gb + G_INL) >> 1]]
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
}

/** Stores a result (or an error) in the G. Throws DataCloneError if it cannot be copied. */
export function putResult(h: SharedHeap, gb: number, v: unknown): void {
  let r: number
  if (v === undefined) r = 0
  else if (typeof v === 'number') {
    h.f64[(gb + G_INL) >> 1] = v
    r = INL_NUM
  } else if (v === true) r = INL_TRUE
  else if (v === false) r = INL_FALSE
  else if (v === null) r = INL_NULL
  else r = encodeValue(h, v)
  h.i32[gb + G_RESULT] = r
}

/** Reads the G's result and frees its block. */
export function takeResult(h: SharedHeap, gb: number): unknown {
  const r = h.i32[gb + G_RESULT]
  h.i32[gb + G_RESULT] = 0
  switch (r) {
    case 0:
      return undefined
    case INL_NUM:
      return h.f64[(gb + G_INL) >> 1]
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
