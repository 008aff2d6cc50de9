// The timeline in docs/trace.md: a run of the primes demo (packages/demo:
// primes counted in 64 goroutines) recorded with rt.trace, drawn from the
// trace's Chrome JSON in the style of the benchmark charts (report.ts).
//
//   pnpm --filter gort-benchmarks exec node dist/tracesvg.js [out.svg] [trace.json]
//
// Lanes: one per P (the goroutine slices, coloured by goroutine, labelled
// where they are wide enough; red ticks where a goroutine was preempted),
// then one per M; below, the goroutines and runnable-goroutines counters.

import { writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Runtime, type ChromeTrace } from 'gort'
import { BAD, esc, GORT, n, PEER, svg } from './report.js'

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#bab0ac', '#e15759', '#ff9da7']

/** Draws a trace's P and M lanes and its counters. */
export function timelineSvg(trace: ChromeTrace, title: string): string {
  const ev = trace.traceEvents
  const names = new Map(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, String((e.args as { name: string }).name)]))
  const slices = ev.filter((e) => e.ph === 'X' && e.cat === 'goroutine')
  const lanes = [...new Set(slices.map((e) => e.tid))].sort((a, b) => a - b)
  const t1 = Math.max(...ev.filter((e) => e.ph !== 'M').map((e) => e.ts + (e.dur ?? 0)), 1)
  const W = 1100
  const left = 130
  const right = 20
  const laneH = 26
  const top = 50
  const plotW = W - left - right
  const x = (ts: number): number => left + (ts / t1) * plotW
  const body: string[] = [`<text x="10" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`]
  lanes.forEach((tid, i) => {
    const y = top + i * laneH
    body.push(`<text x="${left - 6}" y="${n(y + laneH / 2 + 4)}" font-size="11" text-anchor="end">${esc(names.get(tid) ?? `lane ${tid}`)}</text>`)
    body.push(`<line x1="${left}" y1="${n(y + laneH - 1)}" x2="${W - right}" y2="${n(y + laneH - 1)}" stroke="#ddd"/>`)
    for (const s of slices.filter((e) => e.tid === tid)) {
      const goid = (s.args as { goid: number }).goid
      const x0 = x(s.ts)
      const w = Math.max(0.6, x(s.ts + s.dur!) - x0)
      body.push(`<rect x="${n(x0)}" y="${n(y + 3)}" width="${n(w)}" height="${laneH - 8}" fill="${PALETTE[goid % PALETTE.length]}"><title>${esc(`${s.name}: ${(s.dur! / 1000).toFixed(3)} ms (${String((s.args as { end: string }).end)})`)}</title></rect>`)
      if (w > 7 * s.name.split(' ')[0].length) body.push(`<text x="${n(x0 + 2)}" y="${n(y + laneH / 2 + 3)}" font-size="9" fill="#fff">${esc(s.name.split(' ')[0])}</text>`)
    }
    for (const p of ev.filter((e) => e.ph === 'i' && e.name === 'preempted' && e.tid === tid)) {
      body.push(`<path d="M${n(x(p.ts))} ${n(y)} v${laneH - 2}" stroke="${BAD}" stroke-width="1.2"/>`)
    }
  })
  // Counters: goroutines and runnable goroutines, as step lines.
  const cTop = top + lanes.length * laneH + 20
  const cH = 90
  const series = (name: string, key: string): Array<[number, number]> => ev.filter((e) => e.ph === 'C' && e.name === name).map((e) => [e.ts, Number((e.args as Record<string, number>)[key])])
  const gsr = series('goroutines', 'goroutines')
  const rsr = series('runnable goroutines', 'runnable')
  const vmax = Math.max(1, ...gsr.map((p) => p[1]), ...rsr.map((p) => p[1]))
  const y = (v: number): number => cTop + cH - (v / vmax) * cH
  const step = (pts: Array<[number, number]>): string => pts.map(([t, v], i) => `${i === 0 ? 'M' : 'H'}${n(x(t))}${i === 0 ? ` ${n(y(v))}` : ` V${n(y(v))}`}`).join(' ')
  body.push(`<rect x="${left}" y="${cTop}" width="${plotW}" height="${cH}" fill="none" stroke="#000"/>`)
  body.push(`<path d="${step(gsr)}" fill="none" stroke="${GORT}" stroke-width="2"/>`)
  body.push(`<path d="${step(rsr)}" fill="none" stroke="${PEER}" stroke-width="2" stroke-dasharray="6 3"/>`)
  body.push(`<text x="${left - 6}" y="${n(y(vmax) + 10)}" font-size="10" text-anchor="end">${vmax}</text>`, `<text x="${left - 6}" y="${n(y(0))}" font-size="10" text-anchor="end">0</text>`)
  const ly = cTop + cH + 40
  body.push(
    `<line x1="${left}" y1="${ly}" x2="${left + 24}" y2="${ly}" stroke="${GORT}" stroke-width="2.5"/><text x="${left + 30}" y="${ly + 4}" font-size="12">goroutines</text>`,
    `<line x1="${left + 120}" y1="${ly}" x2="${left + 144}" y2="${ly}" stroke="${PEER}" stroke-width="2.5" stroke-dasharray="6 3"/><text x="${left + 150}" y="${ly + 4}" font-size="12">runnable goroutines</text>`,
    `<path d="M${left + 310} ${ly - 8} v14" stroke="${BAD}" stroke-width="1.5"/><text x="${left + 318}" y="${ly + 4}" font-size="12">a goroutine preempted (sysmon asked, it yielded)</text>`,
  )
  // Time axis.
  const ticks = 10
  for (let i = 0; i <= ticks; i++) {
    const t = (t1 * i) / ticks
    body.push(`<text x="${n(x(t))}" y="${cTop + cH + 16}" font-size="10" text-anchor="middle">${(t / 1000).toFixed(0)}</text>`)
  }
  body.push(`<text x="${n(left + plotW / 2)}" y="${cTop + cH + 28}" font-size="11" text-anchor="middle">ms since the trace started</text>`)
  return svg(W, ly + 20, title, body)
}

/** Records the primes demo's workload (its module, 64 goroutines) at procs 2. */
async function recordPrimes(limit: number): Promise<ChromeTrace> {
  const url = new URL('../../packages/demo/dist/primes.js', import.meta.url)
  const { primes } = (await import(url.href)) as { primes: { count: (lo: number, hi: number) => Generator<unknown, number> } }
  const rt = await Runtime.start({ procs: 2, modules: [url] })
  try {
    rt.trace.start()
    const parts = 64
    const step = Math.ceil(limit / parts)
    await Promise.all(Array.from({ length: parts }, (_, i) => rt.run(primes.count, i * step, Math.min(limit, (i + 1) * step))))
    return await rt.trace.stop()
  } finally {
    await rt.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../../docs/trace/primes-timeline.svg', import.meta.url))
  const limit = Number(process.env.LIMIT) || 2_000_000
  const trace = await recordPrimes(limit)
  if (process.argv[3] !== undefined) writeFileSync(process.argv[3], JSON.stringify(trace))
  writeFileSync(out, timelineSvg(trace, `The primes demo traced: primes below ${limit.toLocaleString('en-US')} in 64 goroutines, procs 2`))
  console.log(`tracesvg: ${out}`)
}
