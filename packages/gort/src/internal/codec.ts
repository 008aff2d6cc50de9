// codec: values in the shared heap, so that a value written by one thread is
// read by another (goroutine arguments and results, channel values).
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
//	ERROR      n bytes        v8.serialize bytes of an error record (below)
//	ARGS       n arguments    - (n items follow)               8
//	HANDLE     kind           int32 ptr, 0                     16
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
// reads it again, after the search for handles (below) has: its getters run
// three times.
//
// Shared handles. Channels, WaitGroups, mutexes are records in the shared
// heap; a JS object on any thread is a handle to one. An object is a handle
// if it has a property (own or inherited) keyed by kHandle,
// Symbol.for('gort.handle'), whose value is a function; called with the
// object as `this`, it returns {kind, ptr}: kind a non-negative int32 naming
// the class, ptr an int32, the record's byte offset (anything else is a
// TypeError). A handle is a HANDLE item (aux the kind, payload the ptr), on
// the fast path at any depth, checked before anything else an object could
// be (a handle is usually a class instance, which would otherwise go to V8
// whole). Only objects pay for the check, one property load, and it does
// not show: encoding small arrays and objects costs 137 ns an object with
// or without it, and primitives do not check. Decoding calls the function
// registered for the kind on the decoding thread (registerHandleKind); an
// unregistered kind is a FatalError. A handle refers to shared memory, so it
// is not an object "reached twice": the same handle twice is two HANDLE
// items (and comes back as two objects, or one if the decode function says
// so) and does not send the value to V8.
//
// Only the fast path knows handles; V8 would copy one as a plain object of
// its own enumerable properties. So before a value goes to V8 whole, a walk
// over what V8 will read (findHandle: Map keys and values, Set members,
// array elements, own enumerable properties, an error's cause) looks for
// handles. It costs 100-170 ns an object (V8's copy and read back, 340-460
// ns): 3-10% on a small Map's 5 µs, 30-50% on a graph of hundreds of objects,
// nothing to speak of on a long array of numbers. If it finds one, the fast
// path tries again with its size limits lifted (more than FAST_ARRAY
// elements, more than FAST_CONTAINERS objects: an array of 5000 channels is
// fine); if it still gives up (a Map, a Set, a class instance, sharing or a
// cycle, holes, nesting deeper than FAST_DEPTH), the value throws a
// DataCloneError before anything is allocated. The walk also
// refuses a handle in an own property of a Date, RegExp or ArrayBuffer,
// which V8 would drop, and misses one in a named property of an array longer
// than FAST_ARRAY (finding those costs more than V8's whole copy of the
// array). A part of an error record (a property, the cause, an aggregated
// error, the message) that holds a handle is left out, as an uncloneable
// part is.
//
// Errors. V8's serializer keeps an Error's class (only for the seven
// ECMAScript ones), message, stack and cause, and drops everything else: own
// properties such as `code` or `goid`, a custom `name`, AggregateError (it
// comes back a plain Error without `errors`), DOMException (it comes back
// {}). A goroutine's failure must survive the trip, so an Error met by the
// fast path (the value itself, an argument, an element of a plain array or
// object) is written as an ERROR item: the v8 bytes of a record
//
//	[ctor, name, message, stack, props, cause, errors, flags]
//
// where ctor indexes ERROR_CTORS (the nearest built-in class on the
// prototype chain: a subclass comes back as that built-in, with its name),
// props is a flat [key, slot, ...] list of its own enumerable properties
// (and `code` even when not enumerable), and cause and errors (AggregateError)
// are slots. A slot is [kind, value]: 0 a plain value (V8 clones it), 1 a
// nested error record, 2 the index of an error already met in this record
// (e.cause = e, and shared errors, come back shared). A property or cause
// that cannot be cloned is left out rather than making the error itself
// uncloneable (structuredClone leaves out all of them). Errors inside values
// that go to V8 whole get V8's treatment.
//
// Typed arrays from V8. Node's v8.deserialize builds a typed array as a view
// into the buffer it reads, which here is the shared heap itself: the array
// would alias arena memory that is freed and reused. CodecDeserializer copies
// every view into an ArrayBuffer of its own, exactly its size.
//
// Uncloneables. A function, a symbol, a WeakMap, a SharedArrayBuffer, a
// proxy, a MessagePort, or an object that holds one, throws a DOMException
// named 'DataCloneError' (the class structuredClone throws) that says, on one
// line, what could not be cloned (and which argument, for encodeArgs),
// before anything is allocated. An exception thrown by a getter propagates
// unchanged. One hole: Node's serializer writes nothing for a
// WebAssembly.Module and its deserializer then fails; the fast path refuses
// one, but inside a value that goes to V8 whole it fails only when decoded.
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

