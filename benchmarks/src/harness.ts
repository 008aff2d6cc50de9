// Shared harness for the suites: batched tinybench tasks, so that operations
// of a few nanoseconds are not lost in the timer's resolution, and a report of
// medians per operation with ratios to a baseline measured in the same run.

import { readFileSync } from 'node:fs'
import os from 'node:os'
import { Bench } from 'tinybench'

export interface Suite {
  name: string
  description: string
  run(): Promise<SuiteResult>
}

export interface Row {
  name: string
  /** Median nanoseconds per operation. */
  nsPerOp: number
  /** The row whose ns/op is the denominator of the ratio. */
  baseline?: string
  /** Target ns/op, if the project has one (ops/s for a throughput row). */
  target?: number
  /**
   * A throughput row: reported as operations per second (1e9 / nsPerOp),
   * higher is better, and its ratio is ops/s over the baseline's ops/s.
   */
  throughput?: boolean
  /** Target ratio to the baseline (ops/s over the baseline's ops/s; throughput rows). */
  targetRatio?: number
  /** Target ratios to other peers of the same baseline, by the peer row's name (spawn: ≥ 3 × the floor). */
  peerTargets?: Record<string, number>
  /** 99th percentile ns/op over all samples, for suites that measure latency. */
  p99?: number
  /** The fastest and the slowest round's median ns/op. */
  range?: [number, number]
  /** Samples behind the median. */
  samples?: number
}

/**
 * One figure of gort next to its peer's, for the report (report.ts) and its
 * charts: the structured twin of a line of a suite's tables. The ratio is
 * always gort ÷ peer; `better` says which way is good.
 */
export interface Comparison {
  /** The report's section: the suite's name, or a part of it ("scale: memory"). */
  area: string
  workload: string
  /** Unit of gort and peer: 'ns/op', 'tasks/s', 'ms', 'bytes/goroutine', ... */
  unit: string
  better: 'lower' | 'higher'
  gort: number
  peer?: number
  /** Who the peer is: "piscina", "Go", "one plain worker thread". */
  peerName?: string
  /**
   * The project's target for this figure, judged by the suite. ratio, if
   * the target is a ratio to the peer, is that bound on gort ÷ peer (the
   * charts mark it).
   */
  target?: { text: string; met: boolean; ratio?: number }
  /** Latency distribution of gort: [quantile 0..1, value in unit]; quantile 1 is the maximum. */
  dist?: Array<[number, number]>
  /** The same for the peer. */
  peerDist?: Array<[number, number]>
}

export interface SuiteResult {
  suite: string
  rows: Row[]
  /** Structured figures for the report; main.ts adds those it can derive from rows (rowComparisons). */
  comparisons?: Comparison[]
  /** Tables a suite formats itself (markdown lines), printed before the rows' tables. */
  tables?: string[][]
  /** Lines printed under the tables: what one operation is, how it was timed. */
  notes?: string[]
}

export interface BatchedTask {
  name: string
  /** Operations per call of fn. */
  batch: number
  fn: () => void
  baseline?: string
  target?: number
}

/**
 * Runs batched tasks interleaved: tinybench measures each task for `time`
 * ms, and the whole set is repeated `rounds` times, alternating, so that a
 * noisy neighbour hits every task alike. The figure is the median over all
 * samples of all rounds.
 */
export async function runBatched(tasks: BatchedTask[], opts: { time?: number; rounds?: number } = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 5
  const medians = new Map<string, number[]>()
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: opts.time ?? 200, warmupTime: 50, retainSamples: true })
    for (const t of tasks) bench.add(t.name, t.fn)
    await bench.run()
    for (const task of bench.tasks) {
      const res = task.result
      if (res.state !== 'completed') throw new Error(`${task.name}: ${res.state}${'error' in res ? `: ${String(res.error)}` : ''}`)
      const t = tasks.find((x) => x.name === task.name)!
      const list = medians.get(task.name) ?? []
      list.push((res.latency.p50 * 1e6) / t.batch)
      medians.set(task.name, list)
    }
  }
  return tasks.map((t) => {
    const xs = medians.get(t.name)!.sort((a, b) => a - b)
    return { name: t.name, nsPerOp: xs[xs.length >> 1], baseline: t.baseline, target: t.target }
  })
}

