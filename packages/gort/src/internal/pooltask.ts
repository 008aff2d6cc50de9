// gort/pool's goroutine: runTask (runRef when the pool has interned the
// file and name in the heap), which runs a piscina task file's function on
// an M. The pool (pool.ts, on the app's thread) spawns it with
// rt.run like any registered goroutine, so no scheduler change is needed:
// an M that meets it imports this module by URL, as it would any goroutine
// module.
//
// A task file is piscina's: `module.exports = fn`, `export default fn`, a
// named export picked by `name`, or a Promise of any of those; CommonJS or
// ESM. It needs no gort import and no registration. Its function is called
// with the task (and the task's AbortSignal if it declares a second
// parameter), and:
//   - a generator function runs as this goroutine proper (`yield*`), so
//     channels, select, sleep and go() work inside it;
//   - a Promise result is awaited as gort's netpoller awaits
//     (`yield* until`): the M runs other tasks meanwhile;
//   - anything else is the result.
// What the function did (returned a value, or parked) is told to the pool
// once per M (an M note), for the pool's admission (pool.ts).
// A result wrapped by piscina's Piscina.move() is unwrapped, and the
// buffers it names are detached here as postMessage would detach them
// (pooltransfer.ts's moveOut: the M encodes the clone that holds their
// memory).
//
// Loading a task file. As piscina does, runTask require()s it first (a
// CommonJS file, ESM without top-level await, which Node 20.19+ can
// require, TypeScript when the app runs under tsx, whose require hook the
// M inherits), and imports it only if that fails (TypeScript without that
// hook, through loader.ts; top-level await; a data: URL). require() is synchronous, so the task does
// not park while its file loads: a task that then blocks its thread (a
// synchronous loop, Atomics.wait) has not let its M start other tasks
// meanwhile, which would be stuck behind it (a started goroutine never
// leaves its M); those wait on the P's run queue, free to run on another M.

import { createRequire } from 'node:module'
import { types } from 'node:util'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { isGeneratorFunction, goroutines } from './registry.js'
import { importModule } from './loader.js'
import { OpKind, SchedOp, until } from './ops.js'
import { cancelled } from './cancel.js'
import { postNote } from './mmsg.js'
import { mheap } from './proc.js'
import { decodeValue } from './codec/decode.js'
import { moveOut } from './pooltransfer.js'

/**
 * A task file's function as resolved on this M, and what this M has told
 * the pool about it: KIND_UNKNOWN, KIND_SYNC (it returned a value, or it is
 * a generator that ended without parking: runGen) or KIND_PARKS (a
 * generator that parked, or it returned a Promise). The pool
 * hands tasks of a function known to be synchronous to the runtime well
 * ahead of a free thread, and the others only as slots free (pool.ts,
 * "Admission"); a function is told once per M as synchronous, and once
 * more if it turns out to park (never back).
 */
export interface Handler {
  readonly fn: Function
  readonly filename: string
  readonly name: string
  /** A generator function: run as this goroutine, with yield*. */
  readonly gen: boolean
  /** It declares a second parameter: it gets the task's AbortSignal. */
  readonly signal: boolean
  kind: number
}
const KIND_UNKNOWN = 0
const KIND_SYNC = 1
const KIND_PARKS = 2

/** Handlers already resolved on this M, by "filename#name"; piscina's handlerCache. */
const handlers = new Map<string, Handler>()

/** The note a task function's kind travels in to the pool (mmsg.ts postNote). */
export interface TaskKindNote {
  pool: 'kind'
  filename: string
  name: string
  sync: boolean
}

function tell(h: Handler, kind: number): void {
  if (h.kind === kind || h.kind === KIND_PARKS) return
  h.kind = kind
  postNote({ pool: 'kind', filename: h.filename, name: h.name, sync: kind === KIND_SYNC } satisfies TaskKindNote)
}