import { DefaultDeserializer, DefaultSerializer } from 'node:v8'
import { types } from 'node:util'
import type { SharedHeap } from './heap.js'
import { counted, release, retain } from './refs.js'
import { free, malloc, MAX_ALLOC } from './malloc.js'
import { throwFatal } from './throw.js'

// Item tags. 0 is not a tag, so a zeroed or stray block is caught.
const T_UNDEF = 1
const T_NULL = 2
const T_FALSE = 3
const T_TRUE = 4
const T_INT32 = 5
const T_FLOAT64 = 6
const T_BIGINT64 = 7
const T_BIGPOS = 8
const T_BIGNEG = 9
const T_STRING = 10
const T_ARRAY = 11
const T_OBJECT = 12
const T_V8 = 13
const T_ERROR = 14
const T_ARGS = 15
const T_DATE = 16
const T_VIEW = 17
const T_HANDLE = 18
/** A block's prefix, before its value: [T_HREFS, n, kind, ptr, ...], the counted handles in it (refs.ts). */
const T_HREFS = 19

/** The item tags, for tests and heap dumps. */
export const CodecTag = {
  UNDEF: T_UNDEF, NULL: T_NULL, FALSE: T_FALSE, TRUE: T_TRUE, INT32: T_INT32, FLOAT64: T_FLOAT64,
  BIGINT64: T_BIGINT64, BIGPOS: T_BIGPOS, BIGNEG: T_BIGNEG, STRING: T_STRING, ARRAY: T_ARRAY,
  OBJECT: T_OBJECT, V8: T_V8, ERROR: T_ERROR, ARGS: T_ARGS, DATE: T_DATE, VIEW: T_VIEW, HANDLE: T_HANDLE, HREFS: T_HREFS,
} as const

/** Objects (arrays, plain objects, errors, views) the fast path takes in one value before handing it to V8. */
const FAST_CONTAINERS = 1 << 16
/**
 * Longer arrays go to V8: item by item costs 30-90 ns an element (Object.keys
 * alone, the check for named properties, 35 ns), V8 25 ns an element of a
 * number array once past its fixed 5 µs; 10^5 doubles take 8.9 ms here, 2.5 ms
 * through V8.
 */
const FAST_ARRAY = 1024
/** Arrays and objects nested deeper than this go to V8 (decoding recurses as deep as encoding). */
const FAST_DEPTH = 256
/** Up to this many objects, the identity check is a linear scan; beyond, a Set. */
const LINEAR_SEEN = 32
/** Strings up to this length are written by a JS loop; longer ones by Buffer's native UTF-16 copy. */
const SHORT_WRITE = 16
/** Strings up to this length are read by a JS loop; longer ones by Buffer's native UTF-16 decode. */
const SHORT_READ = 12
/** Errors in one error record (its causes, aggregated errors, properties) beyond this many are left to V8. */
const ERROR_RECORDS = 32
/**
 * findHandle reads the elements of arrays up to this long by index, without
 * Object.keys (which costs more than V8's whole copy); longer ones, which may
 * be sparse (new Array(2 ** 32 - 1)), by Object.keys.
 */
const WALK_DENSE = 1 << 20

const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

const align8 = (n: number): number => (n + 7) & ~7

// ---------------------------------------------------------------------------
// Views. h has i32, f64 and u8; strings want a Uint16Array and a Buffer over
// the same buffer. One heap per thread is the normal case, so a one-entry
// cache keyed by the SharedArrayBuffer keeps this to a compare.

let viewSab: SharedArrayBuffer | undefined
let viewU16: Uint16Array = new Uint16Array(0)
let viewBuf: Buffer = Buffer.alloc(0)

function views(h: SharedHeap): void {
  if (h.sab !== viewSab) {
    viewU16 = new Uint16Array(h.sab)
    viewBuf = Buffer.from(h.sab)
    viewSab = h.sab
  }
}

// A bigint that fits 64 bits goes through this scratch pair: no BigInt
// arithmetic, no allocation.
const scratch64 = new BigInt64Array(1)
const scratch32 = new Int32Array(scratch64.buffer)

