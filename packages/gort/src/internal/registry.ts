// Goroutine functions: registration by module URL and export name, and the
// shared function table that turns them into small integers every M agrees on.
//
// A goroutine that has not started is only data (docs/design/scheduler.md,
// "The one constraint"): G.fn names its
// function by an index into the function table, whose entry points to the
// key "moduleURL#name" in the arena. An M that meets an index it does not
// know reads the key, imports the module (whose top level calls goroutines()
// again, in this thread), and finds the function. Each thread caches both
// directions, so the table (under sched.lock) is read once per function per
// thread.

import type { SharedHeap } from './heap.js'
import { schedw, SCHED_LOCK, SCHED_NFUNCS } from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { decodeValue } from './codec/decode.js'
import { encodeValue } from './codec/encode.js'

const kGoroutine = Symbol.for('gort.goroutine')

export interface Meta {
  readonly url: string
  readonly name: string
  readonly key: string
  /** The heap (SharedHeap.serial) this thread last looked the function up in, and its id there (funcid's fast path). */
  heap?: number
  id?: number
}

/** A generator function that can start a goroutine. */
export type GoroutineFn<A extends unknown[] = any[], R = unknown> = (...args: A) => Generator<unknown, R, any>

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor as FunctionConstructor

/** Whether f is a generator function (including generator methods). */
export function isGeneratorFunction(f: unknown): f is GoroutineFn {
  return typeof f === 'function' && f instanceof GeneratorFunction
}

// The functions registered in this thread, by key. The table indexes are
// per heap, cached in SharedHeap.funcCache.
const byKey = new Map<string, GoroutineFn>()

/**
 * Registers the generator functions of a goroutine module, so that any M can
 * start them, and returns them unchanged (typed as given).
 *
 * Types: TypeScript infers each goroutine's result, except for one that
 * `yield*`s or returns a sibling through the object being defined (`fib`
 * below): the object's type would depend on itself (TS7022/TS7023), so
 * write that goroutine's return type as `Generator<unknown, R>`. Spawning
 * a sibling with `go(tasks.x, ...)` needs no annotation, nor does calling
 * into another goroutines() object: declare helpers first in one of their
 * own and the callers stay unannotated.
 *
 * @param moduleUrl the module's own URL: pass `import.meta.url`
 * @example
 * export const tasks = goroutines(import.meta.url, {
 *   *fib(n: number): Generator<unknown, number> {
 *     return n < 2 ? n : (yield* tasks.fib(n - 1)) + (yield* tasks.fib(n - 2))
 *   },
 *   *fanout(n: number) { for (let i = 0; i < n; i++) go(tasks.fib, 20); return n },
 * })
 */
export function goroutines<T extends Record<string, GoroutineFn>>(moduleUrl: string, fns: T): T {
  if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
    throw new TypeError(`goroutines: moduleUrl must be the module's URL (pass import.meta.url), got ${String(moduleUrl)}`)
  }
  if (fns === null || typeof fns !== 'object') throw new TypeError('goroutines: expected an object of generator functions')
  for (const [name, fn] of Object.entries(fns)) {
    if (!isGeneratorFunction(fn)) {
      throw new TypeError(`goroutines: ${name} is not a generator function (write it as *${name}(...) { ... })`)
    }
    const key = `${moduleUrl}#${name}`
    const had = (fn as unknown as Record<symbol, Meta | undefined>)[kGoroutine]
    if (had !== undefined && had.key !== key) {
      throw new TypeError(`goroutines: ${name} is already registered as ${had.key}`)
    }
    const other = byKey.get(key)
    if (other !== undefined && other !== fn) {
      throw new TypeError(`goroutines: ${name} is registered twice in ${moduleUrl}; goroutine names must be unique within a module`)
    }
    if (had === undefined) Object.defineProperty(fn, kGoroutine, { value: { url: moduleUrl, name, key } satisfies Meta })
    byKey.set(key, fn)
  }
  return fns
}

/** The registration of fn, or undefined if goroutines() did not register it. */
export function goroutineMeta(fn: unknown): Meta | undefined {
  return typeof fn === 'function' ? (fn as unknown as Record<symbol, Meta | undefined>)[kGoroutine] : undefined
}

/** Describes fn for an error message. */
export function describeFn(fn: unknown): string {
  if (typeof fn === 'function') return fn.name ? `function ${fn.name}` : 'an anonymous function'
  if (fn === undefined || fn === null) return String(fn)
  return typeof fn === 'object' ? 'an object' : `a ${typeof fn}`
}

/**
 * The function table index of a registered goroutine function, adding it to
 * the shared table on first use. Any thread.
 */
export function funcid(h: SharedHeap, meta: Meta): number {
  if (meta.heap === h.serial) return meta.id!
  const idByKey = h.funcCache.ids
  const id = idByKey.get(meta.key)
  if (id !== undefined) {
    meta.heap = h.serial
    meta.id = id
    return id
  }
  const m = h.i32
  const l = h.layout
  lock(m, schedw(l, SCHED_LOCK))
  try {
    const n = m[schedw(l, SCHED_NFUNCS)]
    for (let i = 0; i < n; i++) {
      const k = keyOf(h, i)
      if (k === meta.key) {
        idByKey.set(meta.key, i)
        return i
      }
    }
    if (n >= l.maxFuncs) {
      throw new RangeError(`go: more than ${l.maxFuncs} goroutine functions; raise the maxFuncs option`)
    }
    m[l.funcs + n] = encodeValue(h, meta.key)
    Atomics.store(m, schedw(l, SCHED_NFUNCS), n + 1)
    idByKey.set(meta.key, n)
    h.funcCache.keys[n] = meta.key
    return n
  } finally {
    unlock(m, schedw(l, SCHED_LOCK))
  }
}

function keyOf(h: SharedHeap, id: number): string {
  let k = h.funcCache.keys[id]
  if (k === undefined) {
    k = decodeValue(h, Atomics.load(h.i32, h.layout.funcs + id)) as string
    h.funcCache.keys[id] = k
  }
  return k
}

/** The function for a table index, if its module is loaded in this thread. */
export function funcById(h: SharedHeap, id: number): GoroutineFn | undefined {
  let fn = h.funcCache.fns[id]
  if (fn === undefined) {
    fn = byKey.get(keyOf(h, id))
    if (fn !== undefined) {
      h.funcCache.fns[id] = fn
      h.funcCache.ids.set(keyOf(h, id), id)
    }
  }
  return fn
}

/** The module URL and export name behind a table index. */
export function funcKey(h: SharedHeap, id: number): { url: string; name: string } {
  const k = keyOf(h, id)
  const i = k.lastIndexOf('#')
  return { url: k.slice(0, i), name: k.slice(i + 1) }
}