/**
 * A task whose call is one sample of `ops` operations, for operations too
 * big to batch in a synchronous loop: 100,000 tasks through a pool, one
 * await of a result. fn may return the duration it measured itself, in ms
 * (a figure timed inside a goroutine, without the spawn and the result's
 * trip back); otherwise tinybench times the call.
 */
export interface SampledTask {
  name: string
  /** Operations per call of fn. */
  ops: number
  fn: () => Promise<number | void>
  baseline?: string
  target?: number
  targetRatio?: number
  peerTargets?: Record<string, number>
  throughput?: boolean
}

export interface RoundsOptions {
  /** Rounds; the set of tasks runs once per round, the order reversed every other round. Default 5 (env BENCH_ROUNDS). */
  rounds?: number
  /** Calls of each task per round (tinybench's minimum iterations). Default 1. */
  samples?: number
  /** Also keep calling for this long per task and round, in ms (tinybench's time budget). Default 0. */
  time?: number
  /** Untimed calls of each task before the first round. Default 1. */
  warmup?: number
}

/**
 * Runs sampled tasks round by round: each round is one tinybench run of
 * every task, so that the tasks alternate and a noisy neighbour, a
 * frequency change or a GC hits them alike; every other round runs them in
 * reverse order, so no task always goes first. The median (and p99) are
 * over all samples of all rounds; range is the fastest and slowest round.
 */
export async function runRounds(tasks: SampledTask[], opts: RoundsOptions = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? (Number(process.env.BENCH_ROUNDS) || 5)
  for (let i = 0; i < (opts.warmup ?? 1); i++) for (const t of tasks) await t.fn()
  const all = new Map<string, number[]>(tasks.map((t) => [t.name, []]))
  const perRound = new Map<string, number[]>(tasks.map((t) => [t.name, []]))
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({
      iterations: opts.samples ?? 1,
      time: opts.time ?? 0,
      warmup: false,
      retainSamples: true,
      throws: true,
    })
    const order = r % 2 === 0 ? tasks : [...tasks].reverse()
    for (const t of order) {
      // async: true, or tinybench calls fn once at add() to see if it returns a promise.
      bench.add(
        t.name,
        async () => {
          const d = await t.fn()
          return typeof d === 'number' ? { overriddenDuration: d } : undefined
        },
        { async: true },
      )
    }
    await bench.run()
    for (const task of bench.tasks) {
      const res = task.result
      if (res.state !== 'completed') throw new Error(`${task.name}: ${res.state}${'error' in res ? `: ${String(res.error)}` : ''}`)
      const t = tasks.find((x) => x.name === task.name)!
      const xs = (res.latency.samples ?? []).map((ms) => (ms * 1e6) / t.ops)
      // Not push(...xs): a fast task's samples (tinybench takes them for a
      // time budget) can outnumber what a call's arguments may be.
      const into = all.get(t.name)!
      for (const x of xs) into.push(x)
      perRound.get(t.name)!.push(quantile(xs, 0.5))
    }
  }
  return tasks.map((t) => {
    const xs = all.get(t.name)!
    const rs = perRound.get(t.name)!
    return {
      name: t.name,
      nsPerOp: quantile(xs, 0.5),
      p99: quantile(xs, 0.99),
      range: [Math.min(...rs), Math.max(...rs)] as [number, number],
      samples: xs.length,
      baseline: t.baseline,
      target: t.target,
      targetRatio: t.targetRatio,
      peerTargets: t.peerTargets,
      throughput: t.throughput,
    }
  })
}

/** The q-quantile of xs (nearest rank, no interpolation). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
}

/** The quantiles every latency distribution records (Comparison.dist); 1 is the maximum. */
export const DIST_QUANTILES = [0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1] as const

/** xs's distribution at DIST_QUANTILES, for Comparison.dist. */
export function distribution(xs: ArrayLike<number>): Array<[number, number]> {
  const s = Float64Array.from(xs).sort()
  return DIST_QUANTILES.map((q) => [q, s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]])
}

/**
 * The comparisons a suite's rows imply: every row with a baseline is a
 * figure next to its baseline's, and a row with a target but no baseline
 * a figure alone. Rows are gort's unless some row's name starts with
 * "gort": then the other rows with a baseline are peers (spawn's tinypool,
 * latency's postMessage floor), and each gort row with the same baseline is
 * also put next to each of them.
 */
