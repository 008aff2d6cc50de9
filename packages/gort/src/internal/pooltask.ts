// gort/pool's one goroutine: runTask, which runs a piscina task file's
// function on an M. The pool (pool.ts, on the app's thread) spawns it with
// rt.run like any registered goroutine, so no scheduler change is needed:
// an M that meets it imports this module by URL, as it would any goroutine
// module.
//
// A task file is piscina's: `module.exports = fn`, `export default fn`, a
// named export picked by `name`, or a Promise of any of those; CommonJS or
// ESM. It needs no gort import and no registration. Its function is called
// with one argument, and:
//   - a generator function runs as this goroutine proper (`yield*`), so
//     channels, select, sleep and go() work inside it;
//   - a Promise result is awaited as gort's netpoller awaits
//     (`yield* until`): the M runs other tasks meanwhile;
//   - anything else is the result.
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
import { until } from './ops.js'
import { cancelled } from './cancel.js'
import { moveOut } from './pooltransfer.js'

/** Handlers already resolved on this M, by "url#name"; piscina's handlerCache. */
const handlers = new Map<string, Function>()

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

export const pooltask = goroutines(import.meta.url, {
  /** Runs the task file's function `name` with `arg` (piscina's worker.ts onMessage). */
  *runTask(filename: string, name: string, arg: unknown): Generator<unknown, unknown> {
    const key = `${filename}#${name}`
    let fn = handlers.get(key)
    if (fn === undefined) {
      fn = handlerNow(filename, name) ?? (yield* until(loadHandler(filename, name)))
      if (handlers.size > 1000) handlers.delete(handlers.keys().next().value!)
      handlers.set(key, fn)
    }
    // The task's signal (second argument): aborted when the pool cancels
    // this goroutine (an abort or a timeout) and the cancellation is thrown
    // in here, so that an async task can pass it on (fetch, timers, its
    // own loops) and stop the work it started.
    const ac = new AbortController()
    try {
      if (isGeneratorFunction(fn)) return moveOut(yield* (fn(arg, ac.signal) as Generator<unknown, unknown>))
      let r = fn(arg, ac.signal)
      if (isThenable(r)) r = yield* until(r)
      return moveOut(r)
    } catch (e) {
      if (cancelled()) ac.abort(e)
      throw e
    }
  },
})
