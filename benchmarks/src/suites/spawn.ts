// spawn: 100,000 trivial goroutines (x + 1) spawned from the app's main
// thread with rt.run and all awaited, against worker pools running 100,000
// trivial tasks the same way (pool.run, all awaited), on as many threads as
// gort has Ps: piscina at its defaults, piscina with 16 concurrent tasks per
// worker, tinypool, workerpool (worker threads, exec('inc', [x])), and
// FloorPool, a pool that posts one message per task each way (the
// postMessage transport floor).
//
// Targets (issue 6: spawn from the main thread, 100,000 trivial
// goroutines): at least 25x piscina's tasks per second, and at least 3x the
// floor's. A row has one baseline, so the gort row carries the piscina
// target and the notes give the ratio to the floor, computed from the same
// rows (same rounds, same interleaving).
//
// The runtime and the pools start once, before the first sample, and stay
// up; one warm-up sample of each, then 5 rounds (BENCH_ROUNDS) in which each
// runs its 100,000 tasks once, alternating, and the figure is the median.
// Each sample checks the sum of the results, so that a lost or wrong result
// cannot pass for speed.

import os from 'node:os'
import { Runtime } from 'gort'
import { runRounds, type Suite } from '../harness.js'
import { bench } from '../goroutines.js'
import { FloorPool } from '../peers/floor.js'
import { runWorkerpool, startPiscina, startTinypool, startWorkerpool } from '../peers/pools.js'

const N = Number(process.env.SPAWN_N) || 100_000
const EXPECTED = (N * (N + 1)) / 2 // sum of i + 1 for i < N

/** Issue 6's targets: ops/s over piscina's (on the gort row) and over the floor's (in the notes). */
const TARGET_VS_PISCINA = 25
const TARGET_VS_FLOOR = 3

const PISCINA = 'piscina, default options'
const GORT = 'gort: rt.run(inc, i)'
const FLOOR = 'one postMessage per task each way (floor)'

async function all(run: (x: number) => PromiseLike<number>): Promise<void> {
  const ps = new Array<PromiseLike<number>>(N)
  for (let i = 0; i < N; i++) ps[i] = run(i)
  const rs = await Promise.all(ps)
  let sum = 0
  for (const r of rs) sum += r
  if (sum !== EXPECTED) throw new Error(`spawn: results sum to ${sum}, expected ${EXPECTED}`)
}

export const spawnSuite: Suite = {
  name: 'spawn',
  description: `${N.toLocaleString('en-US')} trivial goroutines from the main thread, all awaited; ratio to piscina, tinypool, workerpool and a postMessage pool`,
  async run() {
    const procs = Number(process.env.GOMAXPROCS) || os.availableParallelism()
    const rt = await Runtime.start({ procs, modules: [new URL('../goroutines.js', import.meta.url)] })
    const piscina = startPiscina(procs)
    const piscina16 = startPiscina(procs, 16)
    const tinypool = startTinypool(procs)
    const workerpool = startWorkerpool(procs)
    const floor = await FloorPool.start(procs)
    try {
      const rows = await runRounds([
        { name: PISCINA, ops: N, throughput: true, fn: () => all((x) => piscina.run(x)) },
        {
          name: GORT,
          ops: N,
          throughput: true,
          baseline: PISCINA,
          targetRatio: TARGET_VS_PISCINA,
          peerTargets: { [FLOOR]: TARGET_VS_FLOOR },
          fn: () => all((x) => rt.run(bench.inc, x)),
        },
        {
          name: 'piscina, concurrentTasksPerWorker 16',
          ops: N,
          throughput: true,
          baseline: PISCINA,
          fn: () => all((x) => piscina16.run(x)),
        },
        { name: 'tinypool', ops: N, throughput: true, baseline: PISCINA, fn: () => all((x) => tinypool.run(x)) },
        {
          name: "workerpool, workerType 'thread'",
          ops: N,
          throughput: true,
          baseline: PISCINA,
          fn: () => all((x) => runWorkerpool(workerpool, x)),
        },
        { name: FLOOR, ops: N, throughput: true, baseline: PISCINA, fn: () => all((x) => floor.run(x)) },
      ])
      // ops/s over the floor's ops/s = the floor's ns/op over gort's.
      const byName = new Map(rows.map((r) => [r.name, r]))
      const vsFloor = byName.get(FLOOR)!.nsPerOp / byName.get(GORT)!.nsPerOp
      return {
        suite: 'spawn',
        rows,
        notes: [
          `${GORT}: ratio to the floor (${FLOOR}) ${vsFloor.toFixed(2)} ×: target ≥ ${TARGET_VS_FLOOR} ×: ${vsFloor >= TARGET_VS_FLOOR ? 'met' : 'MISSED'} (ops/s over the floor's ops/s, medians of the same rounds)`,
          `one op = one task submitted from the main thread and its result received; ${N.toLocaleString('en-US')} per sample, all in flight at once, awaited with Promise.all`,
          `${procs} threads each: gort procs ${procs} (plus its spare M), pools with minThreads = maxThreads = ${procs} (workerpool: minWorkers = maxWorkers = ${procs}, workerType 'thread')`,
          `gort Ms (worker threads) at the end: ${rt.stats().ms.length}; the runtime starts procs + 1 = ${procs + 1}`,
        ],
      }
    } finally {
      await Promise.all([rt.close(), piscina.destroy(), piscina16.destroy(), tinypool.destroy(), workerpool.terminate(), floor.destroy()])
    }
  },
}
