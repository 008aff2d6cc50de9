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

import { types } from 'node:util'
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

export type ErrorRecord = [ctor: number, name: unknown, message: unknown, stack: unknown, props: unknown[], cause: unknown, errors: unknown[] | undefined, flags: number]

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

export function errorBytes(e: Error): Buffer {
  try {
    return v8bytes(errorRecord(e, [], false))
  } catch (x) {
    if (!(x instanceof CloneFailure)) throw x
    return v8bytes(errorRecord(e, [], true))
  }
}

const hidden = (value: unknown): PropertyDescriptor => ({ value, writable: true, enumerable: false, configurable: true })

export function rebuildError(rec: ErrorRecord, met: Error[]): Error {
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