// ---------------------------------------------------------------------------
// V8's serializer, with Node's host-object handling (typed arrays, Buffers),
// made to report uncloneable values as CloneFailure so that they can be told
// apart from an exception thrown by a getter.

class CloneFailure extends Error {
  /** A message of the codec's own, to be passed on as it is (not V8's "X could not be cloned."). */
  exact = false
}

// Node's serializer calls this._getDataCloneError(message) from C++ and
// `new this._getDataCloneError(message)` from JS; a function declaration
// serves both.
function cloneFailure(message: string): CloneFailure {
  return new CloneFailure(message)
}

// V8 asks the delegate for a SharedArrayBuffer's id; with none, Node lets V8
// throw a plain Error. A SharedArrayBuffer cannot travel as bytes.
function noSharedArrayBuffer(): never {
  throw new CloneFailure('#<SharedArrayBuffer> could not be cloned.')
}

class CodecSerializer extends DefaultSerializer {}
Object.assign(CodecSerializer.prototype, {
  _getDataCloneError: cloneFailure,
  _getSharedArrayBufferId: noSharedArrayBuffer,
})

function v8bytes(v: unknown): Buffer {
  const ser = new CodecSerializer()
  ser.writeHeader()
  ser.writeValue(v)
  return ser.releaseBuffer()
}

// Node's DefaultDeserializer has it; @types/node does not declare it.
const readHostObject = (DefaultDeserializer.prototype as unknown as { _readHostObject(): unknown })._readHostObject

class CodecDeserializer extends DefaultDeserializer {
  /** Node's reader returns a view into the buffer being read (the shared heap); copy it out. */
  _readHostObject(): unknown {
    const view = readHostObject.call(this) as ArrayBufferView
    const n = view.byteLength
    const ab = new ArrayBuffer(n)
    new Uint8Array(ab).set(new Uint8Array(view.buffer, view.byteOffset, n))
    if (Buffer.isBuffer(view)) return Buffer.from(ab)
    return new (view.constructor as new (b: ArrayBuffer) => ArrayBufferView)(ab)
  }
}

function fromV8(h: SharedHeap, at: number, n: number): unknown {
  const des = new CodecDeserializer(new Uint8Array(h.sab, at, n))
  des.readHeader()
  return des.readValue()
}

/**
 * The DataCloneError structuredClone would throw, for V8's message ("X could
 * not be cloned.", or Node's "Unserializable host object: X"), on one line and
 * cut short: X is a function's whole source, or util.inspect of a host object.
 */
function dataCloneError(e: CloneFailure, prefix: string): DOMException {
  const message = e.message
  if (e.exact) return new DOMException(prefix + message, 'DataCloneError')
  const tail = ' could not be cloned.'
  let what = message.replace(/\s+/g, ' ')
  const cloned = what.endsWith(tail)
  if (cloned) what = what.slice(0, -tail.length)
  if (what.length > 120) what = `${what.slice(0, 117)}...`
  return new DOMException(prefix + what + (cloned ? tail : ''), 'DataCloneError')
}

// ---------------------------------------------------------------------------
// Shared handles.

/**
 * The key of a shared handle's method: an object with a function under this
 * key (own or inherited) is a handle, and the function, called with the
 * object as `this`, returns the record it refers to, {kind, ptr}.
 */
export const kHandle: unique symbol = Symbol.for('gort.handle')

/** What a handle's kHandle method returns: its kind (a non-negative int32) and its record's byte offset (an int32). */
export interface HandleRef {
  kind: number
  ptr: number
}

/** An object that is a shared handle. */
export interface SharedHandle {
  [kHandle](): HandleRef
}

/** Makes this thread's handle object for the record at ptr (registerHandleKind). */
export type HandleDecoder = (h: SharedHeap, ptr: number) => object

/** Per thread, by kind. */
const handleDecoders: Array<HandleDecoder | undefined> = []
/** Per thread, by kind: decodings of one record share one handle object (registerHandleKind's shared). */
const sharedKinds: boolean[] = []

export interface HandleKindOptions {
  /**
   * Decodings of the same record on this thread return the same handle
   * object while it is alive, instead of a new object each. For handles
   * with no state of their own beyond the record (a channel, a mutex): a
   * million goroutines started with one channel then hold one Chan on each
   * M, not a million. Only for counted kinds (refs.ts) below 256.
   */
  shared?: boolean
}

