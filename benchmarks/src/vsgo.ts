// The runner of the suites that compare gort with Go itself (chan, select,
// mutex): Go's benchmark runs first, on its own (go.ts), then the gort
// workloads run round by round (harness.ts runRounds), and the report puts
// gort's median ns/op, Go's and the ratio side by side, one row per workload.

import { Runtime } from 'gort'
import { quantile, runRounds, type Comparison, type Row, type SuiteResult } from './harness.js'
import { GO_NOT_INSTALLED, goAvailable, goFigure, runGo, type GoFigure } from './go.js'
import type { Timed } from './changoroutines.js'

/** A target of the issue: at most a ratio to Go, at most ns per op, or at least ops per second. */
export type Target = { ratioToGo: number } | { maxNs: number } | { minPerSec: number; unit: string }

export interface Workload {
  /** The row's name: Go's benchmark name without "Benchmark" (or this project's). */
  name: string
  /** What one operation is. */
  op: string
  /** Ps of the gort runtime (and GOMAXPROCS of the Go run). */
  procs: number
  /** The Go benchmark to compare with (name without "Benchmark"), or none. */
  go?: { name: string; cpu: number; note?: string }
  /** Operations per sample. */
  ops: number
  /** Runs one sample on rt; resolves to [ms timed on the M, Ms that ran the workers]. */
  sample(rt: Runtime): Promise<Timed>
  target?: Target
}

export interface VsGoOptions {
  suite: string
  /** Samples per round and task (default 3). */
  samples?: number
  /** Untimed samples of each task first (default 2). */
  warmup?: number
  notes?: string[]
  /** Goroutine modules every M imports at start (default: changoroutines.ts). */
  modules?: URL[]
  /** The Go file the Go figures come from, for the report (default benchmarks/go/chan_test.go). */
  goSource?: string
  /** `go test -count` (default: env GO_COUNT, else 3). */
  goCount?: number
}

/** Runs the workloads on gort (one runtime per procs value) and Go, and builds the report. */
export async function runVsGo(all: Workload[], opts: VsGoOptions): Promise<SuiteResult> {
  // BENCH_ONLY=regex narrows a suite to the workloads whose names match.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined
  const workloads = only ? all.filter((w) => only.test(w.name)) : all
  // Go first and alone, so that neither side disturbs the other.
  await runGo(workloads.flatMap((w) => (w.go ? [{ name: w.go.name, cpu: w.go.cpu }] : [])), opts.goCount)
  const modules = opts.modules ?? [new URL('./changoroutines.js', import.meta.url)]
  const runtimes = new Map<number, Runtime>()
  try {
    for (const procs of new Set(workloads.map((w) => w.procs))) runtimes.set(procs, await Runtime.start({ procs, modules }))
    // Per sample: how many Ms ran the workload's goroutines, and its ns/op.
    const threads = new Map<string, Array<[number, number]>>(workloads.map((w) => [w.name, []]))
    const rows = await runRounds(
      workloads.map((w) => ({
        name: w.name,
        ops: w.ops,
        fn: async () => {
          const [ms, nthreads] = await w.sample(runtimes.get(w.procs)!)
          threads.get(w.name)!.push([nthreads, (ms * 1e6) / w.ops])
          return ms
        },
      })),
      { samples: opts.samples ?? 3, warmup: opts.warmup ?? 2 },
    )
    // Where the workers ran: a started goroutine never moves, so a sample
    // whose goroutines all landed on one M runs without a cross-thread wake-up.
    const spread: string[] = []
    for (const w of workloads) {
      if (w.procs < 2) continue
      const byCount = new Map<number, number[]>()
      for (const [k, ns] of threads.get(w.name)!.slice(opts.warmup ?? 2)) byCount.set(k, [...(byCount.get(k) ?? []), ns])
      const parts = [...byCount].sort((a, b) => a[0] - b[0])
      spread.push(
        `${w.name} ` +
          parts.map(([k, xs]) => `${xs.length}× on ${k}${parts.length > 1 ? ` (median ${fmtNs(quantile(xs, 0.5))} ns/op)` : ''}`).join(', '),
      )
    }
    const ms = [...runtimes].map(([procs, rt]) => `procs ${procs}: ${rt.stats().ms.length}`).join(', ')
    return {
      suite: opts.suite,
      rows: [],
      tables: [table(workloads, rows)],
      comparisons: comparisons(opts.suite, workloads, rows),
      notes: [
        'gort: median ns/op over all samples of all rounds, each sample timed on an M around the workload (see changoroutines.ts); ' +
          'rounds = the fastest and slowest round median',
        goAvailable() === null
          ? `Go: ${GO_NOT_INSTALLED}; the gort side ran alone`
          : `Go: ${goAvailable()}; median ns/op of \`go test -bench\` runs (${opts.goSource ?? 'benchmarks/go/chan_test.go'})`,
        ...(spread.length > 0 ? [`Ms that ran a sample's goroutines (samples × M count): ${spread.join('; ')}`] : []),
        `Ms (worker threads) at the end: ${ms}`,
        ...(opts.notes ?? []),
      ],
    }
  } finally {
    for (const rt of runtimes.values()) await rt.close()
  }
}

