// codec: encoding, in two passes: plan a value onto a tape, then write the
// tape into one malloc block.
//
// The fast path. Primitives, plain arrays and objects (prototype
// Array.prototype or Object.prototype), Dates, typed arrays, DataViews and
// Buffers, nested in any way, are written item by item without V8's
// serializer: that costs about 5 µs for even a small value on these machines
// (v8.serialize 1.7 µs, v8.deserialize 1 µs, and the garbage collection of
// the native serializer objects), where the fast path takes 0.5 µs for
// {a: 1, b: [1, 2]}. Everything else (Map, Set, RegExp, ArrayBuffer, boxed
// primitives, class instances, ...) is handed to V8's serializer whole, as
// one V8 item, so its semantics are V8's exactly. The fast path hands a value
// to V8 rather than approximate it: an array with holes or named properties
// (a RegExp match), an object with an own "__proto__" key, an arguments
// object, a proxy, an object reached twice (structured clone keeps the
// sharing, and cycles), an array longer than FAST_ARRAY (V8 is faster
// there), nesting deeper than FAST_DEPTH, more than FAST_CONTAINERS objects.
// A VIEW item keeps what Node's serializer keeps of a view: its kind
// (numbered as in Node's lib/v8.js) and a copy of the bytes it sees; so a
// Buffer comes back a Buffer (structuredClone would make it a Uint8Array). A
// DATE keeps the time value.
//
// Two passes. Encoding first walks the value (plan), reading each property
// once and recording what to write on a tape: tags, aux words, strings,
// bigints, serialized bytes, and the total size. Then it mallocs one block
// and writes the tape into it (write), touching no user object: a getter that
// would return a longer string the second time cannot make the write overrun
// the block, and nothing is allocated in the arena until every part of the
// value is known to be cloneable. An uncloneable value throws before malloc
// and leaks nothing. When the fast path gives a value up to V8 midway, V8
// reads it again, after the search for handles (handles.ts) has: its getters run
// three times.
//
// Shared memory. A SharedArrayBuffer, or a view over one, is a SAB item: an
// id, the buffer itself going to every thread by message (sabs.ts); ids are
// taken and posted by commit, after malloc. A value that goes to V8 whole
// and holds shared memory goes whole by message (a POSTED item), since V8's
// deserializer cannot take a SharedArrayBuffer back; so does a view of a
// growable SharedArrayBuffer (its length-tracking survives only a structured
// clone). The same SharedArrayBuffer twice in one block is one id.
//
// Uncloneables. A function, a symbol, a WeakMap, a proxy, a MessagePort, or
// an object that holds one, throws a DOMException named 'DataCloneError'
// (the class structuredClone throws) that says, on one line, what could not
// be cloned (and which argument, for encodeArgs), before anything is
// allocated or posted. An exception thrown by a getter propagates
// unchanged. One hole: Node's serializer writes nothing for a
// WebAssembly.Module and its deserializer then fails; the fast path refuses
// one, but inside a value that goes to V8 whole it fails only when decoded.

import { types } from 'node:util'
import type { SharedHeap } from '../heap.js'
import { counted, retain } from '../refs.js'
import { free, malloc, neverFits, tryMalloc } from '../malloc.js'
import {
  T_ARGS, T_ARRAY, T_BIGINT64, T_BIGNEG, T_BIGPOS, T_DATE, T_ERROR, T_FALSE, T_FLOAT64, T_HANDLE, T_HREFS, T_INT32,
  T_NULL, T_OBJECT, T_POSTED, T_SAB, T_STRING, T_TRUE, T_UNDEF, T_V8, T_VIEW,
  FAST_ARRAY, FAST_CONTAINERS, FAST_DEPTH, HREF_SAB, LINEAR_SEEN, MAX_INT64, MIN_INT64, SHORT_WRITE, VIEW_BUFFER, VIEW_DATAVIEW, VIEW_KINDS,
  WasmModule, align8, dateValue, objectTag, scratch32, scratch64, viewBuf, viewU16, views,
} from './format.js'
import { errorBytes, isError } from './errors.js'
import { dropHeld } from './block.js'
import { sabdrop, sabpost } from './sabs.js'
import { findHandle, handleFailure, handleMethod, objectName, validHandleRef, type HandleRef } from './handles.js'
import { CloneFailure, dataCloneError, v8bytes, type SharedFound } from './serializer.js'

