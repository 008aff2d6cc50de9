// create: goroutines started inside goroutines, with go(). No Node library
// does this, so the baseline is the floor: creating a generator and running
// it to its end in one thread, which is what a goroutine is once the
// scheduler is taken away. The ratio says what the runtime costs.
//
//  - chain: Go's BenchmarkCreateGoroutines. Each goroutine starts the next
//    (go(chain, n - 1)) and exits; 1 chain, and one chain per P (Go's
//    BenchmarkCreateGoroutinesParallel shape).
//  - spawner: one goroutine starts N trivial goroutines (x + 1) in a loop,
//    without yielding; the other Ps steal them while it runs.
//
// Target (issue: spawn inside goroutines): at least 1,000,000 goroutines per
// second on the 2-core machines.
//
// How the end is detected. There are no channels yet, so the last goroutine
// cannot tell anyone it ran, and the goroutines started with go() are not
// awaited (their results go nowhere). What is observable from the host is
// the goroutine count: every goroutine of a chain starts its successor
// before it exits, and the spawner starts all of its goroutines before it
// exits, so rt.numGoroutine() (sched.gcount, decremented when a goroutine
// exits) reaches 0 exactly when the last of them has finished, and never
// before. The host polls it every millisecond with setTimeout (a tighter
// poll would take one of the two cores away from the Ms): the figure can be
// late by about a millisecond, which is under 0.5% of a sample of 500,000
// goroutines at the target rate, and counts against gort. The clock starts
// before rt.go of the first goroutine, so the host's spawn and the first M's
// wake-up are in the figure too.

import os from 'node:os'
import { Runtime } from 'gort'
import { runRounds, sleep, type Suite } from '../harness.js'
import { bench } from '../goroutines.js'

const N = Number(process.env.CREATE_N) || 500_000
const BASE_N = 1_000_000

function* inc(x: number): Generator<unknown, number> {
  return x + 1
}

export const createSuite: Suite = {
  name: 'create',
  description: `goroutines started by goroutines (chains, one spawner), ${N.toLocaleString('en-US')} per sample; ratio to a plain generator`,
  async run() {
    const procs = Number(process.env.GOMAXPROCS) || os.availableParallelism()
    const rt = await Runtime.start({ procs, modules: [new URL('../goroutines.js', import.meta.url)] })

    /** Starts the roots, waits until no goroutine is left; returns ms. */
    async function timed(start: () => Array<Promise<unknown>>): Promise<number> {
      if (rt.numGoroutine() !== 0) throw new Error(`create: ${rt.numGoroutine()} goroutines left from before`)
      const t0 = performance.now()
      const roots = start()
      while (rt.numGoroutine() !== 0) await sleep(1)
      const ms = performance.now() - t0
      await Promise.all(roots)
      return ms
    }

    let sink = 0
    try {
      const rows = await runRounds(
        [
          {
            name: 'generator create + run to its end (one thread)',
            ops: BASE_N,
            throughput: true,
            fn: async () => {
              for (let i = 0; i < BASE_N; i++) sink += inc(i).next().value as number
            },
          },
          {
            name: 'gort: chain, each goroutine starts the next (1 chain)',
            ops: N,
            throughput: true,
            baseline: 'generator create + run to its end (one thread)',
            target: 1_000_000,
            fn: () => timed(() => [rt.run(bench.chain, N - 1)]),
          },
          {
            name: `gort: ${procs} chains in parallel (one per P)`,
            ops: N,
            throughput: true,
            baseline: 'generator create + run to its end (one thread)',
            target: 1_000_000,
            fn: () => timed(() => Array.from({ length: procs }, () => rt.run(bench.chain, N / procs - 1))),
          },
          {
            name: 'gort: one goroutine starts N goroutines',
            ops: N,
            throughput: true,
            baseline: 'generator create + run to its end (one thread)',
            target: 1_000_000,
            fn: () => timed(() => [rt.run(bench.spawner, N - 1)]),
          },
        ],
        { samples: 3, warmup: 2 },
      )
      if (sink === 0.5) console.log(sink)
      return {
        suite: 'create',
        rows,
        notes: [
          `one op = one goroutine created and run to its end; ${N.toLocaleString('en-US')} goroutines per gort sample (the roots included), procs ${procs}`,
          'gort samples end when rt.numGoroutine() reaches 0, polled every 1 ms from the host (see suites/create.ts)',
          `Ms (worker threads) at the end: ${rt.stats().ms.length}; the runtime starts procs + 1 = ${procs + 1}`,
        ],
      }
    } finally {
      await rt.close()
    }
  },
}