function table(workloads: Workload[], rows: Row[]): string[] {
  const lines = [
    '| workload | one op | procs | gort ns/op | gort rounds (min–max) | Go ns/op | gort ÷ Go | target |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  for (const w of workloads) {
    const r = rows.find((x) => x.name === w.name)!
    const g: GoFigure | undefined = w.go ? goFigure(w.go.name, w.go.cpu) : undefined
    const goNs = g === undefined ? '–' : 'error' in g ? g.error : `${fmtNs(g.nsPerOp)}${w.go!.cpu !== w.procs ? ` (GOMAXPROCS ${w.go!.cpu})` : ''}${w.go!.note ? ` ${w.go!.note}` : ''}`
    const ratio = g !== undefined && !('error' in g) ? r.nsPerOp / g.nsPerOp : undefined
    const rounds = r.range ? `${fmtNs(r.range[0])}–${fmtNs(r.range[1])}` : ''
    lines.push(`| ${w.name} | ${w.op} | ${w.procs} | ${fmtNs(r.nsPerOp)} | ${rounds} | ${goNs} | ${ratio === undefined ? '–' : `${fmtRatio(ratio)} ×`} | ${targetText(w.target, r.nsPerOp, ratio)} |`)
  }
  return lines
}

/** Each workload's gort ns/op next to Go's, with its target (Comparison, for the report). */
function comparisons(area: string, workloads: Workload[], rows: Row[]): Comparison[] {
  return workloads.map((w) => {
    const r = rows.find((x) => x.name === w.name)!
    const g: GoFigure | undefined = w.go ? goFigure(w.go.name, w.go.cpu) : undefined
    const c: Comparison = { area, workload: w.name, unit: 'ns/op', better: 'lower', gort: r.nsPerOp }
    if (g !== undefined && !('error' in g)) {
      c.peer = g.nsPerOp
      c.peerName = w.go!.cpu !== w.procs || w.go!.name !== w.name ? `Go ${w.go!.name}, GOMAXPROCS ${w.go!.cpu}` : `Go, GOMAXPROCS ${w.go!.cpu}`
    }
    const t = w.target
    if (t !== undefined) {
      const ratio = c.peer === undefined ? undefined : r.nsPerOp / c.peer
      if ('ratioToGo' in t) c.target = { text: `≤ ${t.ratioToGo} × Go${ratio === undefined ? ' (no Go figure)' : ''}`, met: ratio !== undefined && ratio <= t.ratioToGo, ratio: t.ratioToGo }
      else if ('maxNs' in t) c.target = { text: `≤ ${fmtInt(t.maxNs)} ns/op`, met: r.nsPerOp <= t.maxNs }
      else c.target = { text: `≥ ${fmtInt(t.minPerSec)} ${t.unit}/s (${fmtInt(1e9 / r.nsPerOp)}/s)`, met: 1e9 / r.nsPerOp >= t.minPerSec }
    }
    return c
  })
}

function targetText(t: Target | undefined, ns: number, ratio: number | undefined): string {
  if (t === undefined) return ''
  if ('ratioToGo' in t) {
    if (ratio === undefined) return `≤ ${t.ratioToGo} × Go: no Go figure`
    return `≤ ${t.ratioToGo} × Go: ${ratio <= t.ratioToGo ? 'met' : 'MISSED'}`
  }
  if ('maxNs' in t) return `≤ ${fmtNs(t.maxNs)} ns: ${ns <= t.maxNs ? 'met' : 'MISSED'}`
  const rate = 1e9 / ns
  return `≥ ${fmtInt(t.minPerSec)} ${t.unit}/s: ${rate >= t.minPerSec ? 'met' : 'MISSED'} (${fmtInt(rate)}/s)`
}

function fmtNs(x: number): string {
  return x < 1000 ? x.toFixed(1) : fmtInt(x)
}

function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US')
}

function fmtRatio(x: number): string {
  return x >= 10 ? x.toFixed(1) : x.toFixed(2)
}