/** The file URL of a task file given as a path or a URL. */
function toUrl(filename: string): string {
  return /^[a-z][a-z0-9+.-]+:/i.test(filename) ? filename : pathToFileURL(filename).href
}

const requireHere = createRequire(import.meta.url)

/**
 * The task file's exports by require(), as piscina sees them (its
 * __importStar: a CommonJS module.exports is `default`, with its own
 * properties as named exports; an ES module's namespace as it is), or
 * undefined when require() cannot load it (then import() does).
 */
function requireTaskFile(url: string): Record<string, unknown> | undefined {
  if (!url.startsWith('file:')) return undefined
  let mod: unknown
  try {
    mod = requireHere(fileURLToPath(url))
  } catch {
    return undefined
  }
  if (mod !== null && typeof mod === 'object' && (types.isModuleNamespaceObject(mod) || (mod as { __esModule?: unknown }).__esModule === true)) {
    return mod as Record<string, unknown>
  }
  const ns: Record<string, unknown> = { default: mod }
  if (mod !== null && (typeof mod === 'object' || typeof mod === 'function')) {
    for (const k of Object.keys(mod)) if (k !== 'default') ns[k] = (mod as Record<string, unknown>)[k]
  }
  return ns
}

/** The handler, found synchronously when the file loads with require() and exports a function (not a Promise). */
function handlerNow(filename: string, name: string): Function | undefined {
  const ns = requireTaskFile(toUrl(filename))
  if (ns === undefined) return undefined
  const h = ns[name]
  if (typeof h === 'function') return h
  const d = ns.default as Record<string, unknown> | null | undefined
  if (d !== null && (typeof d === 'object' || typeof d === 'function') && typeof d[name] === 'function') return d[name] as Function
  return undefined
}

/**
 * piscina's getHandler: the module's export `name`, awaited in case it is a
 * Promise. piscina require()s a task file first, and so sees a CommonJS
 * module's module.exports as `default` and its own properties as named
 * exports; import() shows module.exports as `default` too, but only the
 * named exports Node's lexer can see, so a name it missed is looked up on
 * module.exports.
 */
async function loadHandler(filename: string, name: string): Promise<Function> {
  const ns = (await importModule(toUrl(filename))) as Record<string, unknown>
  let handler = await ns[name]
  if (typeof handler !== 'function') {
    // module.exports: its own property `name` (a CommonJS module's, or a
    // transpiled ESM module's `exports.default` when name is 'default').
    const d = (await ns.default) as Record<string, unknown> | null | undefined
    if (d !== null && (typeof d === 'object' || typeof d === 'function')) {
      const h = await d[name]
      if (typeof h === 'function') handler = h
    }
  }
  if (typeof handler !== 'function') throw new Error(`No handler function exported from ${filename}`)
  return handler
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'
}

/** This module's URL: a pool's runtime imports it on every M at start (Runtime's modules). */
export const pooltaskUrl = import.meta.url

/**
 * The handler for (filename, name) on this M: from the cache, else loaded
 * (require() first, so that the task does not park while its file loads).
 * gort/bullmq loads its processor modules with it too (bullmqjob.ts).
 */
export function* handlerFor(filename: string, name: string): Generator<unknown, Handler> {
  const key = `${filename}#${name}`
  let h = handlers.get(key)
  if (h === undefined) {
    const fn: Function = handlerNow(filename, name) ?? (yield* until(loadHandler(filename, name)))
    h = { fn, filename, name, gen: isGeneratorFunction(fn), signal: fn.length >= 2, kind: KIND_UNKNOWN }
    if (handlers.size > 1000) handlers.delete(handlers.keys().next().value!)
    handlers.set(key, h)
  }
  return h
}

/** Handlers by the pool's reference to its (filename, name) pair (pool.ts #fnRef), on this M. */
const byRef = new Map<number, Handler>()

