// codec: values in the shared heap, so that a value written by one thread is
// read by another (goroutine arguments and results, channel values). This
// file is the block format; the codec's other files are one concept each:
//
//	format.ts      the items of a block, and what encoding and decoding share
//	serializer.ts  V8's serializer as the codec uses it (CloneFailure, typed arrays)
//	handles.ts     shared handles: kHandle, the kinds registered per thread, the walk that finds handles
//	errors.ts      error records: an Error's class, name, message, stack, cause, properties
//	encode.ts      plan (the first pass, onto a tape) and write (the second, into a block)
//	decode.ts      reading a block with one cursor
//	block.ts       a block's handle prefix and freeValue
//	sabs.ts        SharedArrayBuffers: ids in the block, the buffers by message
//
// A value crosses isolates by copy, with structured-clone semantics (what
// postMessage and structuredClone do): encodeValue writes it into one malloc
// block of the arena and returns the block's pointer, decodeValue builds a
// fresh copy from it on any thread, freeValue gives the block back. The
// pointer 0 means `undefined` and owns no block. encodeArgs/decodeArgs do the
// same for an argument list, in one block (0 for an empty list); each
// argument is a clone of its own (an object passed twice arrives as two).
//
// Items. A block holds one item (encodeValue) or an ARGS item followed by its
// arguments (encodeArgs). Every item starts on an 8-byte boundary with two
// int32 words, a tag and an aux word, and its payload follows, padded to 8:
//
//	tag        aux            payload                          bytes
//	UNDEF      0              -                                8
//	NULL       0              -                                8
//	FALSE      0              -                                8
//	TRUE       0              -                                8
//	INT32      the value      -                                8
//	FLOAT64    0              float64                          16
//	BIGINT64   0              int64 (two int32 words, lo hi)   16
//	BIGPOS     n words        |v| in n uint32 words, low first 8 + 4n, padded
//	BIGNEG     n words        the same, for v < -2^63          8 + 4n, padded
//	STRING     n code units   UTF-16 code units                8 + 2n, padded
//	ARRAY      n elements     - (n items follow)               8
//	OBJECT     n properties   - (n pairs follow: a STRING key, a value item)
//	DATE       0              float64 time value               16
//	VIEW       n bytes        kind word, 0, the n bytes        16 + n, padded
//	V8         n bytes        v8.serialize bytes               8 + n, padded
//	ERROR      n bytes        v8.serialize bytes of an error record (errors.ts)
//	ARGS       n arguments    - (n items follow)               8
//	HANDLE     kind           int32 ptr, 0                     16
//	SAB        0              int32 id, 0                      16
//	SAB        view kind + 1  id, 0, f64 byteOffset, f64 length 32
//	POSTED     0              int32 id, 0                      16
//
// SAB is shared memory: a SharedArrayBuffer, or a view over one (a typed
// array's length in elements, a DataView's or Buffer's in bytes); POSTED a
// value that went to V8 whole and holds shared memory. The id names what
// sabs.ts posted to every thread of the runtime.
//
// A block whose value holds counted handles or SharedArrayBuffer ids starts
// with a prefix, [HREFS, n, kind, ptr, ...], before its item (block.ts); an
// id's entry is (HREF_SAB, id).
//
// Items follow each other in pre-order, so a block is read front to back with
// one cursor. Numbers that are int32 (but not -0) take INT32, the others
// FLOAT64 (NaN, -0 and the infinities survive; a NaN's payload need not).
// Strings are UTF-16 code units, so lone surrogates survive: UTF-8 through
// TextEncoder would turn them into U+FFFD, and so does a 'utf-16le'
// TextDecoder. Short strings are copied by a JS loop, longer ones by Buffer's
// native UTF-16 copy (a Buffer over the heap): 1 KB costs 90 ns to write and
// 210-230 ns to read, whatever its characters. UTF-8 (TextEncoder.encodeInto,
// TextDecoder on a view of the heap, which Node 20 accepts) is a little
// faster for pure ASCII (100 + 170 ns) but 7x slower as soon as there is
// non-ASCII text (650 + 1900 ns for Latin-1 letters), and checking first that
// a string is ASCII costs as much as the UTF-16 copy saves below 64 KB.
//
// Who may call. Any thread, on a block it owns. encodeValue/encodeArgs give
// the caller a block that only it knows; it publishes the pointer to another
// thread with a synchronizing store (a channel's lock, the run queue's
// releasing tail store, an Atomics.store), which orders the block's plain
// writes before the reader's plain reads. decodeValue/decodeArgs only read;
// the caller must own the block (it received the pointer through such a
// handoff) and nobody may free it meanwhile. freeValue: the block's last
// owner, once.
//
// Per thread: one tape, reused (a small value allocates nothing but its
// block); a getter that encodes re-entrantly gets a fresh tape. A cache of
// recently decoded property names (readKey).

import type { SharedHeap } from '../heap.js'

