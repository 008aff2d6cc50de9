// codec: shared handles.
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

import { types } from 'node:util'
import type { SharedHeap } from '../heap.js'
import { release, retain } from '../refs.js'
import { throwFatal } from '../throw.js'
import { GORT_KINDS, handleKindName } from '../handlekind.js'
import { FAST_ARRAY, FAST_DEPTH, LINEAR_SEEN, WALK_DENSE, hasOwn } from './format.js'
import { CloneFailure } from './serializer.js'

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
    const hint = kind > 0 && kind < GORT_KINDS
      ? `: gort's ${handleKindName(kind)} class registers when gort is imported on this thread (import 'gort' in the goroutine's module)`
      : ' (registerHandleKind)'
    return throwFatal('decodeValue', `handle kind ${kind}${kind < GORT_KINDS ? ` (${handleKindName(kind)})` : ''} at ${ptr} is not registered on this thread${hint}`)
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
export function validHandleRef(r: Partial<HandleRef> | null | undefined): r is HandleRef {
  const kind = r?.kind
  const ptr = r?.ptr
  return typeof kind === 'number' && (kind | 0) === kind && kind >= 0 && typeof ptr === 'number' && (ptr | 0) === ptr
}

/** o's kHandle method if o is a handle, else undefined. Runs a getter under kHandle; not for proxies. */
export function handleMethod(o: object): ((this: object) => unknown) | undefined {
  const f = (o as { [kHandle]?: unknown })[kHandle]
  return typeof f === 'function' ? f as (this: object) => unknown : undefined
}

/** #<Class> for a message, as V8 names objects. */
export function objectName(o: object): string {
  let name = 'Object'
  try {
    const c = (o as { constructor?: unknown }).constructor
    if (typeof c === 'function' && typeof c.name === 'string' && c.name !== '') name = c.name
  } catch {
    // a throwing getter: keep 'Object'
  }
  return `#<${name}>`
}

export function handleFailure(o: object): CloneFailure {
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
export function findHandle(v: unknown): object | undefined {
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
