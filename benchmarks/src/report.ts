// The report: docs/benchmarks.md's generated region and its charts, made
// from the raw figures in benchmarks/results/*.json (one file per `pnpm
// bench` run, written by main.ts).
//
// For each suite the report takes the latest run that contains it (by its
// start time, then its file name), so that `pnpm bench chan` refreshes the
// chan section and leaves the others as the last full run left them. Each
// area says which file, commit, machine, Node and Go it comes from. A
// suite's figures are its Comparisons (harness.ts): the ones it made
// itself, and those its rows imply (rowComparisons); a file written before
// suites had comparisons still gives those of its rows.
//
// What is written:
//  - docs/benchmarks.md, between the marker lines REGION_BEGIN and
//    REGION_END only: a table of the runs used, a Targets table (every
//    target, its figure, met or MISSED, and its run), then one table per
//    area. Everything outside the markers is hand-written analysis and is
//    kept byte for byte. If the page has no markers yet, they are inserted
//    after its intro paragraph and suite overview table (the first table).
//  - docs/benchmarks/ratios.svg: gort against its peer for every
//    comparison that has one, on a log scale of "times better", with the
//    targets marked; docs/benchmarks/latency.svg: the latency
//    distributions (Comparison.dist and peerDist: the jobs suite's p50 to
//    max at each rate). A chart without data is not written (an old one is
//    removed).
//
// The output is a function of the JSON files only: no clock, no locale
// (numbers are formatted 'en-US'), files read in sorted order. So a
// rerun without new results changes nothing.
//
// Run: `pnpm report` from the root, or `node dist/report.js`; main.ts
// calls writeReport() at the end of every `pnpm bench`.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { rowComparisons, type Comparison, type SuiteResult } from './harness.js'

/** One `pnpm bench` run, as written to benchmarks/results/. */
export interface RunRecord {
  started: string
  machine: { cpu: string; cores: number; memoryBytes: number; platform: string }
  node: string
  /** `go version`, or 'not installed'. */
  go: string
  commit: string
  /** The knobs (environment variables) the run was made with; empty for a run at the defaults. Older files lack it. */
  knobs?: Record<string, string>
  suites: Array<SuiteResult & { neighbours: string; seconds: number }>
}

export const REGION_BEGIN = '<!-- report:begin -->'
export const REGION_END = '<!-- report:end -->'

/** The order of the areas in the report (the order of `pnpm bench`); other suites follow by name. */
const SUITE_ORDER = ['runq', 'spawn', 'create', 'gosched', 'latency', 'chan', 'select', 'mutex', 'parallel', 'sysmon', 'scale', 'jobs', 'primes', 'pool', 'start', 'http', 'bullmq', 'trace']

export interface ReportPaths {
  /** The directory of the runs' JSON files. */
  results: URL
  /** The page whose region is generated. */
  page: URL
  /** The directory of the charts; the page links them as `benchmarks/<name>.svg`. */
  charts: URL
}

const DEFAULT_PATHS: ReportPaths = {
  results: new URL('../results/', import.meta.url),
  page: new URL('../../docs/benchmarks.md', import.meta.url),
  charts: new URL('../../docs/benchmarks/', import.meta.url),
}

/** A run read from its file. */
interface LoadedRun {
  file: string
  run: RunRecord
}

/** A suite's result chosen for the report, with the run it came from. */
interface Chosen {
  suite: SuiteResult & { neighbours?: string; seconds?: number }
  from: LoadedRun
  comparisons: Comparison[]
}

/**
 * Regenerates the page's region and the charts from every run in
 * paths.results. Returns the files written (and removed).
 */