// Item tags. 0 is not a tag, so a zeroed or stray block is caught.
export const T_UNDEF = 1
export const T_NULL = 2
export const T_FALSE = 3
export const T_TRUE = 4
export const T_INT32 = 5
export const T_FLOAT64 = 6
export const T_BIGINT64 = 7
export const T_BIGPOS = 8
export const T_BIGNEG = 9
export const T_STRING = 10
export const T_ARRAY = 11
export const T_OBJECT = 12
export const T_V8 = 13
export const T_ERROR = 14
export const T_ARGS = 15
export const T_DATE = 16
export const T_VIEW = 17
export const T_HANDLE = 18
/** A block's prefix, before its value: [T_HREFS, n, kind, ptr, ...], the counted handles in it (refs.ts) and its SharedArrayBuffer ids. */
export const T_HREFS = 19
export const T_SAB = 20
export const T_POSTED = 21

/** The kind word of a prefix entry that holds a SharedArrayBuffer id (sabs.ts), not a handle: handle kinds are never negative. */
export const HREF_SAB = -1

/** The item tags, for tests and heap dumps. */
export const CodecTag = {
  UNDEF: T_UNDEF, NULL: T_NULL, FALSE: T_FALSE, TRUE: T_TRUE, INT32: T_INT32, FLOAT64: T_FLOAT64,
  BIGINT64: T_BIGINT64, BIGPOS: T_BIGPOS, BIGNEG: T_BIGNEG, STRING: T_STRING, ARRAY: T_ARRAY,
  OBJECT: T_OBJECT, V8: T_V8, ERROR: T_ERROR, ARGS: T_ARGS, DATE: T_DATE, VIEW: T_VIEW, HANDLE: T_HANDLE, HREFS: T_HREFS,
  SAB: T_SAB, POSTED: T_POSTED,
} as const

/** Objects (arrays, plain objects, errors, views) the fast path takes in one value before handing it to V8. */
export const FAST_CONTAINERS = 1 << 16
/**
 * Longer arrays go to V8: item by item costs 30-90 ns an element (Object.keys
 * alone, the check for named properties, 35 ns), V8 25 ns an element of a
 * number array once past its fixed 5 µs; 10^5 doubles take 8.9 ms here, 2.5 ms
 * through V8.
 */
export const FAST_ARRAY = 1024
/** Arrays and objects nested deeper than this go to V8 (decoding recurses as deep as encoding). */
export const FAST_DEPTH = 256
/** Up to this many objects, the identity check is a linear scan; beyond, a Set. */
export const LINEAR_SEEN = 32
/** Strings up to this length are written by a JS loop; longer ones by Buffer's native UTF-16 copy. */
export const SHORT_WRITE = 16
/** Strings up to this length are read by a JS loop; longer ones by Buffer's native UTF-16 decode. */
export const SHORT_READ = 12
/** Errors in one error record (its causes, aggregated errors, properties) beyond this many are left to V8. */
export const ERROR_RECORDS = 32
/**
 * findHandle reads the elements of arrays up to this long by index, without
 * Object.keys (which costs more than V8's whole copy); longer ones, which may
 * be sparse (new Array(2 ** 32 - 1)), by Object.keys.
 */
export const WALK_DENSE = 1 << 20

export const MIN_INT64 = -(2n ** 63n)
export const MAX_INT64 = 2n ** 63n - 1n

export const align8 = (n: number): number => (n + 7) & ~7
export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

// ---------------------------------------------------------------------------
// Views. h has i32, f64 and u8; strings want a Uint16Array and a Buffer over
// the same buffer. One heap per thread is the normal case, so a one-entry
// cache keyed by the SharedArrayBuffer keeps this to a compare.

export let viewSab: SharedArrayBuffer | undefined
export let viewU16: Uint16Array = new Uint16Array(0)
export let viewBuf: Buffer = Buffer.alloc(0)

export function views(h: SharedHeap): void {
  if (h.sab !== viewSab) {
    viewU16 = new Uint16Array(h.sab)
    viewBuf = Buffer.from(h.sab)
    viewSab = h.sab
  }
}

// A bigint that fits 64 bits goes through this scratch pair: no BigInt
// arithmetic, no allocation.
export const scratch64 = new BigInt64Array(1)
export const scratch32 = new Int32Array(scratch64.buffer)

export const WasmModule = (globalThis as { WebAssembly?: { Module: abstract new (...a: never[]) => object } }).WebAssembly?.Module

/** Node's ArrayBufferView kinds (lib/v8.js arrayBufferViewTypeToIndex), by Object.prototype.toString. */
export const VIEW_KINDS: readonly string[] = [
  '[object Int8Array]', '[object Uint8Array]', '[object Uint8ClampedArray]', '[object Int16Array]',
  '[object Uint16Array]', '[object Int32Array]', '[object Uint32Array]', '[object Float32Array]',
  '[object Float64Array]', '[object DataView]', 'Buffer', '[object BigInt64Array]', '[object BigUint64Array]',
]
export const VIEW_BUFFER = 10
export const VIEW_DATAVIEW = 9
export type ViewCtor = new (b: ArrayBuffer) => ArrayBufferView
export const VIEW_CTORS: ReadonlyArray<ViewCtor | undefined> = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
  Float64Array, DataView, undefined, BigInt64Array, BigUint64Array,
]
export const objectTag = (o: object): string => Object.prototype.toString.call(o)
export const dateValue = Date.prototype.getTime