/**
 * Calls the task function. A function that declares a second parameter
 * gets the task's signal there, aborted when the pool cancels this
 * goroutine (an abort or a timeout) and the cancellation is thrown in, so
 * that an async task can pass it on (fetch, timers, its own loops) and stop
 * the work it started. Others get no signal (an AbortController costs a
 * microsecond, more than a tiny task).
 */
function* callTask(h: Handler, arg: unknown): Generator<unknown, unknown> {
  const fn = h.fn
  if (!h.signal) {
    if (h.gen) return moveOut(yield* runGen(h, fn(arg) as Generator<unknown, unknown>))
    const r = fn(arg)
    if (!isThenable(r)) {
      if (h.kind === KIND_UNKNOWN) tell(h, KIND_SYNC)
      return moveOut(r)
    }
    tell(h, KIND_PARKS)
    return moveOut(yield* until(r))
  }
  const ac = new AbortController()
  try {
    if (h.gen) return moveOut(yield* runGen(h, fn(arg, ac.signal) as Generator<unknown, unknown>))
    let r = fn(arg, ac.signal)
    if (isThenable(r)) {
      tell(h, KIND_PARKS)
      r = yield* until(r)
    } else if (h.kind === KIND_UNKNOWN) tell(h, KIND_SYNC)
    return moveOut(r)
  } catch (e) {
    if (cancelled()) ac.abort(e)
    throw e
  }
}

/**
 * Runs a generator task as this goroutine, passing its yields to the M and
 * the M's answers (values, an error thrown in) back, as yield* does, and
 * watching what it yields: a blocking operation (a channel or lock that
 * parks, sleep, until, syscall) means it parks; plain yields and gosched()
 * are safe points, after which it runs on. A task that ended without
 * parking is told to the pool as synchronous: it held its thread from start
 * to end like a plain function, so the pool may hand its tasks over ahead of
 * a free slot (pool.ts, "Admission") and its M takes the next one without a
 * round trip to the app's thread. The first one that parks tells the pool so
 * (and the function is then treated as parking for good).
 */
function* runGen(h: Handler, it: Generator<unknown, unknown>): Generator<unknown, unknown> {
  // Known to park: nothing more to learn, so plain delegation.
  if (h.kind === KIND_PARKS) return yield* it
  let v: unknown
  let thrown = false
  try {
    for (;;) {
      let r: IteratorResult<unknown, unknown>
      if (thrown) {
        thrown = false
        r = it.throw(v)
      } else r = it.next(v)
      if (r.done === true) {
        // Not parked in this run (tell would have made it KIND_PARKS), nor told before.
        if (h.kind === KIND_UNKNOWN) tell(h, KIND_SYNC)
        return r.value
      }
      const y = r.value
      if (y instanceof SchedOp && y.kind !== OpKind.Gosched) tell(h, KIND_PARKS)
      try {
        v = yield y
      } catch (e) {
        v = e
        thrown = true
      }
    }
  } finally {
    // Abandoned by the M (return()): its own finally blocks run, as with yield*.
    it.return(undefined)
  }
}

export const pooltask = goroutines(import.meta.url, {
  /** Runs the task file's function `name` with `arg` (piscina's worker.ts onMessage). */
  *runTask(filename: string, name: string, arg: unknown): Generator<unknown, unknown> {
    return yield* callTask(yield* handlerFor(filename, name), arg)
  },

  /**
   * runTask for a (filename, name) pair the pool has put in the shared
   * heap once (ref: the block holding [filename, name], alive as long as
   * the runtime): the task's arguments carry a number, not two strings.
   */
  *runRef(ref: number, arg: unknown): Generator<unknown, unknown> {
    let h = byRef.get(ref)
    if (h === undefined) {
      const [filename, name] = decodeValue(mheap()!, ref) as [string, string]
      h = yield* handlerFor(filename, name)
      byRef.set(ref, h)
    }
    return yield* callTask(h, arg)
  },
})
