// One try of the start suite (suites/start.ts), in a fresh process: a cold
// start (no module cached, no thread up) is what an app sees once. Prints
// one JSON line on stdout. Modes (argv[2]); argv[3] is the thread count:
//
//  - floor: a bare worker thread, `new Worker(eval)` posting one message to
//    its parent: the time to that message (what any pool pays per thread).
//  - gort-start: `await Runtime.start()`, then `await rt.run(bench.inc, 41)`:
//    times to the start's resolution, to the result, and to `rt.ready`.
//  - gort-create: `rt.run()` right after `Runtime.create()`.
//  - piscina: `new Piscina()` (minThreads = maxThreads = n), then
//    `await pool.run(41)`.
//  - rss-gort, rss-piscina: the process's RSS before and after an idle
//    runtime or pool with n threads: every module imported first, then
//    1 s to settle, the RSS; then the runtime or pool (gort: Runtime.start
//    and rt.ready; piscina: its constructor, whose threads boot on their
//    own), the RSS 1.5 s and START_SETTLE_MS (12 s) after it; then one
//    job, and the RSS 1.5 s and START_SETTLE_MS after it (what an app that
//    has used it once holds). footprint() below.
//
// The clocks start after the imports: the module loading of gort or
// piscina on the app's thread is the app's start-up, not the pool's.

import { Worker } from 'node:worker_threads'
import { Runtime } from 'gort'
import { Piscina } from 'piscina'
import { bench } from './goroutines.js'

const mode = process.argv[2]
const n = Number(process.argv[3] ?? 2)
const modules = [new URL('./goroutines.js', import.meta.url)]
const TASK = new URL('./peers/task.js', import.meta.url).href
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** When the settled idle figure is read: long enough for V8's memory reducer (first look ~8 s after an isolate starts) in every thread. */
const SETTLE_MS = Number(process.env.START_SETTLE_MS) || 12_000
const rss = (): number => process.memoryUsage().rss

/**
 * The RSS growth of an idle pool (rss-gort, rss-piscina): after the app's
 * imports and 1 s to settle, the RSS; then the pool, read 1.5 s and
 * SETTLE_MS after its start; then one job, read 1.5 s and SETTLE_MS after it.
 */
async function footprint(start: () => Promise<{ job(): Promise<unknown>; threads(): number; stop(): Promise<unknown> }>): Promise<void> {
  await sleep(1000)
  const r0 = rss()
  const pool = await start()
  const twice = async (): Promise<[number, number]> => {
    await sleep(1500)
    const early = rss() - r0
    await sleep(SETTLE_MS - 1500)
    return [early, rss() - r0]
  }
  const [idle, settled] = await twice()
  await pool.job()
  const [afterJob, afterJobSettled] = await twice()
  out({ idle, settled, afterJob, afterJobSettled, threads: pool.threads() })
  await pool.stop()
}

function out(x: Record<string, number>): void {
  process.stdout.write(JSON.stringify(x) + '\n')
}

async function main(): Promise<void> {
  switch (mode) {
    case 'floor': {
      const t0 = performance.now()
      const w = new Worker("require('node:worker_threads').parentPort.postMessage(1)", { eval: true })
      await new Promise((r) => w.once('message', r))
      out({ first: performance.now() - t0 })
      await w.terminate()
      return
    }
    case 'gort-start': {
      const t0 = performance.now()
      const rt = await Runtime.start({ procs: n, modules })
      const t1 = performance.now()
      const r = await rt.run(bench.inc, 41)
      const t2 = performance.now()
      await rt.ready
      const t3 = performance.now()
      if (r !== 42) throw new Error(`startchild: got ${String(r)}`)
      out({ start: t1 - t0, first: t2 - t0, ready: t3 - t0 })
      await rt.close()
      return
    }
    case 'gort-create': {
      const t0 = performance.now()
      const rt = Runtime.create({ procs: n, modules })
      const r = await rt.run(bench.inc, 41)
      const t1 = performance.now()
      await rt.ready
      const t2 = performance.now()
      if (r !== 42) throw new Error(`startchild: got ${String(r)}`)
      out({ first: t1 - t0, ready: t2 - t0 })
      await rt.close()
      return
    }
    case 'piscina': {
      const t0 = performance.now()
      const pool = new Piscina({ filename: TASK, minThreads: n, maxThreads: n })
      const t1 = performance.now()
      const r = (await pool.run(41)) as number
      const t2 = performance.now()
      if (r !== 42) throw new Error(`startchild: got ${String(r)}`)
      out({ start: t1 - t0, first: t2 - t0 })
      await pool.destroy()
      return
    }
    case 'rss-gort':
      return footprint(async () => {
        const rt = await Runtime.start({ procs: n, modules })
        await rt.ready
        return { job: () => rt.run(bench.inc, 41), threads: () => rt.threads.length, stop: () => rt.close() }
      })
    case 'rss-piscina':
      return footprint(async () => {
        const pool = new Piscina({ filename: TASK, minThreads: n, maxThreads: n })
        return { job: () => pool.run(41), threads: () => pool.threads.length, stop: () => pool.destroy() }
      })
    default:
      throw new Error(`startchild: unknown mode ${String(mode)}`)
  }
}

await main()