// ---------------------------------------------------------------------------
// The tape: what plan found and write will store, one entry per item.

class Tape {
  /** The heap the value is being encoded into: a handle of another heap is refused (planHandle). */
  heap: SharedHeap | undefined
  n = 0
  bytes = 0
  tag = new Int32Array(64)
  aux = new Int32Array(64)
  /** Per entry: the number, string, hex digits or bytes that write stores. */
  val: unknown[] = []
  /** Objects met so far in the value being planned (identity check): the first LINEAR_SEEN, then all in seenSet. */
  seen: object[] = []
  nseen = 0
  seenSet = new Set<object>()
  /** Arrays and objects open in the value being planned. */
  depth = 0
  /** The value holds handles: the fast path lifts its size limits (FAST_ARRAY, FAST_CONTAINERS) rather than give up. */
  force = false
  /** What commit posts (sabs.ts), by slot: SharedArrayBuffers and POSTED values. SAB and POSTED entries hold a slot. */
  sabVals: unknown[] = []
  /** The slot of each SharedArrayBuffer in sabVals: one id per buffer in a block. */
  sabSlots = new Map<SharedArrayBuffer, number>()

  push(tag: number, aux: number, val: unknown, bytes: number): void {
    const i = this.n
    if (i === this.tag.length) {
      const t = new Int32Array(i * 2)
      t.set(this.tag)
      this.tag = t
      const a = new Int32Array(i * 2)
      a.set(this.aux)
      this.aux = a
    }
    this.tag[i] = tag
    this.aux[i] = aux
    this.val[i] = val
    this.n = i + 1
    this.bytes += bytes
  }

  /** Drops references to the user's strings and bytes. */
  clear(): void {
    const val = this.val
    for (let i = 0; i < this.n; i++) val[i] = undefined
    this.n = 0
    this.heap = undefined
    this.bytes = 0
    this.resetSeen()
    if (this.sabVals.length > 0) {
      this.sabVals.length = 0
      this.sabSlots.clear()
    }
  }

  /** The slot of SharedArrayBuffer b (one per buffer in a block). */
  sabSlot(b: SharedArrayBuffer): number {
    let s = this.sabSlots.get(b)
    if (s === undefined) {
      s = this.sabVals.length
      this.sabVals.push(b)
      this.sabSlots.set(b, s)
    }
    return s
  }

  /** A slot for a value that goes whole by message. */
  postedSlot(v: unknown): number {
    this.sabVals.push(v)
    return this.sabVals.length - 1
  }

  resetSeen(): void {
    const n = Math.min(this.nseen, LINEAR_SEEN)
    for (let i = 0; i < n; i++) this.seen[i] = undefined as unknown as object
    if (this.seenSet.size > 0) this.seenSet.clear()
    this.nseen = 0
    this.depth = 0
  }
}

const threadTape = new Tape()
let tapeBusy = false

// ---------------------------------------------------------------------------
// plan: the first pass.

/**
 * Plans one value (the value, or one argument), the fast way if it can, else
 * as one V8 item. Each is a clone of its own: an object shared by two
 * arguments arrives as two copies. Throws CloneFailure.
 */
