// parallel: gort/bench's RunParallel at procs 1, 2 and 4 in one tinybench
// table: a CPU-bound body (a full trial division of a prime near 10^9) spread over
// every P, per-iteration time and the speedup over procs 1. It is also the
// worked example of docs/run-parallel.md.

import { Bench } from 'tinybench'
import { Runtime } from 'gort'
import { parallel } from 'gort/bench'
import { bodies } from '../parallelbodies.js'
import { quantile, type Row, type Suite } from '../harness.js'

const ITERATIONS = 400
const PROCS = [1, 2, 4]

export const parallelSuite: Suite = {
  name: 'parallel',
  description: 'RunParallel (gort/bench): a CPU-bound body over every P at procs 1, 2, 4',
  run: async () => {
    const modules = [new URL('../parallelbodies.js', import.meta.url)]
    const runtimes = await Promise.all(PROCS.map((procs) => Runtime.start({ procs, modules })))
    try {
      const bench = new Bench({ time: 1500, warmupTime: 300, retainSamples: true })
      for (const [i, rt] of runtimes.entries()) {
        bench.add(`procs ${PROCS[i]}`, parallel(rt, bodies.primes, { iterations: ITERATIONS, args: [1_000_000_007] }))
      }
      await bench.run()
      const rows: Row[] = bench.tasks.map((task) => {
        const res = task.result as { latency?: { samples?: number[] } } | undefined
        const samples = [...(res?.latency?.samples ?? [])]
        return {
          name: `RunParallel primes, ${task.name}`,
          nsPerOp: (quantile(samples, 0.5) * 1e6) / ITERATIONS,
          p99: (quantile(samples, 0.99) * 1e6) / ITERATIONS,
          baseline: task.name === 'procs 1' ? undefined : 'RunParallel primes, procs 1',
          samples: samples.length,
        }
      })
      return {
        suite: 'parallel',
        rows,
        notes: [
          `one op = one iteration of the body (a trial-division primality test of 1,000,000,007 or its odd neighbour); one tinybench call runs ${ITERATIONS} iterations over every P`,
          'the ratio is the time per iteration over procs 1 (below 1: faster); this machine has 2 cores, so procs 4 shows the cost of more Ps than cores',
        ],
      }
    } finally {
      await Promise.all(runtimes.map((rt) => rt.close()))
    }
  },
}
