// Shared harness for the suites: batched tinybench tasks, so that operations
// of a few nanoseconds are not lost in the timer's resolution, and a report of
// medians per operation with ratios to a baseline measured in the same run.

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
  /** Target ns/op, if the project has one. */
  target?: number
}

export interface SuiteResult {
  suite: string
  rows: Row[]
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

export function formatResult(r: SuiteResult): string {
  const byName = new Map(r.rows.map((x) => [x.name, x]))
  const lines = [`## ${r.suite}`, '', '| operation | median ns/op | ratio to baseline | target |', '| --- | ---: | ---: | --- |']
  for (const row of r.rows) {
    const base = row.baseline ? byName.get(row.baseline) : undefined
    const ratio = base ? `${(row.nsPerOp / base.nsPerOp).toFixed(2)} × (${row.baseline})` : 'baseline'
    const target = row.target === undefined ? '' : `≤ ${row.target} ns: ${row.nsPerOp <= row.target ? 'met' : 'MISSED'}`
    lines.push(`| ${row.name} | ${row.nsPerOp.toFixed(1)} | ${ratio} | ${target} |`)
  }
  return lines.join('\n')
}

export function machine(): string {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}`
}