function planValue(t: Tape, v: unknown): void {
  const n = t.n
  const bytes = t.bytes
  const nsab = t.sabVals.length
  if (planFast(t, v)) {
    t.resetSeen()
    return
  }
  rewind(t, n, bytes, nsab)
  const handle = findHandle(v)
  if (handle !== undefined) {
    // V8 cannot carry it: again, without the size limits, else fail.
    t.force = true
    try {
      if (planFast(t, v)) return
    } finally {
      t.force = false
      t.resetSeen()
    }
    rewind(t, n, bytes, nsab)
    throw handleFailure(handle)
  }
  // Per call: a getter V8 runs may encode re-entrantly.
  const shared: SharedFound = { found: false }
  const b = v8bytes(v, shared)
  if (shared.found) t.push(T_POSTED, 0, t.postedSlot(v), 16)
  else t.push(T_V8, b.length, b, 8 + align8(b.length))
}

/** Drops the entries planned since the tape had n entries, bytes bytes and nsab slots to post. */
function rewind(t: Tape, n: number, bytes: number, nsab: number): void {
  t.resetSeen()
  for (let i = n; i < t.n; i++) t.val[i] = undefined
  t.n = n
  t.bytes = bytes
  const vals = t.sabVals
  for (let s = nsab; s < vals.length; s++) if (t.sabSlots.get(vals[s] as SharedArrayBuffer) === s) t.sabSlots.delete(vals[s] as SharedArrayBuffer)
  vals.length = nsab
}

/** Plans v item by item; false if some part of it needs V8 (the caller rewinds). */
function planFast(t: Tape, v: unknown): boolean {
  switch (typeof v) {
    case 'number':
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) t.push(T_INT32, v, undefined, 8)
      else t.push(T_FLOAT64, 0, v, 16)
      return true
    case 'string':
      t.push(T_STRING, v.length, v, 8 + align8(v.length * 2))
      return true
    case 'boolean':
      t.push(v ? T_TRUE : T_FALSE, 0, undefined, 8)
      return true
    case 'undefined':
      t.push(T_UNDEF, 0, undefined, 8)
      return true
    case 'bigint':
      planBigint(t, v)
      return true
    case 'object':
      if (v === null) {
        t.push(T_NULL, 0, undefined, 8)
        return true
      }
      return planObject(t, v)
    default:
      return false // function, symbol: V8 says what cannot be cloned
  }
}

function planBigint(t: Tape, v: bigint): void {
  if (v >= MIN_INT64 && v <= MAX_INT64) {
    t.push(T_BIGINT64, 0, v, 16)
    return
  }
  const hex = (v < 0n ? -v : v).toString(16)
  const words = (hex.length + 7) >> 3
  t.push(v < 0n ? T_BIGNEG : T_BIGPOS, words, hex, 8 + align8(words * 4))
}

function enter(t: Tape, o: object): boolean {
  const seen = t.seen
  const n = t.nseen
  if (n < LINEAR_SEEN) {
    for (let i = 0; i < n; i++) if (seen[i] === o) return false
    seen[n] = o
    t.nseen = n + 1
    return true
  }
  const set = t.seenSet
  if (n === LINEAR_SEEN) for (let i = 0; i < n; i++) set.add(seen[i])
  if ((n >= FAST_CONTAINERS && !t.force) || set.has(o)) return false
  set.add(o)
  t.nseen = n + 1
  return true
}

