// codec: decoding. One cursor (rq) reads a block front to back, item by
// item, into fresh objects of this thread; it only reads, and does not free.
// Shared memory (SAB, POSTED items) comes from this thread's table of what
// other threads posted (sabs.ts sabget), which may read the runtime's
// channel first.

import type { SharedHeap } from '../heap.js'
import { throwFatal } from '../throw.js'
import {
  T_ARGS, T_ARRAY, T_BIGINT64, T_BIGNEG, T_BIGPOS, T_DATE, T_ERROR, T_FALSE, T_FLOAT64, T_HANDLE, T_INT32,
  T_NULL, T_OBJECT, T_POSTED, T_SAB, T_STRING, T_TRUE, T_UNDEF, T_V8, T_VIEW,
  SHORT_READ, VIEW_BUFFER, VIEW_CTORS, align8, scratch32, scratch64, viewBuf, viewU16, views,
} from './format.js'
import { rebuildError, type ErrorRecord } from './errors.js'
import { handleObject } from './handles.js'
import { fromV8 } from './serializer.js'
import { valueStart } from './block.js'
import { sabget } from './sabs.js'

// read: one cursor over a block.

let rq = 0

function readItem(h: SharedHeap): unknown {
  const i32 = h.i32
  const q = rq
  const w = q >> 2
  const tag = i32[w]
  const aux = i32[w + 1]
  switch (tag) {
    case T_INT32:
      rq = q + 8
      return aux
    case T_STRING:
      return readString(q, aux)
    case T_FLOAT64:
      rq = q + 16
      return h.f64[(q + 8) >> 3]
    case T_TRUE:
      rq = q + 8
      return true
    case T_FALSE:
      rq = q + 8
      return false
    case T_NULL:
      rq = q + 8
      return null
    case T_UNDEF:
      rq = q + 8
      return undefined
    case T_BIGINT64:
      scratch32[0] = i32[w + 2]
      scratch32[1] = i32[w + 3]
      rq = q + 16
      return scratch64[0]
    case T_BIGPOS:
    case T_BIGNEG: {
      let hex = (i32[w + 1 + aux] >>> 0).toString(16)
      for (let j = aux - 2; j >= 0; j--) hex += (i32[w + 2 + j] >>> 0).toString(16).padStart(8, '0')
      rq = q + 8 + align8(aux * 4)
      const v = BigInt('0x' + hex)
      return tag === T_BIGNEG ? -v : v
    }
    case T_ARRAY: {
      rq = q + 8
      const a: unknown[] = []
      for (let j = 0; j < aux; j++) a.push(readItem(h))
      return a
    }
    case T_OBJECT: {
      rq = q + 8
      const o: Record<string, unknown> = {}
      for (let j = 0; j < aux; j++) {
        const k = readKey(rq, i32[(rq >> 2) + 1])
        o[k] = readItem(h)
      }
      return o
    }
    case T_V8:
      rq = q + 8 + align8(aux)
      return fromV8(h, q + 8, aux)
    case T_ERROR:
      rq = q + 8 + align8(aux)
      return rebuildError(fromV8(h, q + 8, aux) as ErrorRecord, [])
    case T_DATE:
      rq = q + 16
      return new Date(h.f64[(q + 8) >> 3])
    case T_VIEW: {
      rq = q + 16 + align8(aux)
      const ab = new ArrayBuffer(aux)
      new Uint8Array(ab).set(h.u8.subarray(q + 16, q + 16 + aux))
      const kind = i32[w + 2]
      if (kind === VIEW_BUFFER) return Buffer.from(ab)
      const C = VIEW_CTORS[kind]
      if (C === undefined) return throwFatal('decodeValue', `bad view kind ${kind} at ${q}`)
      return new C(ab)
    }
    case T_SAB: {
      const sab = sabget(h, i32[w + 2]) as SharedArrayBuffer
      if (aux === 0) {
        rq = q + 16
        return sab
      }
      rq = q + 32
      const off = h.f64[(q + 16) >> 3]
      const len = h.f64[(q + 24) >> 3]
      const kind = aux - 1
      if (kind === VIEW_BUFFER) return Buffer.from(sab, off, len)
      const C = VIEW_CTORS[kind] as (new (b: SharedArrayBuffer, off: number, len: number) => ArrayBufferView) | undefined
      if (C === undefined) return throwFatal('decodeValue', `bad view kind ${kind} at ${q}`)
      return new C(sab, off, len)
    }
    case T_POSTED:
      rq = q + 16
      // A fresh copy, as every decoding makes; the memory stays shared.
      return structuredClone(sabget(h, i32[w + 2]))
    case T_HANDLE: {
      // The object holds a reference of its own (the block keeps its one).
      const o = handleObject(h, aux, i32[w + 2], false)
      // decode may have decoded values itself (rq), in another heap (views).
      rq = q + 16
      views(h)
      return o
    }
    default:
      return throwFatal('decodeValue', `no value at ${q} (tag ${tag}): a stray or freed pointer`)
  }
}

// Property names repeat from value to value. A property store with a string
// V8 has not seen as a name costs a lookup in its string table every time;
// handing back the string this thread made last time for the same code units
// (now a name V8 knows) makes decoding an object about twice as fast.
const KEY_CACHE = 512
const KEY_MAX = 32
const keyCache: string[] = new Array<string>(KEY_CACHE).fill('')

function readKey(q: number, n: number): string {
  if (n > KEY_MAX) return readString(q, n)
  const u16 = viewU16
  const b = (q + 8) >> 1
  let hash = n
  for (let j = 0; j < n; j++) hash = (Math.imul(hash, 31) + u16[b + j]) | 0
  const slot = (hash ^ (hash >>> 15)) & (KEY_CACHE - 1)
  const c = keyCache[slot]
  if (c.length === n) {
    let j = 0
    while (j < n && c.charCodeAt(j) === u16[b + j]) j++
    if (j === n) {
      rq = q + 8 + align8(n * 2)
      return c
    }
  }
  const s = readString(q, n)
  keyCache[slot] = s
  return s
}

function readString(q: number, n: number): string {
  rq = q + 8 + align8(n * 2)
  const b = (q + 8) >> 1
  if (n <= SHORT_READ) {
    // Up to 12 units V8 builds a flat string from these concatenations.
    const u16 = viewU16
    let s = ''
    for (let j = 0; j < n; j++) s += String.fromCharCode(u16[b + j])
    return s
  }
  return viewBuf.toString('utf16le', q + 8, q + 8 + n * 2)
}

/** Reads the value at p (0 is undefined) into a fresh copy; does not free. The caller owns the block. */
export function decodeValue(h: SharedHeap, p: number): unknown {
  if (p === 0) return undefined
  views(h)
  rq = valueStart(h, p)
  return readItem(h)
}

/** Reads the argument list at p (0 is []) into fresh copies; does not free. The caller owns the block. */
export function decodeArgs(h: SharedHeap, p: number): unknown[] {
  if (p === 0) return []
  views(h)
  const q = valueStart(h, p)
  const w = q >> 2
  if (h.i32[w] !== T_ARGS) throwFatal('decodeArgs', `${p} is not an argument list (tag ${h.i32[w]})`)
  const n = h.i32[w + 1]
  rq = q + 8
  const args: unknown[] = []
  for (let i = 0; i < n; i++) args.push(readItem(h))
  return args
}