export function writeReport(paths: ReportPaths = DEFAULT_PATHS): string[] {
  const runs = loadRuns(paths.results)
  const chosen = chooseSuites(runs.loaded)
  const charts = new Map<string, string>()
  const ratios = ratioChart(chosen.flatMap((c) => c.comparisons))
  if (ratios !== undefined) charts.set('ratios.svg', ratios)
  const latency = latencyChart(chosen.flatMap((c) => c.comparisons))
  if (latency !== undefined) charts.set('latency.svg', latency)

  const written: string[] = []
  mkdirSync(paths.charts, { recursive: true })
  for (const name of ['ratios.svg', 'latency.svg']) {
    const file = new URL(name, paths.charts)
    const svg = charts.get(name)
    if (svg !== undefined) {
      writeFileSync(file, svg)
      written.push(fileURLToPath(file))
    } else if (existsSync(file)) {
      rmSync(file)
      written.push(`${fileURLToPath(file)} (removed: no data)`)
    }
  }
  const page = readFileSync(paths.page, 'utf8')
  const region = chosen.length === 0 && runs.skipped.length === 0 ? '' : regionText(chosen, runs.skipped, charts)
  writeFileSync(paths.page, replaceRegion(page, region))
  written.push(fileURLToPath(paths.page))
  return written
}

// ---------------------------------------------------------------------------
// Reading the runs.

function loadRuns(dir: URL): { loaded: LoadedRun[]; skipped: string[] } {
  const loaded: LoadedRun[] = []
  const skipped: string[] = []
  const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : []
  for (const file of names) {
    try {
      const run = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as RunRecord
      if (typeof run.started !== 'string' || !Array.isArray(run.suites)) throw new Error('not a run record')
      loaded.push({ file, run })
    } catch (e) {
      skipped.push(`${file}: ${(e as Error).message}`)
    }
  }
  return { loaded, skipped }
}

