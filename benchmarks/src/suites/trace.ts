// trace: what the execution tracer costs while it records (docs/trace.md).
// The gosched round trip (gosched suite) and two of the chan suite's
// workloads (PingPongOneP, ChanSync), each sampled untraced and traced on
// the same runtime, the two alternating within each round: a traced sample
// starts a recording before it and stops it after, discarding it (this
// times the hooks and the buffer writes, not the JSON). One runtime for
// both, because two runtimes side by side differed more from each other
// (where their goroutines landed, which threads the OS ran) than tracing
// does. Every sample is timed on the M, as in those suites. The issue's
// bound: tracing on costs at most 20 %.

import { Runtime } from 'gort'
import { runtimeHeap, traceDiscard } from 'gort/internal'
import { runRounds, type Suite, type SampledTask } from '../harness.js'
import { bench } from '../goroutines.js'
import { cb, type Timed } from '../changoroutines.js'

const K = Number(process.env.GOSCHED_K) || 100_000
const PINGS = 100_000
const SYNC = 2_000

async function traced<T>(rt: Runtime, fn: () => Promise<T>): Promise<T> {
  rt.trace.start()
  try {
    return await fn()
  } finally {
    traceDiscard(runtimeHeap(rt))
  }
}

export const traceSuite: Suite = {
  name: 'trace',
  description: 'the execution tracer recording: gosched and chan workloads with a trace on, ratio to the same runtime set-up untraced',
  async run() {
    const modules = [new URL('../goroutines.js', import.meta.url), new URL('../changoroutines.js', import.meta.url)]
    const off1 = await Runtime.start({ procs: 1, modules })
    const on1 = off1
    const off2 = await Runtime.start({ procs: 2, modules })
    const on2 = off2
    try {
      const pair = (name: string, ops: number, rtOff: Runtime, rtOn: Runtime, sample: (rt: Runtime) => Promise<number>): SampledTask[] => [
        { name: `${name}, tracing off`, ops, fn: () => sample(rtOff) },
        { name: `${name}, tracing on`, ops, baseline: `${name}, tracing off`, targetRatio: 1.2, fn: () => traced(rtOn, () => sample(rtOn)) },
      ]
      const rows = await runRounds(
        [
          ...pair('gosched round trip (procs 1)', K, off1, on1, (rt) => rt.run(bench.pingpong, K)),
          ...pair('PingPongOneP (procs 1)', PINGS, off1, on1, async (rt) => ((await rt.run(cb.pingPongOneP, PINGS)) as Timed)[0]),
          ...pair('ChanSync (procs 2)', SYNC, off2, on2, async (rt) => ((await rt.run(cb.chanSync, SYNC)) as Timed)[0]),
        ],
        { samples: 3, warmup: 2 },
      )
      return {
        suite: 'trace',
        rows,
        notes: [
          'each sample timed on the M; traced and untraced samples alternate on the same runtime; a traced sample starts a recording before it and discards it after (the hooks and buffer writes, not the JSON)',
          `gosched: ${K.toLocaleString('en-US')} round trips per sample; PingPongOneP: ${PINGS.toLocaleString('en-US')}; ChanSync: ${SYNC.toLocaleString('en-US')} per sample`,
        ],
      }
    } finally {
      for (const rt of [off1, off2]) await rt.close()
    }
  },
}
