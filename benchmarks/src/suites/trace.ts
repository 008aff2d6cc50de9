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
//
// On a shared machine the wall time of a sample moves with the neighbours
// (a sample waits for a core, or shares its caches) by more than tracing
// costs, so each sample also reads the CPU time of the runtime's threads
// (Linux: /proc/self/task/*/schedstat, every thread but the app's), which
// waiting for a core does not count, and the table pairs each traced sample
// with the untraced one next to it: the median of those ratios.

import { readdirSync, readFileSync } from 'node:fs'
import { Runtime } from 'gort'
import { runtimeHeap, traceDiscard } from 'gort/internal'
import { quantile, runRounds, type Comparison, type Suite, type SampledTask } from '../harness.js'
import { bench } from '../goroutines.js'
import { cb, type Timed } from '../changoroutines.js'

const K = Number(process.env.GOSCHED_K) || 100_000
const PINGS = 100_000
const SYNC = 2_000
const WARMUP = 2

/** CPU ns of every thread of this process but the app's (the Ms, sysmon, V8's helpers), or undefined where Linux's schedstat is missing. */
function runtimeCpuNs(): number | undefined {
  try {
    let ns = 0
    for (const t of readdirSync('/proc/self/task')) {
      if (Number(t) === process.pid) continue
      try {
        ns += Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns
  } catch {
    return undefined
  }
}

/** The sample's CPU ns per op, kept per row in order (undefined: no schedstat). */
async function withCpu(cpu: Map<string, number[]>, name: string, ops: number, sample: () => Promise<number>): Promise<number> {
  const c0 = runtimeCpuNs()
  const ms = await sample()
  const c1 = runtimeCpuNs()
  if (c0 !== undefined && c1 !== undefined) cpu.get(name)!.push((c1 - c0) / ops)
  return ms
}

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
      const cpu = new Map<string, number[]>()
      const names: string[] = []
      const pair = (name: string, ops: number, rtOff: Runtime, rtOn: Runtime, sample: (rt: Runtime, traced: boolean) => Promise<number>, target = true): SampledTask[] => {
        names.push(name)
        cpu.set(`${name}, tracing off`, [])
        cpu.set(`${name}, tracing on`, [])
        return [
          { name: `${name}, tracing off`, ops, fn: () => withCpu(cpu, `${name}, tracing off`, ops, () => sample(rtOff, false)) },
          { name: `${name}, tracing on`, ops, baseline: `${name}, tracing off`, ...(target ? { targetRatio: 1.2 } : {}), fn: () => traced(rtOn, () => withCpu(cpu, `${name}, tracing on`, ops, () => sample(rtOn, true))) },
        ]
      }
      // ChanSync's two goroutines run on one M (a local hand-off, ~300 ns
      // an exchange) or on two (a wake-up across threads, 2-12 µs): where
      // they land is decided at their spawn, sample by sample, and a
      // median over both kinds measures the mix, not the tracer. So each
      // sample records its placement, and the target is judged on the
      // samples that ran on one M, traced against untraced (the placement
      // table gives both kinds).
      const placed = new Map<string, Array<[threads: number, ms: number]>>([['off', []], ['on', []]])
      const chanSync = async (rt: Runtime, on: boolean): Promise<number> => {
        const [ms, threads] = (await rt.run(cb.chanSync, SYNC)) as Timed
        placed.get(on ? 'on' : 'off')!.push([threads, ms])
        return ms
      }
      const rows = await runRounds(
        [
          ...pair('gosched round trip (procs 1)', K, off1, on1, (rt) => rt.run(bench.pingpong, K)),
          ...pair('PingPongOneP (procs 1)', PINGS, off1, on1, async (rt) => ((await rt.run(cb.pingPongOneP, PINGS)) as Timed)[0]),
          ...pair('ChanSync (procs 2)', SYNC, off2, on2, chanSync, false),
        ],
        { samples: 5, warmup: WARMUP },
      )
      // Each traced sample over the untraced one run next to it (runRounds
      // alternates them, the order reversed every other round).
      const tables: string[][] = []
      if (names.every((n) => cpu.get(`${n}, tracing on`)!.length > 0)) {
        const lines = [
          '| CPU time of the runtime\'s threads | off, median ns/op | on, median ns/op | on ÷ off, median of pairs | middle half of the pairs |',
          '| --- | ---: | ---: | ---: | ---: |',
        ]
        for (const n of names) {
          // Past the warm-up calls (runRounds makes WARMUP of each first).
          const off = cpu.get(`${n}, tracing off`)!.slice(WARMUP)
          const on = cpu.get(`${n}, tracing on`)!.slice(WARMUP)
          const ratios = on.slice(0, off.length).map((x, k) => x / off[k])
          const r = (q: number): string => quantile(ratios, q).toFixed(2)
          lines.push(`| ${n} | ${quantile(off, 0.5).toFixed(1)} | ${quantile(on, 0.5).toFixed(1)} | ${r(0.5)} × | ${r(0.25)}–${r(0.75)} |`)
        }
        tables.push(lines)
      }
      // ChanSync by placement (see chanSync above), past the warm-up calls.
      const offP = placed.get('off')!.slice(WARMUP)
      const onP = placed.get('on')!.slice(WARMUP)
      const perOp = (xs: Array<[number, number]>, threads: number): number[] => xs.filter((x) => x[0] === threads).map((x) => (x[1] * 1e6) / SYNC)
      const sameRatios = onP.slice(0, offP.length).flatMap((x, k) => (x[0] === 1 && offP[k][0] === 1 ? [x[1] / offP[k][1]] : []))
      const med = (xs: number[]): number => (xs.length === 0 ? NaN : quantile(xs, 0.5))
      const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–')
      tables.push([
        '| ChanSync (procs 2), by placement | samples off / on | off, median ns/op | on, median ns/op | on ÷ off, median of pairs |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| both goroutines on one M | ${perOp(offP, 1).length} / ${perOp(onP, 1).length} | ${f0(med(perOp(offP, 1)))} | ${f0(med(perOp(onP, 1)))} | ${sameRatios.length === 0 ? '–' : `${med(sameRatios).toFixed(2)} × (${sameRatios.length} pairs)`} |`,
        `| on two Ms | ${perOp(offP, 2).length} / ${perOp(onP, 2).length} | ${f0(med(perOp(offP, 2)))} | ${f0(med(perOp(onP, 2)))} | |`,
      ])
      const comparisons: Comparison[] = []
      const sameOff = med(perOp(offP, 1))
      const sameOn = med(perOp(onP, 1))
      if (Number.isFinite(sameOff) && Number.isFinite(sameOn)) {
        comparisons.push({
          area: 'trace', workload: 'ChanSync (procs 2), both goroutines on one M, tracing on', unit: 'ns/op', better: 'lower',
          gort: sameOn, peer: sameOff, peerName: 'ChanSync on one M, tracing off',
          target: { text: '≤ 1.2 × tracing off', met: sameOn <= 1.2 * sameOff, ratio: 1.2 },
        })
      }
      return {
        suite: 'trace',
        rows,
        comparisons,
        tables,
        notes: [
          'each sample timed on the M; traced and untraced samples alternate on the same runtime; a traced sample starts a recording before it and discards it after (the hooks and buffer writes, not the JSON)',
          "the CPU table: each sample's CPU time of every thread but the app's (Linux schedstat; waiting for a core is not counted), each traced sample over the untraced one next to it",
          `gosched: ${K.toLocaleString('en-US')} round trips per sample; PingPongOneP: ${PINGS.toLocaleString('en-US')}; ChanSync: ${SYNC.toLocaleString('en-US')} per sample`,
          "ChanSync's two goroutines land on one M or on two at their spawn, sample by sample (a local hand-off against a wake-up across threads, ~10 x apart); its row mixes both, so its target is judged on the samples that ran on one M (the placement table; each sample reports how many threads its goroutines ran on)",
        ],
      }
    } finally {
      for (const rt of [off1, off2]) await rt.close()
    }
  },
}