/** For each suite, the latest run that contains it, in SUITE_ORDER. */
function chooseSuites(runs: LoadedRun[]): Chosen[] {
  const latest = new Map<string, Chosen>()
  const ordered = [...runs].sort((a, b) => (a.run.started < b.run.started ? -1 : a.run.started > b.run.started ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  for (const from of ordered) {
    for (const suite of from.run.suites) {
      latest.set(suite.suite, { suite, from, comparisons: suite.comparisons ?? rowComparisons(suite) })
    }
  }
  const rank = (s: string): number => (SUITE_ORDER.includes(s) ? SUITE_ORDER.indexOf(s) : SUITE_ORDER.length)
  return [...latest.values()].sort((a, b) => rank(a.suite.suite) - rank(b.suite.suite) || (a.suite.suite < b.suite.suite ? -1 : a.suite.suite > b.suite.suite ? 1 : 0))
}

// ---------------------------------------------------------------------------
// The region.

/** The page with its region's content replaced (markers inserted after the first table if missing). */
export function replaceRegion(page: string, content: string): string {
  const eol = page.includes('\r\n') ? '\r\n' : '\n'
  let begin = page.indexOf(REGION_BEGIN)
  let end = page.indexOf(REGION_END)
  if (begin === -1 || end === -1 || end < begin) {
    if (begin !== -1 || end !== -1) throw new Error(`report: ${REGION_BEGIN} and ${REGION_END} must both be on the page, in that order`)
    page = insertMarkers(page, eol)
    begin = page.indexOf(REGION_BEGIN)
    end = page.indexOf(REGION_END)
  }
  const body = content === '' ? eol : `${eol}${content.split('\n').join(eol)}${eol}`
  return page.slice(0, begin + REGION_BEGIN.length) + body + page.slice(end)
}

/** Inserts empty markers after the page's first table (its suite overview), or at its end. */
function insertMarkers(page: string, eol: string): string {
  const lines = page.split(eol)
  const first = lines.findIndex((l) => l.startsWith('|'))
  let at = lines.length
  if (first !== -1) {
    at = first
    while (at < lines.length && lines[at].startsWith('|')) at++
  }
  lines.splice(at, 0, '', REGION_BEGIN, REGION_END)
  return lines.join(eol)
}

function regionText(chosen: Chosen[], skipped: string[], charts: Map<string, string>): string {
  const out: string[] = [
    '<!-- Generated by `pnpm report` (benchmarks/src/report.ts) from benchmarks/results/*.json; edits here are overwritten. -->',
    '',
    '## The latest figures (generated)',
    '',
    'For each suite, the latest run in `benchmarks/results/` that contains it. The ratio is always gort ÷ peer; each row says which way is better. ' +
      'The analysis in the other sections of this page was written for the runs it names, which may be older.',
    '',
  ]

  // The runs used.
  const runs = [...new Map(chosen.map((c) => [c.from.file, c.from])).values()]
  out.push('| run (benchmarks/results/) | suites | commit | machine | Node | Go | knobs |', '| --- | --- | --- | --- | --- | --- | --- |')
  for (const r of runs) {
    const suites = chosen.filter((c) => c.from === r).map((c) => `\`${c.suite.suite}\``).join(', ')
    out.push(`| \`${r.file}\` (${r.run.started}) | ${suites} | ${cellText(r.run.commit)} | ${cellText(machineText(r.run))} | ${cellText(r.run.node)} | ${cellText(goText(r.run.go))} | ${cellText(knobsText(r.run))} |`)
  }
  const noGo = runs.filter((r) => r.run.go === 'not installed')
  if (noGo.length > 0) {
    out.push(
      '',
      `**Go was not installed** for ${noGo.map((r) => `\`${r.file}\``).join(', ')}, so its suites ` +
        `(${chosen.filter((c) => noGo.includes(c.from)).map((c) => `\`${c.suite.suite}\``).join(', ')}) have no Go figures: ` +
        'their comparisons with Go show gort alone (install it: `apt-get install -y golang-go`).',
    )
  }
  if (skipped.length > 0) out.push('', `Files not read: ${skipped.map((s) => `\`${s}\``).join('; ')}.`)

  // Targets.
  const targets = chosen.flatMap((c) => c.comparisons.filter((x) => x.target !== undefined).map((x) => ({ c, x })))
  out.push('', '### Targets', '')
  if (targets.length === 0) out.push('No run in benchmarks/results/ has a figure with a target.')
  else {
    const missed = targets.filter((t) => !t.x.target!.met)
    out.push(
      missed.length === 0 ? `All ${targets.length} targets met.` : `${targets.length - missed.length} of ${targets.length} targets met; **MISSED**: ${missed.map((t) => `${t.x.area}: ${t.x.workload}`).join('; ')}.`,
      '',
      '| target | figure | met? | run |',
      '| --- | ---: | --- | --- |',
    )
    for (const { c, x } of targets) {
      const ratio = x.peer !== undefined && x.target!.ratio !== undefined ? ` (${fmtRatio(x.gort / x.peer)} × ${x.peerName ?? 'peer'})` : ''
      out.push(`| ${cellText(`${x.area}: ${x.workload}: ${x.target!.text}`)} | ${fmtFigure(x.gort, x.unit)}${cellText(ratio)} | ${metText(x.target!.met)} | \`${c.from.file}\` (${cellText(c.from.run.commit)}) |`)
    }
  }

  // Charts.
  if (charts.has('ratios.svg')) {
    out.push('', '### gort against its peers', '', '![gort against its peer, per workload: times better or worse, log scale, with the targets marked](benchmarks/ratios.svg)')
  }
  if (charts.has('latency.svg')) {
    out.push('', '### Latency distributions', '', '![latency percentiles p50 to max, gort against its peer](benchmarks/latency.svg)')
  }

  // One table per area.
  for (const c of chosen) {
    const s = c.suite
    const r = c.from.run
    out.push('', `### ${s.suite}`, '')
    out.push(
      `From \`${c.from.file}\`: commit ${r.commit}, ${machineText(r)}, Node ${r.node}, ${goText(r.go)}` +
        `${r.knobs !== undefined && Object.keys(r.knobs).length > 0 ? `; knobs ${knobsText(r)}` : ''}` +
        `${s.seconds !== undefined ? `; the suite took ${Math.round(s.seconds).toLocaleString('en-US')} s` : ''}` +
        `${s.neighbours !== undefined ? `; ${s.neighbours}` : ''}.`,
    )
    if (c.comparisons.length === 0) {
      out.push('', 'This run has no structured figures for the suite (it predates them); its own tables:')
      for (const t of s.tables ?? []) out.push('', ...t)
      continue
    }
    for (const area of [...new Set(c.comparisons.map((x) => x.area))]) {
      if (area !== s.suite) out.push('', `**${area}**`)
      out.push('', '| workload | gort | peer | gort ÷ peer | target | met? |', '| --- | ---: | ---: | ---: | --- | --- |')
      for (const x of c.comparisons.filter((y) => y.area === area)) {
        const peer = x.peer === undefined ? '–' : `${fmtFigure(x.peer, x.unit)} (${cellText(x.peerName ?? 'peer')})`
        const ratio = x.peer === undefined || !Number.isFinite(x.gort) || !(x.peer > 0) ? '–' : `${fmtRatio(x.gort / x.peer)} × (${x.better} is better)`
        out.push(`| ${cellText(x.workload)} | ${fmtFigure(x.gort, x.unit)} | ${peer} | ${ratio} | ${cellText(x.target?.text ?? '')} | ${x.target === undefined ? '' : metText(x.target.met)} |`)
      }
    }
  }
  return out.join('\n')
}

