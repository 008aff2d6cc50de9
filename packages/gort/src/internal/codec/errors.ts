// codec: error records.
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
// Recognisable errors (registerError). A class or a value registered under
// a name, on each thread that registers it, crosses as itself: the record
// carries two more fields,
//
//	[..., known, cls]
//
// known: the name of a registered value (a sentinel such as Go's
// context.Canceled), which decodes to the decoding thread's object of that
// name, so that `err === Canceled` holds on every thread; cls: the name of
// the nearest registered class on the error's prototype chain, which
// decodes to an instance of the decoding thread's class of that name
// (made with Reflect.construct from its built-in base, without running its
// constructor, then given the record's name, message, stack, properties,
// cause and errors), so that `instanceof` holds. A thread that has not
// registered the name decodes the record as if it had no name: a built-in
// error with the same parts. gort registers its own: context's Canceled and
// DeadlineExceeded (internal/context.ts), FatalError (here). A registered
// value is frozen: it is one object per thread, shared by every goroutine
// there, and the runtime tags a goroutine's failure with its id (goid),
// which must not stick to a shared value.

import { types } from 'node:util'
import { FatalError } from '../throw.js'
import { ERROR_RECORDS, hasOwn } from './format.js'
import { findHandle } from './handles.js'
import { CloneFailure, v8bytes } from './serializer.js'

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

export type ErrorRecord = [
  ctor: number, name: unknown, message: unknown, stack: unknown, props: unknown[], cause: unknown, errors: unknown[] | undefined,
  flags: number, known: string | undefined, cls: string | undefined,
]

// ---------------------------------------------------------------------------
// The registry, per thread.

/** A class registerError accepts: an Error subclass (not a built-in one). */
export type ErrorClass = abstract new (...args: any[]) => Error

/** Registered values by name, and names by value. */
const knownByName = new Map<string, Error>()
const knownName = new WeakMap<object, string>()
/** Registered classes by name, and names by prototype. */
const classByName = new Map<string, ErrorClass>()
const className = new WeakMap<object, string>()

/**
 * Makes errors recognisable across threads: on every thread that registers
 * the same name, an error of a registered class decodes as an instance of
 * that thread's class (`instanceof` holds), and a registered error value
 * decodes as that thread's very object (`===` holds). Register at the top
 * level of the module that defines the class or the value, which every
 * thread that uses them loads (a goroutine module is loaded by the app and
 * by each M that runs its goroutines). Returns its argument.
 *
 * A class is registered under its name (or opts.name); a value needs
 * opts.name, and is frozen (see the file's essay). A thread that did not
 * register a name decodes such errors as built-in errors with the same
 * name, message, stack, cause and own properties. Throws a TypeError for a
 * class that is not an Error subclass, a built-in class, an anonymous class
 * without opts.name, a name another class or value holds on this thread, or
 * a class or value registered under another name; registering the same
 * class or value under the same name again does nothing.
 *
 * @example
 * export class NotFoundError extends Error { constructor(readonly key: string) { super(`${key}: not found`) } }
 * registerError(NotFoundError)
 * export const ErrClosed = registerError(new Error('store closed'), { name: 'store.ErrClosed' })
 */