/**
 * Registers, for this thread, how a handle of this kind is decoded: decode(h,
 * ptr) returns the handle object for the record at ptr (the same class as the
 * handle encoded, on whichever thread). Registering a kind again replaces its
 * function. Every thread that decodes a kind must register it; encoding does
 * not need it.
 */
export function registerHandleKind(kind: number, decode: HandleDecoder, opts: HandleKindOptions = {}): void {
  if (!Number.isInteger(kind) || kind < 0 || kind > 0x7fffffff) {
    throw new RangeError(`registerHandleKind: kind ${String(kind)} is not a non-negative int32`)
  }
  if (typeof decode !== 'function') throw new TypeError('registerHandleKind: decode is not a function')
  if (opts.shared === true && kind >= SHARED_KIND_LIMIT) {
    throw new RangeError(`registerHandleKind: kind ${kind} cannot be shared: shared kinds are below ${SHARED_KIND_LIMIT}`)
  }
  handleDecoders[kind] = decode
  sharedKinds[kind] = opts.shared === true
}

const SHARED_KIND_LIMIT = 256

/**
 * This thread's live handle objects of shared kinds, per heap, by record
 * and kind (ptr * 256 + kind). Entries whose object was collected are swept
 * when the map has doubled since the last sweep.
 */
const handleCaches = new WeakMap<SharedHeap, { map: Map<number, WeakRef<object>>; sweepAt: number }>()

/**
 * This thread's handle object for the record at ptr. owned: the caller
 * hands over a reference it holds on the record (a G's inline argument),
 * which the new object keeps or, if this thread already has an object for
 * the record, is dropped; otherwise the new object takes a reference of its
 * own (a value block keeps its one).
 */
export function handleObject(h: SharedHeap, kind: number, ptr: number, owned: boolean): object {
  const decode = handleDecoders[kind]
  if (decode === undefined) {
    return throwFatal('decodeValue', `handle kind ${kind} at ${ptr} is not registered on this thread (registerHandleKind)`)
  }
  if (sharedKinds[kind] !== true || ptr === 0) {
    if (!owned) retain(h, kind, ptr)
    return decode(h, ptr)
  }
  let c = handleCaches.get(h)
  if (c === undefined) handleCaches.set(h, c = { map: new Map(), sweepAt: 1024 })
  const key = ptr * SHARED_KIND_LIMIT + kind
  const hit = c.map.get(key)?.deref()
  if (hit !== undefined) {
    // It holds a reference, so the record cannot be freed by this release.
    if (owned) release(h, kind, ptr)
    return hit
  }
  if (!owned) retain(h, kind, ptr)
  const o = decode(h, ptr)
  c.map.set(key, new WeakRef(o))
  if (c.map.size >= c.sweepAt) {
    for (const [k, r] of c.map) if (r.deref() === undefined) c.map.delete(k)
    c.sweepAt = Math.max(1024, c.map.size * 2)
  }
  return o
}

/** o's kind and record if it is a handle (its kHandle method checked as encoding does), else undefined. */
export function handleRefOf(o: unknown): HandleRef | undefined {
  if (o === null || typeof o !== 'object') return undefined
  const hm = handleMethod(o)
  if (hm === undefined) return undefined
  const r = hm.call(o) as Partial<HandleRef> | null | undefined
  return validHandleRef(r) ? r : undefined
}

/** Whether a kHandle method's answer names a record: a non-negative int32 kind and an int32 ptr. */
function validHandleRef(r: Partial<HandleRef> | null | undefined): r is HandleRef {
  const kind = r?.kind
  const ptr = r?.ptr
  return typeof kind === 'number' && (kind | 0) === kind && kind >= 0 && typeof ptr === 'number' && (ptr | 0) === ptr
}

/** o's kHandle method if o is a handle, else undefined. Runs a getter under kHandle; not for proxies. */
function handleMethod(o: object): ((this: object) => unknown) | undefined {
  const f = (o as { [kHandle]?: unknown })[kHandle]
  return typeof f === 'function' ? f as (this: object) => unknown : undefined
}

/** #<Class> for a message, as V8 names objects. */
function objectName(o: object): string {
  let name = 'Object'
  try {
    const c = (o as { constructor?: unknown }).constructor
    if (typeof c === 'function' && typeof c.name === 'string' && c.name !== '') name = c.name
  } catch {
    // a throwing getter: keep 'Object'
  }
  return `#<${name}>`
}