function machineText(r: RunRecord): string {
  const m = r.machine
  return `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}`
}

function knobsText(r: RunRecord): string {
  if (r.knobs === undefined) return 'not recorded'
  const set = Object.entries(r.knobs)
  return set.length === 0 ? 'defaults' : set.map(([k, v]) => `${k}=${v}`).join(' ')
}

function goText(go: string): string {
  return go === 'not installed' ? 'Go not installed' : go
}

function metText(met: boolean): string {
  return met ? 'met' : '**MISSED**'
}

/** Text safe in a markdown table cell. */
function cellText(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/** A figure with its unit; a missing or infinite one (JSON null) is "never". */
function fmtFigure(x: number | null, unit: string): string {
  if (x === null || !Number.isFinite(x)) return 'never'
  return `${fmtNum(x)} ${unit}`
}

function fmtNum(x: number): string {
  const a = Math.abs(x)
  if (a >= 1000) return Math.round(x).toLocaleString('en-US')
  if (a >= 100) return x.toFixed(1)
  if (a >= 1) return x.toFixed(2)
  if (a === 0) return '0'
  return x.toPrecision(2)
}

function fmtRatio(x: number): string {
  return x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)
}

// ---------------------------------------------------------------------------
// The charts: plain SVG strings, generic sans-serif text, a viewBox so they
// scale with the page.

export const FONT = 'font-family="sans-serif"'
export const GOOD = '#2a9d8f'
export const BAD = '#e76f51'
export const GORT = '#1f77b4'
export const PEER = '#ff7f0e'

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** x rounded for coordinates (deterministic, short). */
export function n(x: number): string {
  return String(Math.round(x * 10) / 10)
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}

/** How many times better gort is than its peer: > 1 better, < 1 worse, whichever the direction. */
function advantage(c: Comparison): number {
  return c.better === 'lower' ? c.peer! / c.gort : c.gort / c.peer!
}

/** The advantage a ratio target asks for (target.ratio bounds gort ÷ peer). */
function targetAdvantage(c: Comparison): number | undefined {
  const r = c.target?.ratio
  if (r === undefined || !(r > 0)) return undefined
  return c.better === 'lower' ? 1 / r : r
}

/** Tick values on a log axis from lo to hi: 1, 2, 5 × powers of ten (1 only when the range is wide). */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = []
  const wide = Math.log10(hi / lo) > 3
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of wide ? [1] : [1, 2, 5]) {
      const v = m * 10 ** e
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v)
    }
  }
  return ticks
}

function tickLabel(v: number): string {
  return v >= 1 ? v.toLocaleString('en-US') : String(Number(v.toPrecision(1)))
}

