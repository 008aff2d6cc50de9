// Shared test helpers: real worker threads running fixtures against the
// built package, seeds that are logged, and a watchdog that fails a test with
// a dump of the shared state instead of letting it hang.

import type { ExecutionContext } from 'ava'
import { Worker } from 'node:worker_threads'
import { FastRand, randomSeed, runtimeHeap, schedwords, type SchedWords } from 'gort/internal'
import type { Runtime, RuntimeOptions } from 'gort'

/** A seed from GORT_SEED, or a fresh one; logged so a failure can be replayed. */
export function seeded(t: ExecutionContext): FastRand {
  const env = process.env.GORT_SEED
  const seed = env !== undefined && env !== '' ? Number(env) >>> 0 : randomSeed()
  t.log(`seed ${seed} (replay with GORT_SEED=${seed})`)
  return new FastRand(seed)
}

export interface Started<R> {
  worker: Worker
  /** The fixture's single result message; rejects if it throws or exits early. */
  result: Promise<R>
}

/** Starts test-dist/fixtures/<name>.js in a worker thread with workerData. */
export function startFixture<R>(name: string, workerData: unknown): Started<R> {
  const worker = new Worker(new URL(`./fixtures/${name}.js`, import.meta.url), { workerData })
  const result = new Promise<R>((resolve, reject) => {
    let done = false
    worker.once('message', (m: R) => {
      done = true
      resolve(m)
    })
    worker.once('error', (e) => {
      done = true
      reject(e)
    })
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`fixture ${name} exited with code ${code} before reporting`))
    })
  })
  return { worker, result }
}

/**
 * Runs fn; if it has not settled after ms, fails the test with dump() and
 * terminates the given workers, so that a lost wake-up shows as a readable
 * failure instead of a hung test run.
 */
export async function withWatchdog<T>(
  t: ExecutionContext,
  ms: number,
  dump: () => string,
  workers: () => Worker[],
  fn: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const fired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = dump()
      t.log(`watchdog: no result after ${ms} ms; state:\n${state}`)
      for (const w of workers()) void w.terminate()
      reject(new Error(`watchdog fired after ${ms} ms:\n${state}`))
    }, ms)
  })
  try {
    return await Promise.race([fn(), fired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Starts a Runtime at procs, runs fn(rt, state) under withWatchdog, and
 * closes the runtime, checking that no goroutine was left behind. The
 * watchdog dumps rt.stats() plus whatever fn put in `state` (a name → getter
 * map for the test's channels and locks); if fn fails or hangs, the runtime
 * is destroyed (its Ms terminated) instead of being waited for.
 *
 * 'gort' is loaded here, on first use, not at the top of this module:
 * loading it registers gort's shared-handle kinds, which tests that import
 * these helpers and register kinds of their own (codec.test.ts) must not get.
 */
export async function withRuntime(
  t: ExecutionContext,
  procs: number,
  ms: number,
  fn: (rt: Runtime, state: Record<string, () => unknown>) => Promise<void>,
  opts: Omit<RuntimeOptions, 'procs'> = {},
): Promise<void> {
  const { Runtime } = await import('gort')
  const rt = await Runtime.start({ ...opts, procs })
  const state: Record<string, () => unknown> = {}
  const dump = (): string => {
    const extra: Record<string, unknown> = {}
    for (const [k, get] of Object.entries(state)) {
      try {
        extra[k] = get()
      } catch (e) {
        extra[k] = `(${String(e)})`
      }
    }
    return JSON.stringify({ stats: rt.stats(), sched: schedWords(rt), ...extra })
  }
  let ok = false
  try {
    await withWatchdog(t, ms, dump, () => [], () => fn(rt, state))
    ok = true
  } finally {
    if (ok) t.deepEqual(await rt.close(), { left: 0 }, 'no goroutine left behind')
    else await rt.destroy()
  }
}

/** The scheduler's raw words of a runtime (gort/internal schedwords), for watchdog dumps. */
export function schedWords(rt: Runtime): SchedWords {
  return schedwords(runtimeHeap(rt))
}

/**
 * For a test file sharing one runtime (rt() returns it): watched(t, fn)
 * runs fn under a 20 s watchdog that fails the test with the runtime's
 * stats and goroutine dump if an operation hangs.
 */
export function watcher(rt: () => Runtime): <T>(t: ExecutionContext, fn: () => Promise<T>) => Promise<T> {
  return (t, fn) => withWatchdog(t, 20_000, () => `${JSON.stringify(rt().stats())}\n${rt().dump()}`, () => [], fn)
}