export function rowComparisons(r: Pick<SuiteResult, 'suite' | 'rows'>): Comparison[] {
  const byName = new Map(r.rows.map((x) => [x.name, x]))
  const isGort = (x: Row): boolean => x.name.startsWith('gort')
  const hasGort = r.rows.some(isGort)
  const figure = (x: Row): number => (x.throughput === true ? 1e9 / x.nsPerOp : x.nsPerOp)
  const unit = (x: Row): string => (x.throughput === true ? 'ops/s' : 'ns/op')
  const better = (x: Row): 'lower' | 'higher' => (x.throughput === true ? 'higher' : 'lower')
  const out: Comparison[] = []
  for (const x of r.rows) {
    if (hasGort && !isGort(x)) continue
    const base = x.baseline === undefined ? undefined : byName.get(x.baseline)
    if (base === undefined && x.target === undefined) continue
    const c: Comparison = { area: r.suite, workload: x.name, unit: unit(x), better: better(x), gort: figure(x) }
    if (base !== undefined) {
      c.peer = figure(base)
      c.peerName = base.name
    }
    if (x.target !== undefined) {
      const met = x.throughput === true ? c.gort >= x.target : c.gort <= x.target
      c.target = { text: `${x.throughput === true ? '≥' : '≤'} ${fmtInt(x.target)} ${c.unit}`, met }
    }
    if (x.targetRatio !== undefined && c.peer !== undefined) {
      const ratio = c.gort / c.peer
      const met = c.better === 'higher' ? ratio >= x.targetRatio : ratio <= x.targetRatio
      const text = `${c.better === 'higher' ? '≥' : '≤'} ${x.targetRatio} × ${base!.name}`
      c.target = c.target === undefined ? { text, met, ratio: x.targetRatio } : { text: `${c.target.text}; ${text}`, met: c.target.met && met, ratio: x.targetRatio }
    }
    out.push(c)
    if (base === undefined) continue
    for (const peer of r.rows) {
      if (isGort(peer) || peer === base || peer.baseline !== x.baseline || !hasGort) continue
      const pc: Comparison = { area: r.suite, workload: x.name, unit: unit(x), better: better(x), gort: figure(x), peer: figure(peer), peerName: peer.name }
      const want = x.peerTargets?.[peer.name]
      if (want !== undefined) {
        const ratio = pc.gort / pc.peer!
        pc.target = {
          text: `${pc.better === 'higher' ? '≥' : '≤'} ${want} × ${peer.name}`,
          met: pc.better === 'higher' ? ratio >= want : ratio <= want,
          ratio: want,
        }
      }
      out.push(pc)
    }
  }
  return out
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

export function formatResult(r: SuiteResult): string {
  const byName = new Map(r.rows.map((x) => [x.name, x]))
  const timeRows = r.rows.filter((x) => x.throughput !== true)
  const rateRows = r.rows.filter((x) => x.throughput === true)
  // Suites of plain batched rows (runq) keep the original table exactly.
  const extras = r.rows.some((x) => x.p99 !== undefined || x.range !== undefined)
  const lines = [`## ${r.suite}`]
  for (const t of r.tables ?? []) lines.push('', ...t)
  if (timeRows.length > 0) {
    const withP99 = timeRows.some((x) => x.p99 !== undefined)
    lines.push(
      '',
      `| operation | median ns/op |${withP99 ? ' p99 ns/op |' : ''} ratio to baseline | target |${extras ? ' rounds (min–max median) | samples |' : ''}`,
      `| --- | ---: |${withP99 ? ' ---: |' : ''} ---: | --- |${extras ? ' ---: | ---: |' : ''}`,
    )
    for (const row of timeRows) {
      const base = row.baseline ? byName.get(row.baseline) : undefined
      const ratio = base ? `${(row.nsPerOp / base.nsPerOp).toFixed(2)} × (${row.baseline})` : 'baseline'
      const target = row.target === undefined ? '' : `≤ ${row.target} ns: ${row.nsPerOp <= row.target ? 'met' : 'MISSED'}`
      const p99 = withP99 ? ` ${row.p99 === undefined ? '' : fmtNs(row.p99)} |` : ''
      const more = extras ? ` ${row.range ? `${fmtNs(row.range[0])}–${fmtNs(row.range[1])}` : ''} | ${row.samples ?? ''} |` : ''
      lines.push(`| ${row.name} | ${fmtNs(row.nsPerOp)} |${p99} ${ratio} | ${target} |${more}`)
    }
  }
  if (rateRows.length > 0) {
    lines.push(
      '',
      `| operation | median ops/s | ratio to baseline (higher is better) | target |${extras ? ' rounds (min–max median ops/s) | samples |' : ''}`,
      `| --- | ---: | ---: | --- |${extras ? ' ---: | ---: |' : ''}`,
    )
    for (const row of rateRows) {
      const ops = 1e9 / row.nsPerOp
      const base = row.baseline ? byName.get(row.baseline) : undefined
      const ratioNum = base ? base.nsPerOp / row.nsPerOp : undefined
      const ratio = ratioNum === undefined ? 'baseline' : `${fmtRatio(ratioNum)} × (${row.baseline})`
      const targets: string[] = []
      if (row.target !== undefined) targets.push(`≥ ${fmtInt(row.target)}/s: ${ops >= row.target ? 'met' : 'MISSED'}`)
      if (row.targetRatio !== undefined && ratioNum !== undefined) {
        targets.push(`≥ ${row.targetRatio} × ${row.baseline}: ${ratioNum >= row.targetRatio ? 'met' : 'MISSED'}`)
      }
      const more = extras
        ? ` ${row.range ? `${fmtInt(1e9 / row.range[1])}–${fmtInt(1e9 / row.range[0])}` : ''} | ${row.samples ?? ''} |`
        : ''
      lines.push(`| ${row.name} | ${fmtInt(ops)} | ${ratio} | ${targets.join('; ')} |${more}`)
    }
  }
  if (r.notes && r.notes.length > 0) lines.push('', ...r.notes.map((n) => `- ${n}`))
  return lines.join('\n')
}

/** ns with one decimal below 1 µs (as the runq table always had), whole ns with separators above. */
function fmtNs(x: number): string {
  return x < 1000 ? x.toFixed(1) : fmtInt(x)
}

function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US')
}