/** Chart 1: per comparison with a peer, how many times better or worse gort is, grouped by area. */
function ratioChart(all: Comparison[]): string | undefined {
  const cs = all.filter((c) => c.peer !== undefined && c.peer > 0 && Number.isFinite(c.gort) && c.gort > 0)
  if (cs.length === 0) return undefined
  const areas = [...new Set(cs.map((c) => c.area))]
  const values = cs.flatMap((c) => [advantage(c), targetAdvantage(c) ?? 1])
  const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...values)) - 0.0001)
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...values)) + 0.0001)
  const W = 1000
  const labelW = 470
  const x0 = labelW + 10
  const x1 = W - 80
  const rowH = 18
  const top = 70
  const x = (v: number): number => x0 + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (x1 - x0)
  const body: string[] = []
  let y = top
  for (const area of areas) {
    y += 6
    body.push(`<text x="10" y="${n(y + 12)}" font-size="13" font-weight="bold">${esc(area)}</text>`)
    y += rowH
    for (const c of cs.filter((k) => k.area === area)) {
      const a = advantage(c)
      const label = truncate(`${c.workload} vs ${c.peerName ?? 'peer'}`, 78)
      const xa = x(a)
      const xb = x(1)
      const good = a >= 1
      body.push(
        `<text x="${labelW}" y="${n(y + 12)}" font-size="11" text-anchor="end"><title>${esc(`${c.workload} vs ${c.peerName ?? 'peer'}`)}</title>${esc(label)}</text>`,
        `<rect x="${n(Math.min(xa, xb))}" y="${n(y + 3)}" width="${n(Math.max(1, Math.abs(xa - xb)))}" height="${rowH - 6}" fill="${good ? GOOD : BAD}"/>`,
        `<text x="${n(Math.max(xa, xb) + 4)}" y="${n(y + 12)}" font-size="10">${esc(`${fmtRatio(good ? a : 1 / a)}× ${good ? 'better' : 'worse'}`)}</text>`,
      )
      const t = targetAdvantage(c)
      if (t !== undefined) {
        const xt = x(t)
        body.push(`<path d="M${n(xt)} ${n(y + 1)} l-4 -4 h8 z M${n(xt)} ${n(y + 1)} v${rowH - 2}" stroke="#000" fill="#000" stroke-width="1.5"/>`)
      }
      y += rowH
    }
  }
  const bottom = y + 8
  const ticks = logTicks(lo, hi)
  const axis = [
    ...ticks.map((v) => `<line x1="${n(x(v))}" y1="${top}" x2="${n(x(v))}" y2="${n(bottom)}" stroke="#ddd"/>`),
    ...ticks.map((v) => `<text x="${n(x(v))}" y="${n(bottom + 16)}" font-size="11" text-anchor="middle">${tickLabel(v)}×</text>`),
    `<line x1="${n(x(1))}" y1="${top - 4}" x2="${n(x(1))}" y2="${n(bottom)}" stroke="#000" stroke-width="1.5"/>`,
    `<line x1="${x0}" y1="${n(bottom)}" x2="${x1}" y2="${n(bottom)}" stroke="#000"/>`,
    `<text x="${n((x0 + x1) / 2)}" y="${n(bottom + 36)}" font-size="12" text-anchor="middle">times better than the peer (log scale): right of 1×, gort is better; left, worse</text>`,
  ]
  const H = bottom + 50
  const legend = [
    `<rect x="${x0}" y="40" width="12" height="12" fill="${GOOD}"/><text x="${x0 + 16}" y="50" font-size="11">gort better</text>`,
    `<rect x="${x0 + 100}" y="40" width="12" height="12" fill="${BAD}"/><text x="${x0 + 116}" y="50" font-size="11">gort worse</text>`,
    `<path d="M${x0 + 206} 42 l-4 -4 h8 z M${x0 + 206} 42 v12" stroke="#000" fill="#000" stroke-width="1.5"/><text x="${x0 + 216}" y="50" font-size="11">target (a ratio to the peer)</text>`,
  ]
  return svg(W, H, 'gort against its peer, per workload', [
    `<text x="10" y="24" font-size="16" font-weight="bold">gort against its peer, per workload (ratio gort ÷ peer, turned so that right is better)</text>`,
    ...legend,
    ...axis,
    ...body,
  ])
}

/** Where a quantile sits on the x axis: −log10(1 − q) ("nines"); the maximum one step beyond the last. */
function ninesX(q: number, maxAt: number): number {
  return q >= 1 ? maxAt : -Math.log10(1 - q)
}

