// create: goroutines started inside goroutines, with go(). No Node library
// does this, so there are two yardsticks: Go itself, running the same
// benchmarks, and the floor: creating a generator and running it to its end
// in one thread, which is what a goroutine is once the scheduler is taken
// away (that ratio says what the runtime costs).
//
//  - chain: Go's BenchmarkCreateGoroutines. Each goroutine starts the next
//    (go(chain, n - 1)) and exits; 1 chain, and one chain per P (Go's
//    BenchmarkCreateGoroutinesParallel). Both are compared with Go's own
//    benchmarks (benchmarks/go/proc_test.go) at GOMAXPROCS = procs.
//  - spawner: one goroutine starts N trivial goroutines (x + 1) in a loop,
//    without yielding; the other Ps steal them while it runs. Compared with
//    the generator floor.
//
// Targets: at least 1,000,000 goroutines per second on the 2-core machines
// (issue: spawn inside goroutines), and at least 0.5x Go's goroutines per
// second at GOMAXPROCS = 2 (issue 6) for the two chain rows.
//
// Go and gort alternate: each of Go's rows is a task of the same rounds as
// gort's, and each of its samples is one `go test -count 1` of that
// benchmark (go.ts runGoNow; -benchtime GO_BENCHTIME, default 300ms), whose
// ns/op becomes the sample. So a noisy neighbour hits both alike. While Go
// runs, gort's Ms are parked; while gort runs, no Go process exists. If Go
// is not installed (or its run fails), the chain rows fall back to the
// generator baseline and the notes say why.
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
import { runRounds, sleep, type SampledTask, type Suite } from '../harness.js'
import { bench } from '../goroutines.js'
import { GO_NOT_INSTALLED, goAvailable, runGoNow } from '../go.js'

const N = Number(process.env.CREATE_N) || 500_000
const BASE_N = 1_000_000

/** Issue 6: gort's chains at least half of Go's goroutines per second. */
const TARGET_VS_GO = 0.5

/** Go's benchmarks (names without "Benchmark") in benchmarks/go/proc_test.go. */
const GO_CHAIN = 'CreateGoroutines'
const GO_PARALLEL = 'CreateGoroutinesParallel'

function* inc(x: number): Generator<unknown, number> {
  return x + 1
}

const GENERATOR = 'generator create + run to its end (one thread)'
const GORT_CHAIN = 'gort: chain, each goroutine starts the next (1 chain)'

export const createSuite: Suite = {
  name: 'create',
  description: `goroutines started by goroutines (chains, one spawner), ${N.toLocaleString('en-US')} per sample; ratio to Go's BenchmarkCreateGoroutines(Parallel) and to a plain generator`,
  async run() {
    const procs = Number(process.env.GOMAXPROCS) || os.availableParallelism()
    const rt = await Runtime.start({ procs, modules: [new URL('../goroutines.js', import.meta.url)] })
    const gortParallel = `gort: ${procs} chains in parallel (one per P)`

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

    // Go's rows, if go runs: one probe first (it also builds the test binary).
    const goCpu = procs
    const goName = (bench: string, what: string): string => `Go: ${bench} (${what}), GOMAXPROCS ${goCpu}`
    const goChainRow = goName(GO_CHAIN, '1 chain')
    const goParallelRow = goName(GO_PARALLEL, `${goCpu} chains`)
    let goProblem: string | undefined
    if (goAvailable() === null) goProblem = `${GO_NOT_INSTALLED}: no Go rows; the chain rows are compared with the generator only`
    else {
      const probe = await runGoNow([GO_CHAIN, GO_PARALLEL], goCpu)
      for (const f of probe.values()) if ('error' in f) goProblem = `Go's run failed, no Go rows: ${f.error}`
    }
    /** One sample of a Go benchmark: one `go test -count 1`; its ns/op as the sample's duration over GO_OPS ops. */
    const GO_OPS = 1_000_000
    const goTask = (name: string, bench: string): SampledTask => ({
      name,
      ops: GO_OPS,
      throughput: true,
      fn: async () => {
        const f = (await runGoNow([bench], goCpu)).get(bench)!
        if ('error' in f) throw new Error(`create: ${f.error}`)
        return (f.nsPerOp * GO_OPS) / 1e6
      },
    })
    const goTasks = goProblem === undefined ? [goTask(goChainRow, GO_CHAIN), goTask(goParallelRow, GO_PARALLEL)] : []
    /** The chain rows' comparison: Go's twin if there is one, else the generator. */
    const vsGo = (row: string): Pick<SampledTask, 'baseline' | 'targetRatio'> =>
      goProblem === undefined ? { baseline: row, targetRatio: TARGET_VS_GO } : { baseline: GENERATOR }

    let sink = 0
    try {
      const rows = await runRounds(
        [
          ...goTasks,
          {
            name: GENERATOR,
            ops: BASE_N,
            throughput: true,
            fn: async () => {
              for (let i = 0; i < BASE_N; i++) sink += inc(i).next().value as number
            },
          },
          {
            name: GORT_CHAIN,
            ops: N,
            throughput: true,
            ...vsGo(goChainRow),
            target: 1_000_000,
            fn: () => timed(() => [rt.run(bench.chain, N - 1)]),
          },
          {
            name: gortParallel,
            ops: N,
            throughput: true,
            ...vsGo(goParallelRow),
            target: 1_000_000,
            fn: () => timed(() => Array.from({ length: procs }, () => rt.run(bench.chain, N / procs - 1))),
          },
          {
            name: 'gort: one goroutine starts N goroutines',
            ops: N,
            throughput: true,
            baseline: GENERATOR,
            target: 1_000_000,
            fn: () => timed(() => [rt.run(bench.spawner, N - 1)]),
          },
        ],
        { samples: 3, warmup: 2 },
      )
      if (sink === 0.5) console.log(sink)
      // The chain rows' ratio to the generator, when their baseline is Go.
      const byName = new Map(rows.map((r) => [r.name, r]))
      const vsGenerator = (row: string): string =>
        `${row}: ${(byName.get(GENERATOR)!.nsPerOp / byName.get(row)!.nsPerOp).toPrecision(2)} × the generator's goroutines/s`
      const goNotes =
        goProblem !== undefined
          ? [goProblem]
          : [
              `Go: ${goAvailable()}; Go's rows are BenchmarkCreateGoroutines and BenchmarkCreateGoroutinesParallel (benchmarks/go/proc_test.go, from Go's runtime/proc_test.go) at -cpu ${goCpu}, ` +
                `one \`go test -count 1 -benchtime ${process.env.GO_BENCHTIME || '300ms'}\` per sample, interleaved with gort's samples round by round; a sample is Go's ns/op (timed inside the Go process, b.N goroutines), so Go's figure has no process start-up and no poll in it`,
              `issue 6's target (≥ ${TARGET_VS_GO} × Go at GOMAXPROCS 2) applies to the chain rows${goCpu === 2 ? '' : `; this run has procs ${goCpu}, not 2`}`,
              vsGenerator(GORT_CHAIN),
              vsGenerator(gortParallel),
            ]
      return {
        suite: 'create',
        rows,
        notes: [
          ...goNotes,
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
