// start: how fast a runtime starts and how much memory an idle one holds,
// against piscina with the same thread count (issue 14).
//
//  - Start to first result: from `Runtime.start()` (or `Runtime.create()`,
//    or `new Piscina()`) to the first job's result, `bench.inc` / the
//    peer's `inc`, at procs = threads = START_PROCS (default 2). The floor
//    is a bare worker thread's first message to its parent: no pool can
//    give a result before one of its threads is up. Target (issue 14):
//    `Runtime.start` to the first result at most 50 ms at procs 2.
//  - Idle footprint: RSS growth of the process from before the runtime or
//    pool to 1.5 s after it started, idle (and again after one job). Target
//    (issue 14): an idle runtime at most 1.2 × an idle piscina pool's RSS
//    growth at the same thread count.
//
// Every try is a fresh process (startchild.ts): a start is cold once per
// app, and a second runtime in a warm process would hit cached modules.
// The ways alternate try by try, so a noisy neighbour hits them alike; the
// figures are medians over START_TRIES tries (default 9). The clocks start
// after the app's own imports (gort, piscina), which are the app's start-up.

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { quantile, type Comparison, type Suite } from '../harness.js'

const run = promisify(execFile)
const CHILD = fileURLToPath(new URL('../startchild.js', import.meta.url))
const TRIES = Number(process.env.START_TRIES) || 9
const PROCS = Number(process.env.START_PROCS) || 2

/** Issue 14: Runtime.start to the first goroutine's result, at procs 2. */
const TARGET_FIRST_MS = 50
/** Issue 14: an idle runtime's RSS at most this × an idle piscina pool's. */
const TARGET_RSS_RATIO = 1.2

type Figures = Record<string, number>