function handleFailure(o: object): CloneFailure {
  const e = new CloneFailure(`${objectName(o)} could not be cloned: gort handles (channels, sync objects) cannot be ` +
    'nested inside a Map/Set/class instance yet, nor anywhere in a value that must go through V8\'s serializer ' +
    '(one with a Map, Set or class instance, a shared or cyclic object, an array with holes, nesting deeper than ' +
    `${FAST_DEPTH})`)
  e.exact = true
  return e
}

/**
 * The first handle V8 would meet when serializing v (and copy as a plain
 * object), or undefined: a walk over what V8 reads (Map keys and values, Set
 * members, array elements, own enumerable properties, an error's cause),
 * and the own enumerable properties of a Date, RegExp or ArrayBuffer, which
 * V8 drops (a handle there is refused too; checking for those classes would
 * cost every class instance 25 ns). Skips proxies (V8 refuses them). Reads
 * properties, so getters run.
 */
function findHandle(v: unknown): object | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  if (threadWalk.busy) return new Walk().find(v) // a getter encoding re-entrantly
  return threadWalk.find(v)
}

const mapForEach = Map.prototype.forEach
const setForEach = Set.prototype.forEach
const objectProto = Object.prototype

/** findHandle's state, reused. */
class Walk {
  busy = false
  /** Objects met: the first LINEAR_SEEN here (a small value allocates nothing), then all in seenSet. */
  seen: object[] = []
  nseen = 0
  seenSet = new Set<object>()
  todo: object[] = []

  /** Whether o was met already; notes it if not. */
  met(o: object): boolean {
    const seen = this.seen
    const n = this.nseen
    if (n < LINEAR_SEEN) {
      for (let i = 0; i < n; i++) if (seen[i] === o) return true
      seen[n] = o
      this.nseen = n + 1
      return false
    }
    const set = this.seenSet
    if (n === LINEAR_SEEN) {
      for (let i = 0; i < n; i++) set.add(seen[i])
      this.nseen = n + 1
    }
    const size = set.size
    return set.add(o).size === size
  }

  visit(x: unknown): void {
    if (typeof x === 'object' && x !== null) this.todo.push(x)
  }

  find(v: object): object | undefined {
    const todo = this.todo
    this.busy = true
    todo.push(v)
    try {
      while (todo.length > 0) {
        const o = todo.pop()!
        if (this.met(o) || types.isProxy(o)) continue
        if (handleMethod(o) !== undefined) return o
        if (Array.isArray(o)) {
          const len = o.length
          if (len > FAST_ARRAY && len <= WALK_DENSE) {
            for (let i = 0; i < len; i++) this.visit(o[i])
            continue
          }
        } else if (Object.getPrototypeOf(o) !== objectProto) {
          // Most likely first; a class instance goes through all of them.
          if (types.isMap(o)) {
            mapForEach.call(o, visitEntry, this)
            continue
          }
          if (types.isSet(o)) {
            setForEach.call(o, this.visit, this)
            continue
          }
          if (types.isNativeError(o)) {
            if (hasOwn(o, 'cause')) this.visit((o as Error).cause)
            continue
          }
          // V8 reads nothing in them; Object.keys would list a view's elements, a String's characters.
          if (types.isArrayBufferView(o) || types.isBoxedPrimitive(o)) continue
        }
        const keys = Object.keys(o)
        for (let i = 0; i < keys.length; i++) this.visit((o as Record<string, unknown>)[keys[i]])
      }
      return undefined
    } finally {
      todo.length = 0
      const n = Math.min(this.nseen, LINEAR_SEEN)
      for (let i = 0; i < n; i++) this.seen[i] = undefined as unknown as object
      if (this.nseen > LINEAR_SEEN) this.seenSet.clear()
      this.nseen = 0
      this.busy = false
    }
  }
}

function visitEntry(this: Walk, x: unknown, k: unknown): void {
  this.visit(k)
  this.visit(x)
}

const threadWalk = new Walk()

// ---------------------------------------------------------------------------
// The tape: what plan found and write will store, one entry per item.

class Tape {
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
    this.bytes = 0
    this.resetSeen()
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
  if (planFast(t, v)) {
    t.resetSeen()
    return
  }
  rewind(t, n, bytes)
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
    rewind(t, n, bytes)
    throw handleFailure(handle)
  }
  const b = v8bytes(v)
  t.push(T_V8, b.length, b, 8 + align8(b.length))
}

