// `gort trace summary out.json`: what `go tool trace`'s goroutine analysis
// shows (internal/trace's GoroutineSummary): per function, how many
// goroutines, their total run time, and the time they spent blocked, by
// wait reason, and runnable, waiting for a P (scheduler latency).

import type { ChromeTrace, GoroutineTime } from './chrome.js'

export interface FunctionSummary {
  fn: string
  goroutines: number
  runUs: number
  runnableUs: number
  blockedUs: Record<string, number>
}

/** Per function, most run time first. */
export function summarize(trace: ChromeTrace): FunctionSummary[] {
  if (trace === null || typeof trace !== 'object' || trace.gort === undefined || !Array.isArray(trace.gort.goroutines)) {
    throw new TypeError('trace summary: not a gort trace (no gort.goroutines section; record it with rt.trace.stop() or gort run --trace)')
  }
  const by = new Map<string, FunctionSummary>()
  for (const g of trace.gort.goroutines as GoroutineTime[]) {
    let s = by.get(g.fn)
    if (s === undefined) by.set(g.fn, (s = { fn: g.fn, goroutines: 0, runUs: 0, runnableUs: 0, blockedUs: {} }))
    s.goroutines++
    s.runUs += g.runUs
    s.runnableUs += g.runnableUs
    for (const [r, us] of Object.entries(g.blockedUs)) s.blockedUs[r] = (s.blockedUs[r] ?? 0) + us
  }
  return [...by.values()].sort((x, y) => y.runUs - x.runUs || x.fn.localeCompare(y.fn))
}

function ms(us: number): string {
  return (us / 1000).toFixed(3)
}

/** The summary as a table (times in ms), as the CLI prints it. */
export function formatSummary(trace: ChromeTrace): string {
  const rows = summarize(trace)
  const reasons = [...new Set(rows.flatMap((r) => Object.keys(r.blockedUs)))].sort()
  const head = ['function', 'goroutines', 'run ms', 'runnable ms', ...reasons.map((r) => `${r} ms`)]
  const body = rows.map((r) => [r.fn, String(r.goroutines), ms(r.runUs), ms(r.runnableUs), ...reasons.map((x) => ms(r.blockedUs[x] ?? 0))])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  const g = trace.gort
  const out = [
    `trace: ${ms(g.durationUs)} ms, ${g.procs} Ps, ${g.goroutines.length} goroutines${g.dropped > 0 ? `, ${g.dropped} events dropped (raise traceBufferSize)` : ''}`,
    line(head),
    ...body.map(line),
  ]
  return out.join('\n') + '\n'
}
