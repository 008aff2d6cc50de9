// primes: the main job (packages/demo) as a benchmark. Count the primes
// below 5,000,000 by trial division, cut into 64 goroutines of equal ranges
// (each with a safe point, a plain `yield`, every 1,024 candidates), spawned
// from the app with rt.run and all awaited; against the same loop over the
// whole range in one plain worker thread (no gort), posted one message and
// answering with one. Both run the same isPrime (primeswork.ts).
//
// Targets (issue 6): at procs 2, a speedup of at least 1.9 over the plain
// thread; at procs 1, gort's overhead against the plain thread at most 5 %.
//
// A fourth contender, without a target, gives the machine's own ceiling:
// two plain worker threads, the 64 chunks dealt alternately between them
// (so both get the same mix of cheap low and dear high candidates), no
// scheduler at all. On a VM whose 2 vCPUs slow each other down when both
// are busy, a speedup of 2 is out of anyone's reach.
//
// Two runtimes (procs 1 and procs 2) and the plain workers start once and
// stay up; an idle runtime parks its Ms and sysmon, so it costs the others
// nothing. Each contender runs once untimed, then once per round, in an
// order that rotates from round to round (and is reversed every other
// round), so that no contender always runs first or after the same one.
// Every figure is timed on the app's thread, from the first rt.run (the
// postMessage) to the last result, so both sides pay their trip there and
// back. Each sample checks the count. The table gives the medians, the
// ratios of the medians (which the targets are judged on) and, beside them,
// the median of the per-round ratios (each round's pair ran back to back).
//
// The machine may be shared: before each round the suite waits (up to
// PRIMES_QUIET_WAIT_S) for a second in which other processes used at most
// PRIMES_NEIGHBOUR_MAX cores (harness.ts neighbourMeter), and it notes how
// much they used during the round. A round in which they used more is
// dropped and run again, up to three times the rounds asked for; the
// report says how many were dropped.
//
// After the timed rounds, traced runs (pg.countTraced: the same loop, also
// noting its thread, its first and last step, and the safe points after
// which it had lost the M), PRIMES_TRACES at procs 2 and one at procs 1,
// show where the time goes: how the 64 goroutines split over the Ms, when
// each M started and finished, how many goroutines each M still had to
// finish when the last one started, and the tail in which one M had
// nothing left. A started goroutine cannot move to another M, so from the
// last start on, an M that finishes its own early has nothing to steal.
//
// Knobs (environment): PRIMES_LIMIT (5,000,000), PRIMES_ROUNDS (9),
// PRIMES_TRACES (5), PRIMES_NEIGHBOUR_MAX (0.1 cores), PRIMES_QUIET_WAIT_S
// (30).

import { Worker } from 'node:worker_threads'
import { Runtime } from 'gort'
import { neighbourCores, neighbourMeter, quantile, waitForQuiet, type Comparison, type Suite } from '../harness.js'
import { pg } from '../primesgoroutines.js'
import { chunks } from '../primeswork.js'

const LIMIT = Number(process.env.PRIMES_LIMIT) || 5_000_000
const PARTS = 64
const ROUNDS = Number(process.env.PRIMES_ROUNDS) || 9
const NEIGHBOUR_MAX = Number(process.env.PRIMES_NEIGHBOUR_MAX ?? 0.1)
const TRACES = Number(process.env.PRIMES_TRACES) || 5
const QUIET_WAIT_MS = 1000 * (Number(process.env.PRIMES_QUIET_WAIT_S) || 30)
const SPEEDUP_TARGET = 1.9
const PLAIN = 'plain'
const GORT1 = 'gort procs 1'
const GORT2 = 'gort procs 2'
const TWO = 'two plain threads'
const OVERHEAD_TARGET = 0.05

/** The plain worker thread: one message per count. */
class PlainThread {
  private readonly w = new Worker(new URL('../primes-worker.js', import.meta.url))

  count(ranges: Array<[number, number]>): Promise<{ count: number; ms: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e)
      this.w.once('error', onError)
      this.w.once('message', (r: { count: number; ms: number }) => {
        this.w.off('error', onError)
        resolve(r)
      })
      this.w.postMessage({ ranges })
    })
  }

  async destroy(): Promise<void> {
    await this.w.terminate()
  }
}