/** Drops the entries planned since the tape had n entries and bytes bytes. */
function rewind(t: Tape, n: number, bytes: number): void {
  t.resetSeen()
  for (let i = n; i < t.n; i++) t.val[i] = undefined
  t.n = n
  t.bytes = bytes
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
    const n = v.byteLength
    t.push(T_VIEW, n, new Uint8Array(v.buffer, v.byteOffset, n), 16 + align8(n))
    t.push(0, kind, undefined, 0) // the kind word, written with the item above
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
  t.push(T_HANDLE, r.kind, r.ptr, 16)
}

const WasmModule = (globalThis as { WebAssembly?: { Module: abstract new (...a: never[]) => object } }).WebAssembly?.Module

/** Node's ArrayBufferView kinds (lib/v8.js arrayBufferViewTypeToIndex), by Object.prototype.toString. */
const VIEW_KINDS: readonly string[] = [
  '[object Int8Array]', '[object Uint8Array]', '[object Uint8ClampedArray]', '[object Int16Array]',
  '[object Uint16Array]', '[object Int32Array]', '[object Uint32Array]', '[object Float32Array]',
  '[object Float64Array]', '[object DataView]', 'Buffer', '[object BigInt64Array]', '[object BigUint64Array]',
]
const VIEW_BUFFER = 10
type ViewCtor = new (b: ArrayBuffer) => ArrayBufferView
const VIEW_CTORS: ReadonlyArray<ViewCtor | undefined> = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
  Float64Array, DataView, undefined, BigInt64Array, BigUint64Array,
]
const objectTag = (o: object): string => Object.prototype.toString.call(o)
const dateValue = Date.prototype.getTime

// ---------------------------------------------------------------------------
// Error records.

/** The classes an error comes back as; its record holds an index into this list. */
const ERROR_CTORS = [
  Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError, DOMException,
] as const
const ERROR_PROTOS: readonly object[] = ERROR_CTORS.map((c) => c.prototype as object)
const ERROR_NAMES: readonly string[] = ERROR_CTORS.map((c) => c.name)
const CTOR_AGGREGATE = 7
const CTOR_DOMEXCEPTION = 8

const F_MESSAGE = 1
const F_STACK = 2
const F_CAUSE = 4
const F_ERRORS = 8

const SLOT_VALUE = 0
const SLOT_ERROR = 1
const SLOT_SEEN = 2

type ErrorRecord = [ctor: number, name: unknown, message: unknown, stack: unknown, props: unknown[], cause: unknown, errors: unknown[] | undefined, flags: number]