function planObject(t: Tape, o: object): boolean {
  if (types.isProxy(o)) return false // V8 refuses proxies; do not run their traps
  // A handle first: most are class instances, which would go to V8.
  const hm = handleMethod(o)
  if (hm !== undefined) {
    planHandle(t, o, hm)
    return true
  }
  const proto = Object.getPrototypeOf(o)
  // On a false return the caller rewinds the whole value, depth included.
  if (proto === Array.prototype) {
    if (!Array.isArray(o) || t.depth === FAST_DEPTH || !enter(t, o)) return false
    const a = o as unknown[]
    const n = a.length
    if (n > FAST_ARRAY && !t.force) return false
    if (Object.keys(a).length !== n) return false // holes or named properties
    t.push(T_ARRAY, n, undefined, 8)
    t.depth++
    for (let i = 0; i < n; i++) {
      const e = a[i]
      if (e === undefined && !(i in a)) return false
      if (!planFast(t, e)) return false
    }
    t.depth--
    return true
  }
  if (proto === Object.prototype) {
    if (types.isArgumentsObject(o) || t.depth === FAST_DEPTH || !enter(t, o)) return false
    const keys = Object.keys(o)
    const n = keys.length
    t.push(T_OBJECT, n, undefined, 8)
    t.depth++
    for (let i = 0; i < n; i++) {
      const k = keys[i]
      if (k === '__proto__') return false // assigning it would set the prototype
      t.push(T_STRING, k.length, k, 8 + align8(k.length * 2))
      if (!planFast(t, (o as Record<string, unknown>)[k])) return false
    }
    t.depth--
    return true
  }
  if (isError(o)) {
    if (!enter(t, o)) return false
    const b = errorBytes(o as Error)
    t.push(T_ERROR, b.length, b, 8 + align8(b.length))
    return true
  }
  if (types.isArrayBufferView(o)) {
    // What Node's serializer does with a view: its kind and a copy of the
    // bytes it sees, nothing else (not its other properties, not the rest of
    // its buffer).
    const kind = o.constructor === Buffer ? VIEW_BUFFER : VIEW_KINDS.indexOf(objectTag(o))
    if (kind < 0 || !enter(t, o)) return false
    const v = o as ArrayBufferView
    const buf = v.buffer
    if (types.isSharedArrayBuffer(buf)) {
      // The same memory, not a copy (sabs.ts). A growable buffer's view goes
      // by structured clone, which keeps whether it tracks the length.
      if ((buf as { growable?: boolean }).growable === true) {
        t.push(T_POSTED, 0, t.postedSlot(o), 16)
        return true
      }
      const len = kind === VIEW_BUFFER || kind === VIEW_DATAVIEW ? v.byteLength : (v as Uint8Array).length
      t.push(T_SAB, kind + 1, t.sabSlot(buf), 32)
      t.push(0, 0, [v.byteOffset, len], 0) // offset and length, written with the item above
      return true
    }
    const n = v.byteLength
    t.push(T_VIEW, n, new Uint8Array(v.buffer, v.byteOffset, n), 16 + align8(n))
    t.push(0, kind, undefined, 0) // the kind word, written with the item above
    return true
  }
  if (types.isSharedArrayBuffer(o)) {
    // Not an object reached (enter): the same buffer twice is one slot, so one object on decoding.
    t.push(T_SAB, 0, t.sabSlot(o), 16)
    return true
  }
  if (types.isDate(o)) {
    // V8 keeps only the time value (and the sharing, as for any object).
    if (!enter(t, o)) return false
    t.push(T_DATE, 0, dateValue.call(o), 16)
    return true
  }
  if (WasmModule !== undefined && o instanceof WasmModule) {
    // Node's serializer writes nothing for one, and its deserializer then
    // fails ("Unable to deserialize cloned data"). Inside a value that goes
    // to V8 whole, it is not caught until decoding.
    throw new CloneFailure('#<Module> could not be cloned.')
  }
  return false
}

/**
 * A HANDLE item for o, a handle whose kHandle method is hm. Not an object
 * reached (enter): the same handle twice is two items. Throws a TypeError if
 * hm does not return a kind and a ptr.
 */
function planHandle(t: Tape, o: object, hm: (this: object) => unknown): void {
  const r = hm.call(o) as Partial<HandleRef> | null | undefined
  if (!validHandleRef(r)) {
    throw new TypeError(`${objectName(o)}[Symbol(gort.handle)]() returned kind ${String(r?.kind)}, ptr ${String(r?.ptr)}: ` +
      'a gort handle needs a non-negative int32 kind and an int32 ptr')
  }
  // A handle names a record of its own heap: in another runtime's heap the
  // same offset is something else (or free memory).
  const own = (o as { heap?: { sab?: unknown } }).heap
  if (own?.sab !== undefined && t.heap !== undefined && own.sab !== t.heap.sab) {
    throw new TypeError(`${objectName(o)} belongs to another runtime: a channel, lock or context can only be passed to goroutines of the runtime that made it (create it with { runtime })`)
  }
  t.push(T_HANDLE, r.kind, r.ptr, 16)
}

