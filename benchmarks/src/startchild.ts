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
//    own), 1.5 s idle, the RSS again; then one job, 1.5 s idle, the RSS
//    once more (what an app that has used it once holds).
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
    case 'rss-gort': {
      await sleep(1000)
      const r0 = rss()
      const rt = await Runtime.start({ procs: n, modules })
      await rt.ready
      await sleep(1500)
      const r1 = rss()
      await sleep(SETTLE_MS - 1500)
      const r1s = rss()
      await rt.run(bench.inc, 41)
      await sleep(1500)
      const r2 = rss()
      await sleep(SETTLE_MS - 1500)
      const r2s = rss()
      out({ idle: r1 - r0, settled: r1s - r0, afterJob: r2 - r0, afterJobSettled: r2s - r0, threads: rt.threads.length })
      await rt.close()
      return
    }
    case 'rss-piscina': {
      await sleep(1000)
      const r0 = rss()
      const pool = new Piscina({ filename: TASK, minThreads: n, maxThreads: n })
      await sleep(1500)
      const r1 = rss()
      await sleep(SETTLE_MS - 1500)
      const r1s = rss()
      await pool.run(41)
      await sleep(1500)
      const r2 = rss()
      await sleep(SETTLE_MS - 1500)
      const r2s = rss()
      out({ idle: r1 - r0, settled: r1s - r0, afterJob: r2 - r0, afterJobSettled: r2s - r0, threads: pool.threads.length })
      await pool.destroy()
      return
    }
    default:
      throw new Error(`startchild: unknown mode ${String(mode)}`)
  }
}

await main()