function isError(v: object): boolean {
  return types.isNativeError(v) || v instanceof Error
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

function ctorOf(e: Error): number {
  for (let p = Object.getPrototypeOf(e) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const i = ERROR_PROTOS.indexOf(p)
    if (i >= 0) return i
  }
  // Another realm's error: go by its name.
  const i = ERROR_NAMES.indexOf(String(e.name))
  return i >= 0 && i !== CTOR_DOMEXCEPTION ? i : 0
}

/** Whether V8 can clone v on its own. Only for the rare error whose record did not clone. */
function cloneable(v: unknown): boolean {
  try {
    v8bytes(v)
    return true
  } catch (e) {
    if (e instanceof CloneFailure) return false
    throw e
  }
}

/**
 * Whether a part of an error record stays in: not if it holds a handle (V8
 * would copy it as a plain object), nor, when safe, if V8 cannot clone it.
 */
function keep(v: unknown, safe: boolean): boolean {
  if (typeof v === 'object' && v !== null && findHandle(v) !== undefined) return false
  return !safe || cloneable(v)
}

/**
 * Builds e's record. `met` lists the errors met so far in this record (slots
 * refer back to them); `safe` leaves out the parts V8 cannot clone. Parts
 * that hold a handle are always left out.
 */
function errorRecord(e: Error, met: Error[], safe: boolean): ErrorRecord {
  met.push(e)
  const ctor = ctorOf(e)
  let flags = 0
  let message: unknown
  if (ctor === CTOR_DOMEXCEPTION || hasOwn(e, 'message')) {
    message = e.message
    if (keep(message, safe)) flags |= F_MESSAGE
    else message = undefined
  }
  let stack: unknown
  if (hasOwn(e, 'stack')) {
    stack = e.stack
    if (keep(stack, safe)) flags |= F_STACK
    else stack = undefined
  }
  let name: unknown = e.name
  if (!keep(name, safe)) name = undefined
  const props: unknown[] = []
  const keys = Object.keys(e)
  if (!keys.includes('code') && hasOwn(e, 'code')) keys.push('code')
  for (const k of keys) {
    const s = slot((e as unknown as Record<string, unknown>)[k], met, safe)
    if (s !== undefined) props.push(k, s)
  }
  let cause: unknown
  if (hasOwn(e, 'cause')) {
    cause = slot(e.cause, met, safe)
    if (cause !== undefined) flags |= F_CAUSE
  }
  let errors: unknown[] | undefined
  if (ctor === CTOR_AGGREGATE && hasOwn(e, 'errors')) {
    const list = (e as AggregateError).errors
    if (Array.isArray(list)) {
      errors = []
      for (const x of list) {
        const s = slot(x, met, safe)
        if (s !== undefined) errors.push(s)
      }
      flags |= F_ERRORS
    }
  }
  return [ctor, name, message, stack, props, cause, errors, flags]
}

/** A slot for v, or undefined when it is not kept (keep). */
function slot(v: unknown, met: Error[], safe: boolean): unknown[] | undefined {
  if (typeof v === 'object' && v !== null && !types.isProxy(v) && isError(v)) {
    const i = met.indexOf(v as Error)
    if (i >= 0) return [SLOT_SEEN, i]
    if (met.length < ERROR_RECORDS) return [SLOT_ERROR, errorRecord(v as Error, met, safe)]
  }
  if (!keep(v, safe)) return undefined
  return [SLOT_VALUE, v]
}

function errorBytes(e: Error): Buffer {
  try {
    return v8bytes(errorRecord(e, [], false))
  } catch (x) {
    if (!(x instanceof CloneFailure)) throw x
    return v8bytes(errorRecord(e, [], true))
  }
}

const hidden = (value: unknown): PropertyDescriptor => ({ value, writable: true, enumerable: false, configurable: true })

function rebuildError(rec: ErrorRecord, met: Error[]): Error {
  const [ctor, name, message, stack, props, cause, errors, flags] = rec
  const hasMessage = (flags & F_MESSAGE) !== 0
  // The stack is replaced below: do not pay for capturing and formatting one
  // here (most of the cost of decoding an error, otherwise).
  const limit = Error.stackTraceLimit
  Reflect.set(Error, 'stackTraceLimit', 0)
  let e: Error
  try {
    if (ctor === CTOR_DOMEXCEPTION) {
      e = new DOMException(hasMessage ? String(message) : '', typeof name === 'string' ? name : 'Error')
    } else if (ctor === CTOR_AGGREGATE) {
      e = hasMessage ? new AggregateError([], message as string) : new AggregateError([])
    } else {
      const C = ERROR_CTORS[ctor] ?? Error
      e = hasMessage ? new (C as ErrorConstructor)(message as string) : new (C as ErrorConstructor)()
    }
  } finally {
    Reflect.set(Error, 'stackTraceLimit', limit)
  }
  if (hasMessage && typeof message !== 'string') Object.defineProperty(e, 'message', hidden(message))
  met.push(e)
  if ((flags & F_STACK) !== 0) Object.defineProperty(e, 'stack', hidden(stack))
  else delete (e as { stack?: string }).stack
  // A name of its own comes with the other properties, in its place.
  if (name !== undefined && e.name !== name && !props.includes('name')) Object.defineProperty(e, 'name', hidden(name))
  for (let i = 0; i < props.length; i += 2) {
    Object.defineProperty(e, props[i] as string, {
      value: fromSlot(props[i + 1] as unknown[], met), writable: true, enumerable: true, configurable: true,
    })
  }
  if ((flags & F_CAUSE) !== 0) Object.defineProperty(e, 'cause', hidden(fromSlot(cause as unknown[], met)))
  if ((flags & F_ERRORS) !== 0) {
    Object.defineProperty(e, 'errors', hidden((errors as unknown[][]).map((s) => fromSlot(s, met))))
  }
  return e
}

function fromSlot(s: unknown[], met: Error[]): unknown {
  switch (s[0]) {
    case SLOT_ERROR: return rebuildError(s[1] as ErrorRecord, met)
    case SLOT_SEEN: return met[s[1] as number]
    default: return s[1]
  }
}

// ---------------------------------------------------------------------------
// write: the second pass. No user code runs here.

function writeTape(h: SharedHeap, t: Tape, p: number): void {
  const i32 = h.i32
  const f64 = h.f64
  const u16 = viewU16
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
          viewBuf.write(s, q + 8, 'utf16le')
        }
        q += 8 + align8(aux * 2)
        break
      }
      case T_V8:
      case T_ERROR:
        h.u8.set(t.val[i] as Buffer, q + 8)
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
      case T_VIEW:
        i++ // the next entry holds the kind
        i32[w + 2] = t.aux[i]
        i32[w + 3] = 0
        h.u8.set(t.val[i - 1] as Uint8Array, q + 16)
        q += 16 + align8(aux)
        break
      default: // the tag and aux words say it all
        q += 8
    }
  }
}