// ---------------------------------------------------------------------------
// write: the second pass. No user code runs here.

/**
 * Where write stores a block: the shared heap's views, or those of a
 * staging buffer (a block the arena has no room for yet). Offsets are
 * bytes into dst's buffer either way.
 */
interface Dst {
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly u8: Uint8Array
  readonly u16: Uint16Array
  readonly buf: Buffer
}

/** This thread's Dst for the heap h (one heap per thread is the normal case: a one-entry cache). */
let heapDstCache: Dst | undefined
let heapDstSab: SharedArrayBuffer | undefined

function heapDst(h: SharedHeap): Dst {
  if (h.sab !== heapDstSab) {
    views(h)
    heapDstCache = { i32: h.i32, f64: h.f64, u8: h.u8, u16: viewU16, buf: viewBuf }
    heapDstSab = h.sab
  }
  return heapDstCache!
}

/** A Dst over a fresh buffer of n bytes (a multiple of 8). */
function stageDst(n: number): Dst {
  const ab = new ArrayBuffer(n)
  return { i32: new Int32Array(ab), f64: new Float64Array(ab), u8: new Uint8Array(ab), u16: new Uint16Array(ab), buf: Buffer.from(ab) }
}

function writeTape(dst: Dst, t: Tape, p: number, ids: readonly number[]): void {
  const i32 = dst.i32
  const f64 = dst.f64
  const u16 = dst.u16
  let q = p
  for (let i = 0; i < t.n; i++) {
    const tag = t.tag[i]
    const aux = t.aux[i]
    const w = q >> 2
    i32[w] = tag
    i32[w + 1] = aux
    switch (tag) {
      case T_FLOAT64:
        f64[(q + 8) >> 3] = t.val[i] as number
        q += 16
        break
      case T_BIGINT64:
        scratch64[0] = t.val[i] as bigint
        i32[w + 2] = scratch32[0]
        i32[w + 3] = scratch32[1]
        q += 16
        break
      case T_BIGPOS:
      case T_BIGNEG: {
        const hex = t.val[i] as string
        for (let j = 0, end = hex.length; j < aux; j++, end -= 8) {
          i32[w + 2 + j] = parseInt(hex.slice(Math.max(0, end - 8), end), 16) | 0
        }
        q += 8 + align8(aux * 4)
        break
      }
      case T_STRING: {
        const s = t.val[i] as string
        if (aux <= SHORT_WRITE) {
          const b = (q + 8) >> 1
          for (let j = 0; j < aux; j++) u16[b + j] = s.charCodeAt(j)
        } else {
          dst.buf.write(s, q + 8, 'utf16le')
        }
        q += 8 + align8(aux * 2)
        break
      }
      case T_V8:
      case T_ERROR:
        dst.u8.set(t.val[i] as Buffer, q + 8)
        q += 8 + align8(aux)
        break
      case T_DATE:
        f64[(q + 8) >> 3] = t.val[i] as number
        q += 16
        break
      case T_HANDLE:
        i32[w + 2] = t.val[i] as number
        i32[w + 3] = 0
        q += 16
        break
      case T_SAB:
        i32[w + 2] = ids[t.val[i] as number]
        i32[w + 3] = 0
        if (aux === 0) {
          q += 16
          break
        }
        i++ // the next entry holds the offset and length
        f64[(q + 16) >> 3] = (t.val[i] as number[])[0]
        f64[(q + 24) >> 3] = (t.val[i] as number[])[1]
        q += 32
        break
      case T_POSTED:
        i32[w + 2] = ids[t.val[i] as number]
        i32[w + 3] = 0
        q += 16
        break
      case T_VIEW:
        i++ // the next entry holds the kind
        i32[w + 2] = t.aux[i]
        i32[w + 3] = 0
        dst.u8.set(t.val[i - 1] as Uint8Array, q + 16)
        q += 16 + align8(aux)
        break
      default: // the tag and aux words say it all
        q += 8
    }
  }
}