interface Contender {
  name: string
  /** Runs one count and returns the primes found. */
  run(): Promise<number>
}

const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })

export const primesSuite: Suite = {
  name: 'primes',
  description: `primes below ${LIMIT.toLocaleString('en-US')} in ${PARTS} goroutines at procs 1 and 2, against one plain worker thread`,
  async run() {
    const modules = [new URL('../primesgoroutines.js', import.meta.url)]
    const rt1 = await Runtime.start({ procs: 1, modules })
    const rt2 = await Runtime.start({ procs: 2, modules })
    const plain = new PlainThread()
    const pair = [new PlainThread(), new PlainThread()]
    const ranges = chunks(LIMIT, PARTS)
    const viaGort = (rt: Runtime) => async (): Promise<number> => {
      const parts = await Promise.all(ranges.map(([lo, hi]) => rt.run(pg.count, lo, hi)))
      return parts.reduce((a, b) => a + b, 0)
    }
    // The machine's own ceiling for this job on two threads: two plain
    // workers, the 64 chunks dealt alternately (so both get the same mix of
    // cheap low and dear high candidates), no scheduler at all.
    const dealt = [ranges.filter((_, i) => i % 2 === 0), ranges.filter((_, i) => i % 2 === 1)]
    const contenders: Contender[] = [
      { name: PLAIN, run: async () => (await plain.count([[0, LIMIT]])).count },
      { name: GORT1, run: viaGort(rt1) },
      { name: GORT2, run: viaGort(rt2) },
      { name: TWO, run: async () => (await Promise.all(pair.map((w, i) => w.count(dealt[i])))).reduce((a, r) => a + r.count, 0) },
    ]
    try {
      // Untimed: warms the JIT of every thread, and fixes the expected count.
      let expected = -1
      for (const c of contenders) {
        const n = await c.run()
        if (expected === -1) expected = n
        else if (n !== expected) throw new Error(`primes: ${c.name} counted ${n}, the plain thread ${expected}`)
      }

      const ms = new Map<string, number[]>(contenders.map((c) => [c.name, []]))
      const neighbours: number[] = []
      let dropped = 0
      let unquiet = 0
      const maxDisturbed = 3 * ROUNDS
      for (let r = 0, clean = 0; clean < ROUNDS && r < ROUNDS + maxDisturbed; r++) {
        if (!(await waitForQuiet(NEIGHBOUR_MAX, QUIET_WAIT_MS))) unquiet++
        const k = r % contenders.length
        let order = [...contenders.slice(k), ...contenders.slice(0, k)]
        if (r % 2 === 1) order = order.reverse()
        const meter = neighbourMeter()
        const times = new Map<string, number>()
        for (const c of order) {
          const t0 = performance.now()
          const n = await c.run()
          times.set(c.name, performance.now() - t0)
          if (n !== expected) throw new Error(`primes: ${c.name} counted ${n}, expected ${expected}`)
        }
        const others = neighbourCores(meter())
        if (others > NEIGHBOUR_MAX && dropped < maxDisturbed) {
          dropped++
          continue
        }
        clean++
        neighbours.push(others)
        for (const [name, t] of times) ms.get(name)!.push(t)
      }

      const med = (name: string): number => quantile(ms.get(name)!, 0.5)
      const plainMs = ms.get(PLAIN)!
      const p1 = ms.get(GORT1)!
      const p2 = ms.get(GORT2)!
      const two = ms.get(TWO)!
      const perRound = (xs: number[], f: (t: number, plainT: number) => number): number[] => xs.map((t, i) => f(t, plainMs[i]))
      const speedups = perRound(p2, (t, b) => b / t)
      const overheads = perRound(p1, (t, b) => t / b - 1)
      const ceilings = perRound(two, (t, b) => b / t)
      const speedup = med(PLAIN) / med(GORT2)
      const overhead = med(GORT1) / med(PLAIN) - 1
      const ceiling = med(PLAIN) / med(TWO)
      const list = (xs: number[], f: (x: number) => string): string => xs.map(f).join(', ')
      const sp = (x: number): string => x.toFixed(2)
      const pct = (x: number): string => (x * 100).toFixed(1)

      const table = [
        '| contender | median ms | rounds (ms) | against the plain thread (per round) | target |',
        '| --- | ---: | --- | --- | --- |',
        `| one plain worker thread, one loop | ${fmt(med(PLAIN), 1)} | ${list(plainMs, (x) => fmt(x))} | 1 | |`,
        `| **gort procs 1**, ${PARTS} goroutines | **${fmt(med(GORT1), 1)}** | ${list(p1, (x) => fmt(x))} | overhead **${pct(overhead)} %** (median per round ${pct(quantile(overheads, 0.5))}; rounds ${list(overheads, pct)}) | ≤ ${OVERHEAD_TARGET * 100} %: ${overhead <= OVERHEAD_TARGET ? 'met' : 'MISSED'} |`,
        `| **gort procs 2**, ${PARTS} goroutines | **${fmt(med(GORT2), 1)}** | ${list(p2, (x) => fmt(x))} | speedup **${sp(speedup)} ×** (median per round ${sp(quantile(speedups, 0.5))}; rounds ${list(speedups, sp)}) | ≥ ${SPEEDUP_TARGET} ×: ${speedup >= SPEEDUP_TARGET ? 'met' : 'MISSED'} |`,
        `| two plain worker threads, the chunks dealt alternately (the ceiling) | ${fmt(med(TWO), 1)} | ${list(two, (x) => fmt(x))} | speedup ${sp(ceiling)} × (median per round ${sp(quantile(ceilings, 0.5))}; rounds ${list(ceilings, sp)}) | |`,
      ]

      const traces: Trace[] = []
      for (let i = 0; i < TRACES; i++) {
        await waitForQuiet(NEIGHBOUR_MAX, QUIET_WAIT_MS)
        const meter = neighbourMeter()
        const t = await trace(rt2, ranges, expected)
        t.neighbours = neighbourCores(meter())
        traces.push(t)
      }
      await waitForQuiet(NEIGHBOUR_MAX, QUIET_WAIT_MS)
      const t1 = await trace(rt1, ranges, expected)
      // Where a run's time went: the Ms' spans (first start to last end)
      // added up, against the plain thread's median (the work, and what
      // gort adds to it on each M), and the rest of procs × wall (an M
      // without work: before its first goroutine, or after its last).
      const traceRow = (name: string, t: Trace, procs: number): string => {
        const spans = t.perM.reduce((a, m) => a + (m.last - m.first), 0)
        const idle = procs * t.wall - spans
        return `| ${name} | ${fmt(t.wall, 1)} | ${t.perM.map((m) => `${m.goroutines} g, ${fmt(m.first, 1)}–${fmt(m.last, 1)} ms, ${m.switches} ×`).join('; ')} | ${fmt(t.lastStart, 1)}: ${t.perM.map((m) => m.left).join(' / ')} | ${fmt(t.tail, 1)} | ${pct(spans / med(PLAIN) - 1)} % | ${fmt(idle, 1)} ms (${pct(idle / (procs * t.wall))} %) | ${t.neighbours.toFixed(2)} |`
      }
      const traceTable = [
        '| traced run | wall ms | per M: goroutines, its first start and its last end (ms after the first rt.run), times a goroutine lost the M at a safe point | when the last goroutine started (ms): goroutines each M had yet to finish | tail: one M done, the other busy (ms) | the Ms\' spans added up, over the plain thread | M time without a goroutine | neighbours (cores) |',
        '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |',
        traceRow('procs 1', t1, 1),
        ...traces.map((t, i) => traceRow(`procs 2, #${i + 1}`, t, 2)),
      ]
      const s1 = rt1.stats()
      const s2 = rt2.stats()
      // Times next to the plain thread's: gort ÷ plain is 1 / speedup at
      // procs 2 and 1 + overhead at procs 1, so the targets are ratios.
      const vs = (workload: string, gortName: string, peerName: string, peer: string): Comparison => ({
        area: 'primes', workload, unit: 'ms', better: 'lower', gort: med(gortName), peer: med(peerName), peerName: peer,
      })
      const comparisons: Comparison[] = [
        {
          ...vs(`${PARTS} goroutines, gort procs 2`, GORT2, PLAIN, 'one plain worker thread'),
          target: { text: `speedup ≥ ${SPEEDUP_TARGET} × (${sp(speedup)} ×)`, met: speedup >= SPEEDUP_TARGET, ratio: 1 / SPEEDUP_TARGET },
        },
        {
          ...vs(`${PARTS} goroutines, gort procs 1`, GORT1, PLAIN, 'one plain worker thread'),
          target: { text: `overhead ≤ ${OVERHEAD_TARGET * 100} % (${pct(overhead)} %)`, met: overhead <= OVERHEAD_TARGET, ratio: 1 + OVERHEAD_TARGET },
        },
        vs(`${PARTS} goroutines, gort procs 2`, GORT2, TWO, 'two plain worker threads (the ceiling)'),
      ]
      return {
        suite: 'primes',
        rows: [],
        tables: [table, traceTable],
        comparisons,
        notes: [
          `primes below ${LIMIT.toLocaleString('en-US')}: ${expected.toLocaleString('en-US')}; ${PARTS} goroutines of ${Math.ceil(LIMIT / PARTS).toLocaleString('en-US')} candidates, a plain yield every 1,024`,
          `${ms.get(PLAIN)!.length} clean rounds (each contender once per round, the order rotating); ${dropped} round(s) dropped because other processes used more than ${NEIGHBOUR_MAX} cores${unquiet > 0 ? `; ${unquiet} round(s) started without a quiet second after ${QUIET_WAIT_MS / 1000} s of waiting` : ''}; neighbours in the kept rounds: ${list(neighbours, (x) => x.toFixed(2))} cores`,
          "speedup = the plain thread's median ÷ the contender's median; overhead = gort procs 1's median ÷ the plain thread's median − 1; per round: the same from that round's pair",
          `traced runs: pg.countTraced, the same loop noting its thread, its first and last step, and the yields after which it waited over 0.2 ms (it had lost the M); the tail is the time between the first and the last M's last end`,
          `Ms at the end: procs 1 ${s1.ms.length}, procs 2 ${s2.ms.length}; sysmon preemptions over the whole suite: procs 1 ${s1.sysmon.preemptions}, procs 2 ${s2.sysmon.preemptions}`,
        ],
      }
    } finally {
      await Promise.all([rt1.close(), rt2.close(), plain.destroy(), ...pair.map((w) => w.destroy())])
    }
  },
}