/**
 * Mallocs a block for the planned tape and writes it. A value holding
 * counted handles (refs.ts) starts with a T_HREFS prefix listing them, and
 * the block takes a reference on each: a channel in flight is not freed
 * while no handle object stands for it. freeValue drops them.
 */
function commit(h: SharedHeap, t: Tape): number {
  let nh = 0
  for (let i = 0; i < t.n; i++) if (t.tag[i] === T_HANDLE && counted(t.aux[i])) nh++
  const prefix = nh === 0 ? 0 : 8 + nh * 8
  const bytes = t.bytes + prefix
  if (bytes > MAX_ALLOC) {
    throw new RangeError(`the value needs ${bytes} bytes in the shared heap, more than one block can hold (${MAX_ALLOC})`)
  }
  const p = malloc(h, bytes)
  views(h)
  try {
    writeTape(h, t, p + prefix)
  } catch (e) {
    free(h, p)
    throw e
  }
  if (nh > 0) {
    const i32 = h.i32
    let w = p >> 2
    i32[w] = T_HREFS
    i32[w + 1] = nh
    w += 2
    for (let i = 0; i < t.n; i++) {
      if (t.tag[i] !== T_HANDLE || !counted(t.aux[i])) continue
      const ptr = t.val[i] as number
      retain(h, t.aux[i], ptr)
      i32[w] = t.aux[i]
      i32[w + 1] = ptr
      w += 2
    }
  }
  return p
}

/** Where the value of the block at p starts: after its T_HREFS prefix, if it has one. */
function valueStart(h: SharedHeap, p: number): number {
  const w = p >> 2
  return h.i32[w] === T_HREFS ? p + 8 + h.i32[w + 1] * 8 : p
}

// ---------------------------------------------------------------------------
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

/** Reads the value at p (0 is undefined) into a fresh copy; does not free. The caller owns the block. */
export function decodeValue(h: SharedHeap, p: number): unknown {
  if (p === 0) return undefined
  views(h)
  rq = valueStart(h, p)
  return readItem(h)
}

/**
 * Copies an argument list into one block and returns its pointer; 0 for an
 * empty list. Any thread. Throws as encodeValue does, the message naming the
 * argument that could not be cloned.
 */
export function encodeArgs(h: SharedHeap, args: readonly unknown[]): number {
  const n = args.length
  if (n === 0) return 0
  const t = tapeBusy ? new Tape() : threadTape
  const mine = t === threadTape
  tapeBusy = true
  let i = 0
  try {
    t.push(T_ARGS, n, undefined, 8)
    for (; i < n; i++) planValue(t, args[i])
    return commit(h, t)
  } catch (e) {
    if (e instanceof CloneFailure) throw dataCloneError(e, `argument ${i}: `)
    throw e
  } finally {
    t.clear()
    if (mine) tapeBusy = false
  }
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

/**
 * Frees a block from encodeValue or encodeArgs, and drops the references it
 * held on shared records (which may free them); 0 is a no-op. Its last
 * owner, once.
 */
export function freeValue(h: SharedHeap, p: number): void {
  if (p === 0) return
  const i32 = h.i32
  const w = p >> 2
  if (i32[w] !== T_HREFS) {
    free(h, p)
    return
  }
  const n = i32[w + 1]
  const held = i32.slice(w + 2, w + 2 + n * 2)
  free(h, p)
  for (let i = 0; i < n * 2; i += 2) release(h, held[i], held[i + 1])
}