/** Counted handles on the planned tape: each gets an entry in the block's T_HREFS prefix (block.ts). */
function countedHandles(t: Tape): number {
  let nh = 0
  for (let i = 0; i < t.n; i++) if (t.tag[i] === T_HANDLE && counted(t.aux[i])) nh++
  return nh
}

/** The block's size for the planned tape with nref prefix entries; a RangeError naming heapSize if the arena could never hold it. */
function blockBytes(h: SharedHeap, t: Tape, nref: number): number {
  const bytes = t.bytes + (nref === 0 ? 0 : 8 + nref * 8)
  if (neverFits(h, bytes)) {
    throw new RangeError(`the value needs ${bytes} bytes in the shared heap, more than it can ever hold ` +
      `(heapSize is ${h.layout.arenaBytes} bytes); raise the heapSize option`)
  }
  return bytes
}

/**
 * Writes the planned tape as a block at byte p of dst, with ids the posted
 * SharedArrayBuffer ids by slot. A value holding counted handles (refs.ts)
 * or ids starts with a T_HREFS prefix listing them: the block takes a
 * reference on each handle (a channel in flight is not freed while no
 * handle object stands for it) and owns each id. freeValue drops them.
 */
function writeBlock(h: SharedHeap, dst: Dst, t: Tape, nh: number, p: number, ids: readonly number[]): void {
  const nref = nh + ids.length
  writeTape(dst, t, nref === 0 ? p : p + 8 + nref * 8, ids)
  if (nref === 0) return
  const i32 = dst.i32
  let w = p >> 2
  i32[w] = T_HREFS
  i32[w + 1] = nref
  w += 2
  for (let i = 0; i < ids.length; i++) {
    i32[w] = HREF_SAB
    i32[w + 1] = ids[i]
    w += 2
  }
  for (let i = 0; i < t.n; i++) {
    if (t.tag[i] !== T_HANDLE || !counted(t.aux[i])) continue
    const ptr = t.val[i] as number
    retain(h, t.aux[i], ptr)
    i32[w] = t.aux[i]
    i32[w + 1] = ptr
    w += 2
  }
}

/** Mallocs a block for the planned tape and writes it (malloc's RangeError if the arena is full). */
function commit(h: SharedHeap, t: Tape): number {
  const nh = countedHandles(t)
  return writeArena(h, t, nh, malloc(h, blockBytes(h, t, nh + t.sabVals.length)))
}

/**
 * Posts what the tape holds for sabs.ts and returns the ids by slot. If a
 * post throws (a POSTED value structured clone refuses), the ids posted
 * already are dropped.
 */
function postSabs(h: SharedHeap, t: Tape): number[] {
  const ids: number[] = []
  try {
    for (const v of t.sabVals) ids.push(sabpost(h, v))
  } catch (e) {
    for (const id of ids) sabdrop(h, id)
    throw e
  }
  return ids
}

/** Writes the planned tape into arena block p, freeing p if that fails. Returns p. */
function writeArena(h: SharedHeap, t: Tape, nh: number, p: number): number {
  try {
    writeBlock(h, heapDst(h), t, nh, p, t.sabVals.length === 0 ? NO_IDS : postSabs(h, t))
  } catch (e) {
    free(h, p)
    throw e
  }
  return p
}

const NO_IDS: readonly number[] = []

/**
 * A block that did not fit the arena yet, written in memory of this
 * thread, exactly as it will be in the arena (its bytes hold no address of
 * their own, so they can be copied anywhere): it holds the references its
 * handles need meanwhile. Made by encodeArgsOrStage; commitStaged moves it
 * into the arena, dropStaged gives it up.
 */
export interface StagedBlock {
  readonly bytes: Uint8Array
}