interface Trace {
  wall: number
  neighbours: number
  /** ms after the first rt.run at which the last goroutine started. */
  lastStart: number
  /** Per M; left: its goroutines still unfinished when the last goroutine started. */
  perM: Array<{ thread: number; goroutines: number; first: number; last: number; switches: number; left: number }>
  /** ms from the moment the first M ran out of goroutines to the end of the last one. */
  tail: number
}

/** One traced run: how the goroutines split over the Ms, and the tail. */
async function trace(rt: Runtime, ranges: Array<[number, number]>, expected: number): Promise<Trace> {
  const t0 = performance.timeOrigin + performance.now()
  const rs = await Promise.all(ranges.map(([lo, hi]) => rt.run(pg.countTraced, lo, hi)))
  const t1 = performance.timeOrigin + performance.now()
  const total = rs.reduce((a, r) => a + r[0], 0)
  if (total !== expected) throw new Error(`primes: traced run counted ${total}, expected ${expected}`)
  // The moment the last goroutine started: from then on there is nothing
  // left to steal, and each M can only finish the goroutines it started.
  const lastStart = Math.max(...rs.map((r) => r[2]))
  const byThread = new Map<number, { start: number; end: number; goroutines: number; switches: number; left: number }>()
  for (const [, thread, start, end, switches] of rs) {
    const m = byThread.get(thread) ?? { start, end, goroutines: 0, switches: 0, left: 0 }
    if (end > lastStart) m.left++
    m.start = Math.min(m.start, start)
    m.end = Math.max(m.end, end)
    m.goroutines++
    m.switches += switches
    byThread.set(thread, m)
  }
  const ends = [...byThread.values()].map((m) => m.end)
  return {
    wall: t1 - t0,
    neighbours: 0,
    lastStart: lastStart - t0,
    perM: [...byThread.entries()].sort((a, b) => a[0] - b[0]).map(([thread, m]) => ({ thread, goroutines: m.goroutines, first: m.start - t0, last: m.end - t0, switches: m.switches, left: m.left })),
    tail: ends.length < 2 ? 0 : Math.max(...ends) - Math.min(...ends),
  }
}
