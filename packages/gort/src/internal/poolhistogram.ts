// gort/pool's run and wait times: piscina 5.3's PiscinaHistogramHandler,
// over node:perf_hooks' RecordableHistogram. Values are recorded in
// microseconds (integer, at least 1) and summarized in milliseconds.

import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'

export type PiscinaHistogramSummary = {
  average: number; mean: number; stddev: number; min: number; max: number
  p0_001: number; p0_01: number; p0_1: number; p1: number; p2_5: number; p10: number; p25: number; p50: number
  p75: number; p90: number; p97_5: number; p99: number; p99_9: number; p99_99: number; p99_999: number
}

export type PiscinaHistogram = {
  runTime: PiscinaHistogramSummary
  waitTime: PiscinaHistogramSummary
  resetRunTime(): void
  resetWaitTime(): void
}

const PERCENTILES: Array<[keyof PiscinaHistogramSummary, number]> = [
  ['p0_001', 0.001], ['p0_01', 0.01], ['p0_1', 0.1], ['p1', 1], ['p2_5', 2.5], ['p10', 10], ['p25', 25], ['p50', 50],
  ['p75', 75], ['p90', 90], ['p97_5', 97.5], ['p99', 99], ['p99_9', 99.9], ['p99_99', 99.99], ['p99_999', 99.999],
]

export class PoolHistogram {
  readonly #runTime: RecordableHistogram = createHistogram()
  readonly #waitTime: RecordableHistogram = createHistogram()

  get runTimeSummary(): PiscinaHistogramSummary {
    return summarize(this.#runTime)
  }

  get waitTimeSummary(): PiscinaHistogramSummary {
    return summarize(this.#waitTime)
  }

  get runTimeCount(): number {
    return this.#runTime.count
  }

  recordRunTime(ms: number): void {
    this.#runTime.record(toMicros(ms))
  }

  recordWaitTime(ms: number): void {
    this.#waitTime.record(toMicros(ms))
  }

  resetRunTime(): void {
    this.#runTime.reset()
  }

  resetWaitTime(): void {
    this.#waitTime.reset()
  }
}

function toMicros(ms: number): number {
  return Math.max(1, Math.trunc(ms * 1000))
}

function summarize(h: RecordableHistogram): PiscinaHistogramSummary {
  const s = { average: h.mean / 1000, mean: h.mean / 1000, stddev: h.stddev / 1000, min: h.min / 1000, max: h.max / 1000 } as PiscinaHistogramSummary
  for (const [k, p] of PERCENTILES) s[k] = h.percentile(p) / 1000
  return s
}