export function registerError<C extends ErrorClass>(cls: C, opts?: { name?: string }): C
export function registerError<E extends Error>(value: E, opts: { name: string }): E
export function registerError(x: unknown, opts: { name?: string } = {}): unknown {
  const given = opts?.name
  if (given !== undefined && (typeof given !== 'string' || given === '')) {
    throw new TypeError(`registerError: name must be a non-empty string, got ${String(given)}`)
  }
  if (typeof x === 'function') {
    const proto = (x as { prototype?: unknown }).prototype
    if (typeof proto !== 'object' || proto === null || !(proto instanceof Error)) {
      throw new TypeError(`registerError: ${x.name || 'an anonymous function'} is not an Error class (its prototype must inherit from Error.prototype)`)
    }
    if (ERROR_PROTOS.includes(proto)) throw new TypeError(`registerError: ${x.name} is a built-in class; it crosses threads as itself already`)
    const name = given ?? x.name
    if (name === '') throw new TypeError('registerError: an anonymous class needs { name }')
    const had = className.get(proto)
    if (had !== undefined) {
      if (had === name) return x
      throw new TypeError(`registerError: class ${x.name} is registered as '${had}' on this thread already`)
    }
    if (classByName.has(name) || knownByName.has(name)) {
      throw new TypeError(`registerError: the name '${name}' is taken on this thread by another ${classByName.has(name) ? 'class' : 'value'}; pass { name }`)
    }
    classByName.set(name, x as ErrorClass)
    className.set(proto, name)
    return x
  }
  if (typeof x !== 'object' || x === null || !isError(x)) {
    throw new TypeError(`registerError: expected an Error class or an Error value, got ${x === null ? 'null' : typeof x}`)
  }
  if (given === undefined) throw new TypeError('registerError: a value needs { name }, the name it crosses threads under')
  const had = knownName.get(x)
  if (had !== undefined) {
    if (had === given) return x
    throw new TypeError(`registerError: this value is registered as '${had}' on this thread already`)
  }
  if (classByName.has(given) || knownByName.has(given)) {
    throw new TypeError(`registerError: the name '${given}' is taken on this thread by another ${classByName.has(given) ? 'class' : 'value'}`)
  }
  Object.freeze(x)
  knownByName.set(given, x as Error)
  knownName.set(x, given)
  return x
}

/** The name of the nearest registered class on e's prototype chain, if any. */
function registeredClass(e: Error): string | undefined {
  for (let p = Object.getPrototypeOf(e) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const n = className.get(p)
    if (n !== undefined) return n
  }
  return undefined
}

export function isError(v: object): boolean {
  return types.isNativeError(v) || v instanceof Error
}

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
  return [ctor, name, message, stack, props, cause, errors, flags, knownName.get(e), registeredClass(e)]
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

export function errorBytes(e: Error): Buffer {
  try {
    return v8bytes(errorRecord(e, [], false))
  } catch (x) {
    if (!(x instanceof CloneFailure)) throw x
    return v8bytes(errorRecord(e, [], true))
  }
}

const hidden = (value: unknown): PropertyDescriptor => ({ value, writable: true, enumerable: false, configurable: true })

/**
 * Rebuilds the error of a record: this thread's registered value if the
 * record names one (its parts are still read, for the back references that
 * follow), else an instance of this thread's registered class if it names
 * one, else of its built-in class.
 */
export function rebuildError(rec: ErrorRecord, met: Error[]): Error {
  const [ctor, name, message, stack, props, cause, errors, flags, known, cls] = rec
  const hasMessage = (flags & F_MESSAGE) !== 0
  // The stack is replaced below: do not pay for capturing and formatting one
  // here (most of the cost of decoding an error, otherwise).
  const limit = Error.stackTraceLimit
  Reflect.set(Error, 'stackTraceLimit', 0)
  let e: Error
  try {
    const base = ERROR_CTORS[ctor] ?? Error
    const args = ctor === CTOR_DOMEXCEPTION
      ? [hasMessage ? String(message) : '', typeof name === 'string' ? name : 'Error']
      : ctor === CTOR_AGGREGATE ? (hasMessage ? [[], message] : [[]]) : hasMessage ? [message] : []
    const C = cls === undefined ? undefined : classByName.get(cls)
    e = C !== undefined && C.prototype instanceof base
      ? Reflect.construct(base, args, C) as Error
      : new (base as new (...a: unknown[]) => Error)(...args)
  } finally {
    Reflect.set(Error, 'stackTraceLimit', limit)
  }
  if (hasMessage && typeof message !== 'string') Object.defineProperty(e, 'message', hidden(message))
  const value = known === undefined ? undefined : knownByName.get(known)
  met.push(value ?? e)
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
  return value ?? e
}

function fromSlot(s: unknown[], met: Error[]): unknown {
  switch (s[0]) {
    case SLOT_ERROR: return rebuildError(s[1] as ErrorRecord, met)
    case SLOT_SEEN: return met[s[1] as number]
    default: return s[1]
  }
}

// gort's own class: a FatalError on an M reaches the app as a FatalError.
registerError(FatalError, { name: 'gort.FatalError' })