async function child(mode: string, n: number): Promise<Figures> {
  const { stdout } = await run(process.execPath, [CHILD, mode, String(n)], { encoding: 'utf8', timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').pop()!) as Figures
}

const MB = 2 ** 20

export const startSuite: Suite = {
  name: 'start',
  description: `start to first result and idle RSS, gort against piscina and a bare worker, procs ${PROCS}, ${TRIES} fresh processes per way`,
  async run() {
    const timeModes = ['floor', 'gort-start', 'gort-create', 'piscina']
    const memModes = ['rss-gort', 'rss-piscina']
    const modes = [...timeModes, ...memModes]
    const got = new Map<string, Figures[]>(modes.map((m) => [m, []]))
    for (let i = 0; i < TRIES; i++) {
      const order = i % 2 === 0 ? modes : [...modes].reverse()
      for (const m of order) got.get(m)!.push(await child(m, PROCS))
    }
    const med = (mode: string, key: string): number => quantile(got.get(mode)!.map((f) => f[key]), 0.5)
    const range = (mode: string, key: string, unit = 1): string => {
      const xs = got.get(mode)!.map((f) => f[key] / unit)
      return `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`
    }
    const floor = med('floor', 'first')
    const first = med('gort-start', 'first')
    const createFirst = med('gort-create', 'first')
    const piscinaFirst = med('piscina', 'first')
    const gIdle = med('rss-gort', 'idle') / MB
    const pIdle = med('rss-piscina', 'idle') / MB
    const gJob = med('rss-gort', 'afterJob') / MB
    const pJob = med('rss-piscina', 'afterJob') / MB
    const gSet = med('rss-gort', 'settled') / MB
    const pSet = med('rss-piscina', 'settled') / MB
    const gJobSet = med('rss-gort', 'afterJobSettled') / MB
    const pJobSet = med('rss-piscina', 'afterJobSettled') / MB
    const area = 'start'
    const comparisons: Comparison[] = [
      {
        area, workload: `Runtime.start to the first result, procs ${PROCS} (vs piscina: constructor to first result)`, unit: 'ms', better: 'lower',
        gort: first, peer: piscinaFirst, peerName: 'piscina',
        target: { text: `≤ ${TARGET_FIRST_MS} ms`, met: first <= TARGET_FIRST_MS },
      },
      { area, workload: `Runtime.start to the first result, procs ${PROCS}, against the floor`, unit: 'ms', better: 'lower', gort: first, peer: floor, peerName: 'a bare worker\'s first message' },
      { area, workload: `Runtime.create, rt.run at once, to the first result, procs ${PROCS}`, unit: 'ms', better: 'lower', gort: createFirst, peer: piscinaFirst, peerName: 'piscina' },
      {
        area, workload: `idle RSS growth, settled, procs ${PROCS} (piscina: ${PROCS} threads)`, unit: 'MB', better: 'lower',
        gort: gSet, peer: pSet, peerName: 'piscina',
        target: { text: `≤ ${TARGET_RSS_RATIO} × piscina`, met: gSet <= TARGET_RSS_RATIO * pSet, ratio: TARGET_RSS_RATIO },
      },
      { area, workload: `idle RSS growth 1.5 s after the start, procs ${PROCS}`, unit: 'MB', better: 'lower', gort: gIdle, peer: pIdle, peerName: 'piscina' },
      { area, workload: `RSS growth 1.5 s after one job, procs ${PROCS}`, unit: 'MB', better: 'lower', gort: gJob, peer: pJob, peerName: 'piscina' },
      { area, workload: `RSS growth after one job, settled, procs ${PROCS}`, unit: 'MB', better: 'lower', gort: gJobSet, peer: pJobSet, peerName: 'piscina' },
    ]
    const f = (x: number): string => x.toFixed(1)
    const table = [
      '| way | start resolved (ms) | first result (ms) | every thread up (ms) | first result, min–max |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| floor: a bare worker's first message | | ${f(floor)} | | ${range('floor', 'first')} |`,
      `| gort: \`await Runtime.start()\`, then \`rt.run\` | ${f(med('gort-start', 'start'))} | **${f(first)}** | ${f(med('gort-start', 'ready'))} | ${range('gort-start', 'first')} |`,
      `| gort: \`rt.run\` right after \`Runtime.create()\` | | ${f(createFirst)} | ${f(med('gort-create', 'ready'))} | ${range('gort-create', 'first')} |`,
      `| piscina: \`new Piscina()\`, then \`pool.run\` | ${f(med('piscina', 'start'))} | ${f(piscinaFirst)} | | ${range('piscina', 'first')} |`,
      '',
      '| idle footprint (RSS growth, MB) | idle, 1.5 s | idle, settled | 1.5 s after one job | settled after one job | threads (Ms for gort) | settled idle, min–max |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| gort, procs ${PROCS} | ${f(gIdle)} | **${f(gSet)}** | ${f(gJob)} | ${f(gJobSet)} | ${med('rss-gort', 'threads')} | ${range('rss-gort', 'settled', MB)} |`,
      `| piscina, ${PROCS} threads | ${f(pIdle)} | ${f(pSet)} | ${f(pJob)} | ${f(pJobSet)} | ${med('rss-piscina', 'threads')} | ${range('rss-piscina', 'settled', MB)} |`,
      '',
      `gort ÷ piscina, idle settled: ${(gSet / pSet).toFixed(2)} × (target ≤ ${TARGET_RSS_RATIO}); 1.5 s after the start ${(gIdle / pIdle).toFixed(2)} ×; settled after one job ${(gJobSet / pJobSet).toFixed(2)} ×; first result: Runtime.start ${(first / piscinaFirst).toFixed(2)} × piscina, ${(first / floor).toFixed(2)} × the floor`,
    ]
    return {
      suite: 'start',
      rows: [],
      comparisons,
      tables: [table],
      notes: [
        `medians over ${TRIES} fresh processes per way, the ways alternating try by try (benchmarks/src/startchild.ts); clocks start after the app's imports of gort and piscina`,
        'the goroutine is bench.inc from benchmarks/dist/goroutines.js, an eager module (Runtime.start\'s modules); piscina\'s task is peers/task.js (the same x + 1)',
        'RSS growth: process.memoryUsage().rss minus before the start, read 1.5 s after the start (gort: after rt.ready) and again 12 s after it ("settled": V8\'s memory reducer has had its first look in every thread, ~8 s after an isolate starts; START_SETTLE_MS), then 1.5 s and 12 s after one result; threads = the Ms (gort; sysmon\'s thread, started by the first job, is not counted) or piscina\'s threads; the target is judged on the settled idle figure',
      ],
    }
  },
}