/** Chart 2: percentile curves of gort and its peer, one panel per comparison that has both distributions. */
function latencyChart(all: Comparison[]): string | undefined {
  const cs = all.filter((c) => c.dist !== undefined && c.dist.length > 0 && c.peerDist !== undefined && c.peerDist.length > 0)
  if (cs.length === 0) return undefined
  const qs = [...new Set(cs.flatMap((c) => [...c.dist!, ...c.peerDist!].map(([q]) => q)))].sort((a, b) => a - b)
  const lastFinite = Math.max(0.5, ...qs.filter((q) => q < 1).map((q) => -Math.log10(1 - q)))
  const maxAt = lastFinite + 0.6
  const ys = cs.flatMap((c) => [...c.dist!, ...c.peerDist!].map(([, v]) => v)).filter((v) => v > 0)
  const lo = 10 ** Math.floor(Math.log10(Math.min(...ys)))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys)))
  const panelW = 300
  const plotW = 220
  const plotH = 260
  const left = 80
  const top = 80
  const W = left + cs.length * panelW + 20
  const H = top + plotH + 80
  const xMin = -Math.log10(1 - qs[0]) - 0.1
  const y = (v: number): number => top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH
  const parts: string[] = [
    `<text x="10" y="24" font-size="16" font-weight="bold">Latency percentiles, gort against ${esc([...new Set(cs.map((c) => c.peerName ?? 'peer'))].join(', '))}</text>`,
    `<line x1="${left}" y1="44" x2="${left + 24}" y2="44" stroke="${GORT}" stroke-width="2.5"/><text x="${left + 30}" y="48" font-size="12">gort</text>`,
    `<line x1="${left + 90}" y1="44" x2="${left + 114}" y2="44" stroke="${PEER}" stroke-width="2.5" stroke-dasharray="6 3"/><text x="${left + 120}" y="48" font-size="12">${esc(cs[0].peerName ?? 'peer')}</text>`,
    `<text transform="translate(18 ${n(top + plotH / 2)}) rotate(-90)" font-size="12" text-anchor="middle">${esc(cs[0].unit)} (log scale)</text>`,
  ]
  const yTicks = logTicks(lo, hi)
  for (const [i, c] of cs.entries()) {
    const px = left + i * panelW
    const x = (q: number): number => px + ((ninesX(q, maxAt) - xMin) / (maxAt + 0.1 - xMin)) * plotW
    parts.push(`<text x="${n(px + plotW / 2)}" y="${top - 12}" font-size="12" text-anchor="middle" font-weight="bold">${esc(truncate(`${c.area}: ${c.workload.replace(/^latency p99 /, '')}`, 40))}</text>`)
    for (const v of yTicks) {
      parts.push(`<line x1="${px}" y1="${n(y(v))}" x2="${px + plotW}" y2="${n(y(v))}" stroke="#ddd"/>`)
      parts.push(`<text x="${px - 4}" y="${n(y(v) + 4)}" font-size="10" text-anchor="end">${tickLabel(v)}</text>`)
    }
    for (const q of qs) {
      const label = q >= 1 ? 'max' : `p${Number((q * 100).toFixed(1))}`
      if (q < 1 && ![0.5, 0.9, 0.99, 0.999].includes(q)) continue
      parts.push(`<line x1="${n(x(q))}" y1="${top}" x2="${n(x(q))}" y2="${top + plotH}" stroke="#eee"/>`)
      parts.push(`<text x="${n(x(q))}" y="${top + plotH + 16}" font-size="10" text-anchor="middle">${label}</text>`)
    }
    parts.push(`<rect x="${px}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#000"/>`)
    for (const [dist, colour, dash] of [[c.peerDist!, PEER, ' stroke-dasharray="6 3"'], [c.dist!, GORT, '']] as const) {
      const pts = dist.filter(([, v]) => v > 0).map(([q, v]) => `${n(x(q))},${n(y(v))}`)
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2.5"${dash}/>`)
      for (const p of pts) {
        const [cx, cy] = p.split(',')
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${colour}"/>`)
      }
    }
    if (c.target !== undefined) {
      parts.push(`<text x="${n(px + plotW / 2)}" y="${top + plotH + 34}" font-size="10" text-anchor="middle">${esc(`target: p99 ${c.target.text}: ${c.target.met ? 'met' : 'MISSED'}`)}</text>`)
    }
  }
  parts.push(`<text x="${n(left + (cs.length * panelW - (panelW - plotW)) / 2)}" y="${H - 14}" font-size="12" text-anchor="middle">percentile (scale of nines: p50, p90, p99, p99.9, then the maximum)</text>`)
  return svg(W, H, 'Latency percentiles', parts)
}

export function svg(w: number, h: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n(w)} ${n(h)}" width="${n(w)}" height="${n(h)}" ${FONT}>`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}

// Run as a program: `node dist/report.js`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of writeReport()) console.log(`report: ${f}`)
}