function fmtRatio(x: number): string {
  return x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)
}

export function machine(): string {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}`
}

/** Busy CPU seconds of the whole machine since boot (Linux /proc/stat), or undefined. */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    const busy = f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0)
    return busy / 100 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

/** CPU seconds of this process's reaped children (a suite's helper processes), from /proc/self/stat. */
function childrenSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[13]) + Number(f[14])) / 100 // cutime, cstime (fields 16 and 17)
  } catch {
    return 0
  }
}

/**
 * Starts measuring the CPU that other processes use while a suite runs;
 * the returned function says how much, in cores (the machine's busy time
 * minus this process's, over the wall time), with the load average.
 */
export function neighbourMeter(): () => string {
  const busy0 = machineBusySeconds()
  const own0 = process.cpuUsage()
  const kids0 = childrenSeconds()
  const t0 = performance.now()
  const load0 = os.loadavg()[0]
  return () => {
    const wall = (performance.now() - t0) / 1000
    const busy1 = machineBusySeconds()
    const own = process.cpuUsage(own0)
    const ownS = (own.user + own.system) / 1e6 + (childrenSeconds() - kids0)
    const load = `load average (1 min) ${load0.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after`
    if (busy0 === undefined || busy1 === undefined || wall <= 0) return load
    const others = Math.max(0, (busy1 - busy0 - ownS) / wall)
    return `other processes used ${others.toFixed(2)} of ${os.cpus().length} cores during the suite (this one and its children ${(ownS / wall).toFixed(2)}); ${load}`
  }
}

/** Cores other processes used, read from neighbourMeter's sentence (0 where it cannot tell). */
export function neighbourCores(sentence: string): number {
  const m = /other processes used ([\d.]+) of/.exec(sentence)
  return m === null ? 0 : Number(m[1])
}

/**
 * Waits, up to limitMs, for a second in which other processes used at most
 * maxCores (neighbourMeter); says whether it found one. The figures are
 * still checked afterwards: a neighbour can start in the middle of a run.
 */
export async function waitForQuiet(maxCores: number, limitMs: number): Promise<boolean> {
  const t0 = performance.now()
  for (;;) {
    const meter = neighbourMeter()
    await sleep(1000)
    if (neighbourCores(meter()) <= maxCores) return true
    if (performance.now() - t0 > limitMs) return false
  }
}