/** commit, or, if the arena has no room now (or `now` is false), a StagedBlock. */
function commitOrStage(h: SharedHeap, t: Tape, now: boolean): number | StagedBlock {
  const nh = countedHandles(t)
  const bytes = blockBytes(h, t, nh + t.sabVals.length)
  const p = now ? tryMalloc(h, bytes, true) : 0
  if (p !== 0) return writeArena(h, t, nh, p)
  const dst = stageDst(bytes)
  writeBlock(h, dst, t, nh, 0, t.sabVals.length === 0 ? NO_IDS : postSabs(h, t))
  return { bytes: dst.u8 }
}

// ---------------------------------------------------------------------------
// The API.

/**
 * Copies v into a new block of the shared heap's arena and returns its
 * pointer; 0 for undefined (no block). Any thread. Throws a DOMException
 * 'DataCloneError' if v cannot be cloned, a RangeError naming heapSize if the
 * arena is full; in both cases nothing stays allocated.
 */
export function encodeValue(h: SharedHeap, v: unknown): number {
  if (v === undefined) return 0
  const t = tapeBusy ? new Tape() : threadTape
  const mine = t === threadTape
  tapeBusy = true
  t.heap = h
  try {
    planValue(t, v)
    return commit(h, t)
  } catch (e) {
    if (e instanceof CloneFailure) throw dataCloneError(e, '')
    throw e
  } finally {
    t.clear()
    if (mine) tapeBusy = false
  }
}

/**
 * Copies an argument list into one block and returns its pointer; 0 for an
 * empty list. Any thread. Throws as encodeValue does, the message naming the
 * argument that could not be cloned.
 */
export function encodeArgs(h: SharedHeap, args: readonly unknown[]): number {
  return encodeArgsOrStage(h, args, null) as number
}

/**
 * encodeArgs for a caller that can wait for arena space (the host's
 * spawns, arenawait.ts): when the arena has no room for the block now (it
 * asks for a collection), or `now` is false (others wait already), the
 * block is written to a StagedBlock instead, for commitStaged later. With
 * `now` null it is encodeArgs (malloc's RangeError when full). Throws
 * DataCloneError, or a RangeError naming heapSize when the block could
 * never fit; nothing stays allocated or referenced then.
 */
export function encodeArgsOrStage(h: SharedHeap, args: readonly unknown[], now: boolean | null): number | StagedBlock {
  const n = args.length
  if (n === 0) return 0
  const t = tapeBusy ? new Tape() : threadTape
  const mine = t === threadTape
  tapeBusy = true
  t.heap = h
  let i = 0
  try {
    t.push(T_ARGS, n, undefined, 8)
    for (; i < n; i++) planValue(t, args[i])
    return now === null ? commit(h, t) : commitOrStage(h, t, now)
  } catch (e) {
    if (e instanceof CloneFailure) throw dataCloneError(e, `argument ${i}: `)
    throw e
  } finally {
    t.clear()
    if (mine) tapeBusy = false
  }
}

/**
 * Moves a staged block into the arena: its pointer, or 0 if the arena has
 * no room for it yet. It takes the space only if as much again stays free
 * (tryMalloc's headroom): the waiting spawns it serves leave room for the
 * results and channel values of the goroutines running, which cannot wait.
 * Any thread, the block's owner.
 */
export function commitStaged(h: SharedHeap, s: StagedBlock): number {
  const p = tryMalloc(h, s.bytes.length, false, s.bytes.length)
  if (p !== 0) h.u8.set(s.bytes, p)
  return p
}

/** Gives up a staged block: drops the references and ids it held (block.ts's prefix). Its owner, once. */
export function dropStaged(h: SharedHeap, s: StagedBlock): void {
  const i32 = new Int32Array(s.bytes.buffer, s.bytes.byteOffset, s.bytes.length >> 2)
  if (i32[0] !== T_HREFS) return
  dropHeld(h, i32.subarray(2, 2 + i32[1] * 2))
}
