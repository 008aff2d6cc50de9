// pool: gort/pool against piscina, the pool it replaces. The same task file
// (peers/pooltasks.ts, no gort import) runs under piscina 5.3 and under
// gort/pool (`import Piscina from 'gort/pool'`), in the same process and
// the same run, with the same thread count: maxThreads = GOMAXPROCS
// (default 2) for both, piscina with minThreads = maxThreads so that no
// Worker starts or exits mid-measurement, everything else at each pool's
// defaults (concurrentTasksPerWorker 1). Three parts:
//
// 1. Tiny tasks, many in flight. `({ a, b }) => a + b`, POOL_TINY_N
//    (20,000) submitted at once from the app's thread and all awaited
//    (Promise.all), the sum of the results checked: the trip of a task
//    and its result, as in the spawn suite, through each pool's API. The
//    rounds alternate (harness.ts runRounds: every other round reversed);
//    the figure is the median over rounds. Beside the two defaults, both
//    pools with concurrentTasksPerWorker 16, and gort's own rt.run of a
//    trivial goroutine without a pool, which is the ceiling the pool's
//    bookkeeping sits on. Target (issue 13): gort/pool at least 10 ×
//    piscina's tasks per second.
//
// 2. CPU-bound tasks under closed-loop concurrency. A task is a chain of
//    sha256 digests whose length is calibrated at startup on the app's
//    thread to about 1 ms and about 5 ms (POOL_CPU_MS). Each contender
//    keeps 10 and 100 tasks outstanding (POOL_CONCURRENCY): a task's
//    result submits the next, so the pool is never idle and its queue
//    never grows beyond the concurrency. Contenders: the plain synchronous
//    function (`sha`, as piscina users write it) under piscina and under
//    gort/pool, and the same chain as a generator that yields every
//    POOL_YIELD_EVERY (250) rounds (`shaGen`), which only gort/pool can run.
//    After POOL_WARMUP_MS (500) untimed, a window of POOL_CPU_SECONDS (3):
//    throughput is the tasks completed inside the window over its length;
//    latency, submission to result on the app's thread, is that of every
//    task submitted inside the window (those finishing after it included).
//    POOL_CPU_ROUNDS (2) rounds per cell, contenders alternating (reversed
//    every other round); latencies are pooled over rounds, throughput is
//    completions over the summed windows. Every result is checked against
//    the chain computed on the app's thread. Targets: throughput at least
//    piscina's, p99 at most piscina's.
//
// 3. Abort latency, on pools of one thread (maxThreads 1), from
//    `controller.abort()` to (a) the run() promise rejecting and (b) the
//    CPU being free: a tiny task submitted right after the abort comes back
//    (on a pool of one thread it can only run once the aborted task is off
//    the thread). Three cases:
//      - a queued task (a CPU task of about 20 ms waits behind another):
//        (b) is then measured from the running task's result, i.e. the
//        time the aborted task still cost;
//      - a running plain loop that never yields (`sha`, POOL_ABORT_TASK_MS
//        long, aborted 50 ms in): piscina terminates its Worker and starts
//        a new one; gort/pool ends the task's M after its grace period
//        (abortGraceMs: the pool's option whose name contains "grace", or
//        POOL_GRACE_MS) and starts another; target ≤ grace period + 20 ms;
//      - a running generator that yields (`shaGen`, gort/pool only): target
//        ≤ 1 ms.
//    Beside (b), the CPU this process used in the 200 ms after the tiny
//    task came back, in cores: about 0 when the aborted task is really
//    gone, about 1 when it still runs somewhere (a loop whose promise was
//    rejected but which nobody stopped). Before the next sample the suite
//    waits (up to POOL_ABORT_TASK_MS) for the process to fall idle.
//    POOL_ABORT_SAMPLES (10) per case and contender, alternating. A sample
//    whose tiny task has not come back POOL_ABORT_TASK_MS + 5 s after the
//    abort ends its row (the pool is destroyed, its threads terminated)
//    and is reported as a timeout, so that a pool that loses its threads
//    or a cancellation that never lands shows as a figure, not a hang. The
//    pools' 'error' events are recorded and reported in the notes (without
//    a listener an EventEmitter's 'error' would end the process).
//
// Knobs (environment): GOMAXPROCS (2), POOL_ROUNDS (9), POOL_TINY_N
// (20000), POOL_CPU_MS (1,5), POOL_CONCURRENCY (10,100), POOL_CPU_SECONDS
// (3), POOL_CPU_ROUNDS (2), POOL_WARMUP_MS (500), POOL_YIELD_EVERY (250),
// POOL_ABORT_SAMPLES (10), POOL_ABORT_TASK_MS (1000), POOL_GRACE_MS, and
// POOL_PARTS (tiny,cpu,abort: the parts to run).

import { Runtime } from 'gort'
import GortPool from 'gort/pool'
import { Piscina } from 'piscina'
import { distribution, neighbourCores, neighbourMeter, quantile, runRounds, sleep, type Comparison, type Row, type Suite } from '../harness.js'
import { bench } from '../goroutines.js'
import { sha, type AddTask, type ShaTask } from '../peers/pooltasks.js'

const PROCS = Number(process.env.GOMAXPROCS) || 2
// The tiny part's rounds, after TINY_WARMUP untimed batches per contender.
// A gort/pool batch lasts 60-100 ms, and with three rounds the median moved
// from 200k to 360k tasks/s between runs of one build: the first batches
// after the pools start run while the JIT and the app's new space are still
// settling, and a scavenge or mark-compact lands in some batches and not in
// others (2026-12-03: 3 rounds gave 199k, 207k, 312k; 7 rounds 360k).
const ROUNDS = Number(process.env.POOL_ROUNDS) || 9
const TINY_WARMUP = 3
const TINY_N = Number(process.env.POOL_TINY_N) || 20_000
const CPU_MS = list(process.env.POOL_CPU_MS, [1, 5])
const CONCURRENCY = list(process.env.POOL_CONCURRENCY, [10, 100])
const CPU_SECONDS = Number(process.env.POOL_CPU_SECONDS) || 3
const CPU_ROUNDS = Number(process.env.POOL_CPU_ROUNDS) || 2
const WARMUP_MS = Number(process.env.POOL_WARMUP_MS ?? 500)
const YIELD_EVERY = Number(process.env.POOL_YIELD_EVERY) || 250
const ABORT_SAMPLES = Number(process.env.POOL_ABORT_SAMPLES) || 10
const ABORT_TASK_MS = Number(process.env.POOL_ABORT_TASK_MS) || 1000
const PARTS = new Set((process.env.POOL_PARTS ?? 'tiny,cpu,abort').split(',').map((s) => s.trim()))

/** Issue 13's targets. */
const TARGET_TINY_RATIO = 10
const TARGET_GEN_ABORT_MS = 1
const TARGET_PLAIN_ABORT_SLACK_MS = 20

/** The queued-abort case: the task running ahead, and the one aborted in the queue, about this long. */
const QUEUED_TASK_MS = 20
/** How long a running task runs before it is aborted. */
const ABORT_AFTER_MS = 50
/** The window after the tiny task in which the process's CPU use is measured. */
const CPU_AFTER_MS = 200
/** Distinct seeds of the CPU tasks (their expected results are computed once). */
const SEEDS = 8

const TASKS = new URL('../peers/pooltasks.js', import.meta.url).href

function list(env: string | undefined, dflt: number[]): number[] {
  const xs = (env ?? '').split(',').map(Number).filter((x) => x > 0)
  return xs.length > 0 ? xs : dflt
}

/** What the suite needs of a pool: piscina's run(), and its teardown. */
interface Pool {
  run(task: unknown, options?: { name?: string; signal?: AbortSignal }): Promise<unknown>
  destroy(): Promise<void>
}

const ms = (x: number): string => (!Number.isFinite(x) ? '–' : x < 1 ? `${(x * 1000).toFixed(0)} µs` : x < 100 ? `${x.toFixed(2)} ms` : `${Math.round(x).toLocaleString('en-US')} ms`)
const int = (x: number): string => Math.round(x).toLocaleString('en-US')
const ratio = (x: number): string => (!Number.isFinite(x) ? '–' : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2))

// ---------------------------------------------------------------------------
// Calibration.

/**
 * Microseconds per sha256 round on the app's thread: after 300 ms of
 * untimed rounds (the JIT, crypto's first use), 40 probes of 400 rounds;
 * the lower quartile, because a busy neighbour only ever makes a probe
 * slower. Computed once, so the 1 ms and 5 ms tasks are the same chain at
 * two lengths.
 */
let usPerRound: number | undefined
export function roundMicros(): number {
  if (usPerRound !== undefined) return usPerRound
  const probe = 400
  const warm = performance.now() + 300
  for (let i = 0; performance.now() < warm; i++) sha({ seed: i, rounds: probe })
  const xs: number[] = []
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now()
    sha({ seed: i, rounds: probe })
    xs.push(((performance.now() - t0) * 1000) / probe)
  }
  return (usPerRound = quantile(xs, 0.25))
}

/** sha256 rounds that take about `targetMs` ms (roundMicros). */
export function calibrate(targetMs: number): number {
  return Math.max(1, Math.round((targetMs * 1000) / roundMicros()))
}

// ---------------------------------------------------------------------------
// Part 1: tiny tasks.

async function tinyAll(run: (t: AddTask) => Promise<unknown>): Promise<void> {
  const ps = new Array<Promise<unknown>>(TINY_N)
  for (let i = 0; i < TINY_N; i++) ps[i] = run({ a: i, b: 1 })
  const rs = await Promise.all(ps)
  let sum = 0
  for (const r of rs) sum += r as number
  const want = (TINY_N * (TINY_N + 1)) / 2
  if (sum !== want) throw new Error(`pool: tiny results sum to ${sum}, expected ${want}`)
}

const T_PISCINA = 'piscina, default options'
const T_GORT = 'gort/pool, default options'

async function tinyPart(): Promise<Row[]> {
  const rt = await Runtime.start({ procs: PROCS, modules: [new URL('../goroutines.js', import.meta.url)] })
  const piscina = new Piscina({ filename: TASKS, minThreads: PROCS, maxThreads: PROCS })
  const piscina16 = new Piscina({ filename: TASKS, minThreads: PROCS, maxThreads: PROCS, concurrentTasksPerWorker: 16 })
  const gort = new GortPool({ filename: TASKS, maxThreads: PROCS })
  const gort16 = new GortPool({ filename: TASKS, maxThreads: PROCS, concurrentTasksPerWorker: 16 })
  try {
    return await runRounds(
      [
        { name: T_PISCINA, ops: TINY_N, throughput: true, fn: () => tinyAll((t) => piscina.run(t)) },
        { name: T_GORT, ops: TINY_N, throughput: true, baseline: T_PISCINA, targetRatio: TARGET_TINY_RATIO, fn: () => tinyAll((t) => gort.run(t)) },
        { name: 'piscina, concurrentTasksPerWorker 16', ops: TINY_N, throughput: true, baseline: T_PISCINA, fn: () => tinyAll((t) => piscina16.run(t)) },
        { name: 'gort/pool, concurrentTasksPerWorker 16', ops: TINY_N, throughput: true, baseline: T_PISCINA, fn: () => tinyAll((t) => gort16.run(t)) },
        { name: 'gort: rt.run(inc, i), no pool (the ceiling)', ops: TINY_N, throughput: true, baseline: T_PISCINA, fn: () => tinyAll((t) => rt.run(bench.inc, t.a)) },
      ],
      { rounds: ROUNDS, warmup: TINY_WARMUP },
    )
  } finally {
    await Promise.all([rt.close(), piscina.destroy(), piscina16.destroy(), gort.close(), gort16.close()])
  }
}

// ---------------------------------------------------------------------------
// Part 2: CPU-bound tasks, closed loop.

interface LoopRun {
  completed: number
  windowMs: number
  /** Latency (ms) of each task submitted inside the window. */
  latency: number[]
}

/**
 * Keeps `concurrency` tasks outstanding on submit for WARMUP_MS + seconds:
 * each result is checked and submits the next task. Resolves when the last
 * outstanding task is back.
 */
async function closedLoop(submit: (seed: number) => Promise<unknown>, expected: string[], concurrency: number, seconds: number): Promise<LoopRun> {
  const t0 = performance.now()
  const from = t0 + WARMUP_MS
  const to = from + seconds * 1000
  const latency: number[] = []
  let completed = 0
  let next = 0
  const lane = async (): Promise<void> => {
    for (;;) {
      const ts = performance.now()
      if (ts >= to) return
      const seed = next++ % SEEDS
      const r = await submit(seed)
      const te = performance.now()
      if (r !== expected[seed]) throw new Error(`pool: a task of seed ${seed} returned ${String(r)}, expected ${expected[seed]}`)
      if (ts >= from) latency.push(te - ts)
      if (te >= from && te < to) completed++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return { completed, windowMs: to - from, latency }
}

interface CpuContender {
  name: string
  /** The peer of the gort rows: piscina running the plain function. */
  peer: boolean
  submit: (task: ShaTask) => Promise<unknown>
}

interface CpuCell {
  taskMs: number
  rounds: number
  concurrency: number
  name: string
  perSecond: number
  /** Each round's tasks/s. */
  roundRates: number[]
  p50: number
  p99: number
  max: number
  samples: number
  neighbours: number
}

async function cpuPart(): Promise<{ cells: CpuCell[]; rounds: Map<number, number> }> {
  const piscina = new Piscina({ filename: TASKS, minThreads: PROCS, maxThreads: PROCS })
  const gort = new GortPool({ filename: TASKS, maxThreads: PROCS })
  const contenders: CpuContender[] = [
    { name: 'piscina: sha (plain function)', peer: true, submit: (t) => piscina.run(t, { name: 'sha' }) },
    { name: 'gort/pool: sha (plain function)', peer: false, submit: (t) => gort.run(t, { name: 'sha' }) },
    { name: `gort/pool: shaGen (generator, yield every ${YIELD_EVERY} rounds)`, peer: false, submit: (t) => gort.run({ ...t, every: YIELD_EVERY }, { name: 'shaGen' }) },
  ]
  const roundsFor = new Map<number, number>()
  const cells: CpuCell[] = []
  try {
    for (const taskMs of CPU_MS) {
      const rounds = calibrate(taskMs)
      roundsFor.set(taskMs, rounds)
      const expected = Array.from({ length: SEEDS }, (_, seed) => sha({ seed, rounds }))
      // One untimed pass of each contender at this length.
      for (const c of contenders) await closedLoop((seed) => c.submit({ seed, rounds }), expected, PROCS, 0.2)
      for (const concurrency of CONCURRENCY) {
        const acc = new Map<string, { latency: number[]; completed: number; windowMs: number; roundRates: number[]; neighbours: number }>()
        for (let r = 0; r < CPU_ROUNDS; r++) {
          const order = r % 2 === 0 ? contenders : [...contenders].reverse()
          for (const c of order) {
            await sleep(200)
            const meter = neighbourMeter()
            const run = await closedLoop((seed) => c.submit({ seed, rounds }), expected, concurrency, CPU_SECONDS)
            const n = neighbourCores(meter())
            const a = acc.get(c.name) ?? { latency: [], completed: 0, windowMs: 0, roundRates: [], neighbours: 0 }
            a.latency.push(...run.latency)
            a.completed += run.completed
            a.windowMs += run.windowMs
            a.roundRates.push(run.completed / (run.windowMs / 1000))
            a.neighbours = Math.max(a.neighbours, n)
            acc.set(c.name, a)
          }
        }
        for (const c of contenders) {
          const a = acc.get(c.name)!
          cells.push({
            taskMs, rounds, concurrency, name: c.name,
            perSecond: a.completed / (a.windowMs / 1000),
            roundRates: a.roundRates,
            p50: quantile(a.latency, 0.5),
            p99: quantile(a.latency, 0.99),
            max: quantile(a.latency, 1),
            samples: a.latency.length,
            neighbours: a.neighbours,
          })
        }
      }
    }
  } finally {
    await Promise.all([piscina.destroy(), gort.close()])
  }
  return { cells, rounds: roundsFor }
}

// ---------------------------------------------------------------------------
// Part 3: abort latency.

/** This process's CPU use (all its threads) over the next ms, in cores. */
async function cpuOver(ms: number): Promise<number> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await sleep(ms)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000 / (performance.now() - t0)
}

/** Waits, up to limitMs, for a 50 ms stretch in which this process used under 0.2 of a core. */
async function waitIdle(limitMs: number): Promise<void> {
  const t0 = performance.now()
  while (performance.now() - t0 < limitMs) if ((await cpuOver(50)) < 0.2) return
}

/** Resolves with p's settling time (performance.now()), or undefined after ms. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    const done = (): void => {
      clearTimeout(timer)
      resolve(performance.now())
    }
    p.then(done, done)
  })
}

type AbortCase = 'queued' | 'plain' | 'generator'

interface AbortSample {
  /** abort() → run() rejected, ms (Infinity: it did not reject in time). */
  rejected: number
  /** abort() → the tiny task that followed came back (queued case: from the running task's result), ms (Infinity: timeout). */
  free: number
  /** Cores this process used in the CPU_AFTER_MS after the tiny task came back. */
  cpuAfter: number
  /** The aborted run() settled another way than with an AbortError. */
  wrong?: string
}

/**
 * One abort sample on a pool of one thread. Resolves with the sample; a
 * sample whose tiny task is not back ABORT_TASK_MS + 5 s after the abort
 * has free = Infinity (the caller then destroys the pool).
 */
async function abortSample(pool: Pool, kind: AbortCase, rounds: { queued: number; long: number }): Promise<AbortSample> {
  const limit = ABORT_TASK_MS + 5000
  const ac = new AbortController()
  let ahead: Promise<unknown> | undefined
  let victim: Promise<unknown>
  let wrong: string | undefined
  const check = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => {
        wrong = 'it resolved'
      },
      (e: unknown) => {
        if ((e as Error | undefined)?.name !== 'AbortError') wrong = `it rejected with ${String(e)}`
      },
    )
  if (kind === 'queued') {
    ahead = pool.run({ seed: 1, rounds: rounds.queued }, { name: 'sha' })
    victim = pool.run({ seed: 2, rounds: rounds.queued }, { name: 'sha', signal: ac.signal })
    await sleep(5)
  } else {
    victim = pool.run({ seed: 3, rounds: rounds.long, every: YIELD_EVERY }, { name: kind === 'plain' ? 'sha' : 'shaGen', signal: ac.signal })
    await sleep(ABORT_AFTER_MS)
  }
  const rejectedAt = settledWithin(check(victim), limit)
  const t0 = performance.now()
  ac.abort(new Error('pool suite: aborted'))
  const tiny = pool.run({ a: 1, b: 1 })
  const [rej, tinyAt, aheadAt] = await Promise.all([rejectedAt, settledWithin(tiny, limit), ahead === undefined ? undefined : settledWithin(ahead, limit)])
  if (tinyAt === undefined) return { rejected: rej === undefined ? Infinity : rej - t0, free: Infinity, cpuAfter: NaN, wrong }
  if ((await tiny) !== 2) throw new Error('pool: the tiny task after an abort returned a wrong result')
  const cpuAfter = await cpuOver(CPU_AFTER_MS)
  const from = kind === 'queued' ? Math.max(t0, aheadAt ?? t0) : t0
  return { rejected: rej === undefined ? Infinity : rej - t0, free: tinyAt - from, cpuAfter, wrong }
}

interface AbortRow {
  kind: AbortCase
  name: string
  samples: AbortSample[]
  timedOut: boolean
}

async function abortPart(): Promise<{ rows: AbortRow[]; grace: number | undefined; graceFrom: string; whole: string; errorNotes: string[] }> {
  const perRound = calibrate(1) // sha256 rounds per ms
  const rounds = { queued: perRound * QUEUED_TASK_MS, long: perRound * ABORT_TASK_MS }
  // A pool's 'error' events (a thread that died, a thread budget
  // exceeded) are recorded and reported, not thrown: an EventEmitter
  // without a listener would end the process.
  const errors = new Map<string, string[]>()
  const listen = <P extends { on(e: 'error', f: (err: unknown) => void): unknown }>(name: string, p: P): P => {
    p.on('error', (err: unknown) => errors.set(name, [...(errors.get(name) ?? []), err instanceof Error ? err.message : String(err)]))
    return p
  }
  const makers: Record<string, () => Pool> = {
    piscina: () => listen('piscina', new Piscina({ filename: TASKS, minThreads: 1, maxThreads: 1 })) as unknown as Pool,
    'gort/pool': () => listen('gort/pool', new GortPool({ filename: TASKS, maxThreads: 1 })) as unknown as Pool,
  }
  const pools = new Map<string, Pool>()
  const pool = async (name: string): Promise<Pool> => {
    let p = pools.get(name)
    if (p === undefined) {
      pools.set(name, (p = makers[name]()))
      await p.run({ a: 0, b: 0 })
    }
    return p
  }
  // The grace period before gort/pool terminates an M whose task ignores
  // an abort: the pool's option with "grace" in its name, if it has one.
  const gortOptions = ((await pool('gort/pool')) as unknown as GortPool).options as unknown as Record<string, unknown>
  const graceKey = Object.keys(gortOptions).find((k) => /grace/i.test(k) && typeof gortOptions[k] === 'number')
  const envGrace = process.env.POOL_GRACE_MS
  const grace = envGrace !== undefined && envGrace !== '' ? Number(envGrace) : graceKey !== undefined ? (gortOptions[graceKey] as number) : undefined
  const graceFrom = envGrace !== undefined && envGrace !== '' ? 'POOL_GRACE_MS' : graceKey !== undefined ? `gort/pool's option ${graceKey}` : 'none found (no option with "grace" in its name, POOL_GRACE_MS unset): taken as 0'

  // The running cases' task, once whole on each pool: what "CPU free"
  // comes to when an abort does not reach the task (its length − 50 ms).
  const whole: string[] = []
  for (const name of Object.keys(makers)) {
    const t0 = performance.now()
    await (await pool(name)).run({ seed: 3, rounds: rounds.long }, { name: 'sha' })
    whole.push(`${name} ${ms(performance.now() - t0)}`)
  }

  const cases: Array<{ kind: AbortCase; contenders: string[] }> = [
    { kind: 'queued', contenders: ['piscina', 'gort/pool'] },
    { kind: 'plain', contenders: ['piscina', 'gort/pool'] },
    { kind: 'generator', contenders: ['gort/pool'] },
  ]
  const rows: AbortRow[] = []
  try {
    for (const c of cases) {
      const mine = c.contenders.map((name) => ({ kind: c.kind, name, samples: [] as AbortSample[], timedOut: false }))
      rows.push(...mine)
      for (let i = 0; i < ABORT_SAMPLES; i++) {
        const order = i % 2 === 0 ? mine : [...mine].reverse()
        for (const row of order) {
          if (row.timedOut) continue
          const p = await pool(row.name)
          await waitIdle(ABORT_TASK_MS)
          const s = await abortSample(p, c.kind, rounds)
          row.samples.push(s)
          if (!Number.isFinite(s.free)) {
            // The tiny task never came back: end the row, and the pool with it.
            row.timedOut = true
            pools.delete(row.name)
            await p.destroy().catch(() => {})
          }
        }
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.destroy().catch(() => {})))
  }
  const errorNotes = [...errors].map(([name, es]) => `${name} emitted 'error' ${es.length} times, first: ${es[0]}`)
  return { rows, grace, graceFrom, whole: `${int(rounds.long)} rounds; run whole, not aborted: ${whole.join(', ')}`, errorNotes }
}

// ---------------------------------------------------------------------------
// The suite.

export const poolSuite: Suite = {
  name: 'pool',
  description: `gort/pool against piscina, the same task file, ${PROCS} threads each: tiny tasks (${TINY_N.toLocaleString('en-US')} in flight), CPU tasks of ${CPU_MS.join(' and ')} ms at ${CONCURRENCY.join(' and ')} outstanding, abort latency`,
  async run() {
    const rows: Row[] = []
    const tables: string[][] = []
    const comparisons: Comparison[] = []
    const notes: string[] = [
      `the same task file (benchmarks/src/peers/pooltasks.ts) under piscina ${Piscina.version} and gort/pool; maxThreads ${PROCS} for both (piscina minThreads = maxThreads), otherwise each pool's defaults unless a row says otherwise`,
    ]

    if (PARTS.has('tiny')) {
      rows.push(...(await tinyPart()))
      notes.push(`tiny: one op = one \`({ a, b }) => a + b\` task submitted from the app's thread and its result received; ${TINY_N.toLocaleString('en-US')} in flight per sample (Promise.all), ${TINY_WARMUP} untimed batches per contender, then ${ROUNDS} rounds alternating`)
    }

    if (PARTS.has('cpu')) {
      const { cells, rounds } = await cpuPart()
      tables.push([
        '| task | outstanding | contender | tasks/s | p50 | p99 | max | rounds (min–max tasks/s) | samples | neighbours (cores, max) |',
        '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...cells.map((c) => `| ${c.taskMs} ms | ${c.concurrency} | ${c.name} | ${int(c.perSecond)} | ${ms(c.p50)} | ${ms(c.p99)} | ${ms(c.max)} | ${int(Math.min(...c.roundRates))}–${int(Math.max(...c.roundRates))} | ${c.samples} | ${c.neighbours.toFixed(2)} |`),
      ])
      const ratioLines = ['| task | outstanding | contender | gort ÷ piscina tasks/s | p50 | p99 | target |', '| --- | ---: | --- | ---: | ---: | ---: | --- |']
      for (const taskMs of CPU_MS) {
        for (const concurrency of CONCURRENCY) {
          const at = cells.filter((c) => c.taskMs === taskMs && c.concurrency === concurrency)
          const peer = at.find((c) => c.name.startsWith('piscina'))!
          for (const g of at.filter((c) => c !== peer)) {
            const tput = g.perSecond / peer.perSecond
            const p99 = g.p99 / peer.p99
            const met = `tasks/s ≥ 1 × piscina: ${tput >= 1 ? 'met' : 'MISSED'}; p99 ≤ 1 × piscina: ${p99 <= 1 ? 'met' : 'MISSED'}`
            ratioLines.push(`| ${taskMs} ms | ${concurrency} | ${g.name} | ${ratio(tput)} | ${ratio(g.p50 / peer.p50)} | ${ratio(p99)} | ${met} |`)
            const workload = `${g.name.replace(/ \(.*\)$/, '')}, ${taskMs} ms tasks, ${concurrency} outstanding`
            comparisons.push(
              { area: 'pool', workload: `${workload}: throughput`, unit: 'tasks/s', better: 'higher', gort: g.perSecond, peer: peer.perSecond, peerName: 'piscina: sha', target: { text: '≥ 1 × piscina', met: tput >= 1, ratio: 1 } },
              { area: 'pool', workload: `${workload}: latency p50`, unit: 'ms', better: 'lower', gort: g.p50, peer: peer.p50, peerName: 'piscina: sha' },
              { area: 'pool', workload: `${workload}: latency p99`, unit: 'ms', better: 'lower', gort: g.p99, peer: peer.p99, peerName: 'piscina: sha', target: { text: '≤ 1 × piscina', met: p99 <= 1, ratio: 1 } },
            )
          }
        }
      }
      tables.push(ratioLines)
      notes.push(
        `cpu: a task is a chain of sha256 digests, ${[...rounds].map(([t, r]) => `${t} ms = ${int(r)} rounds`).join(', ')} (calibrated on the app's thread at startup: ${roundMicros().toFixed(2)} µs a round, the lower quartile of 40 timings); closed loop: each result submits the next task; ${WARMUP_MS} ms untimed, then ${CPU_SECONDS} s timed, ${CPU_ROUNDS} rounds alternating; latency = submission to result on the app's thread, pooled over rounds`,
      )
    }

    if (PARTS.has('abort')) {
      const { rows: aborts, grace, graceFrom, whole, errorNotes } = await abortPart()
      const plainTarget = (grace ?? 0) + TARGET_PLAIN_ABORT_SLACK_MS
      const label: Record<AbortCase, string> = {
        queued: `queued task (~${QUEUED_TASK_MS} ms, behind another)`,
        plain: `running plain loop (~${ABORT_TASK_MS} ms, never yields)`,
        generator: `running generator (~${ABORT_TASK_MS} ms, yields every ${YIELD_EVERY} rounds)`,
      }
      const target = (row: AbortRow): number | undefined =>
        row.name === 'piscina' ? undefined : row.kind === 'generator' ? TARGET_GEN_ABORT_MS : row.kind === 'plain' ? plainTarget : undefined
      const stat = (xs: number[], q: number): number => (xs.length === 0 ? NaN : quantile(xs, q))
      const lines = [
        '| case | contender | abort → rejected p50 / max | abort → CPU free (next task back) p50 / max | CPU after (cores, p50 / max) | samples | target |',
        '| --- | --- | ---: | ---: | ---: | ---: | --- |',
      ]
      for (const row of aborts) {
        const rej = row.samples.map((s) => s.rejected)
        const free = row.samples.map((s) => s.free)
        const after = row.samples.map((s) => s.cpuAfter).filter((x) => Number.isFinite(x))
        const t = target(row)
        const freeP50 = stat(free, 0.5)
        const timeoutText = row.timedOut ? ` (the last sample: the next task was not back after ${int(ABORT_TASK_MS + 5000)} ms; pool destroyed)` : ''
        const met = t === undefined ? '' : `≤ ${t} ms: ${Number.isFinite(freeP50) && freeP50 <= t ? 'met' : 'MISSED'}`
        lines.push(
          `| ${label[row.kind]} | ${row.name} | ${ms(stat(rej, 0.5))} / ${ms(stat(rej, 1))} | ${ms(freeP50)} / ${ms(stat(free, 1))}${timeoutText} | ${after.length === 0 ? '–' : `${stat(after, 0.5).toFixed(2)} / ${stat(after, 1).toFixed(2)}`} | ${row.samples.length} | ${met} |`,
        )
        const wrong = row.samples.map((s) => s.wrong).filter((w) => w !== undefined)
        if (wrong.length > 0) notes.push(`abort, ${label[row.kind]}, ${row.name}: the aborted run() did not reject with an AbortError in ${wrong.length} samples (${wrong[0]})`)
        if (row.name === 'piscina') continue
        // gort's figures, next to piscina's in the same case (the
        // generator case, which piscina cannot run, next to its plain loop).
        const peer = aborts.find((x) => x.name === 'piscina' && x.kind === (row.kind === 'generator' ? 'plain' : row.kind))
        const peerFree = peer === undefined ? undefined : stat(peer.samples.map((s) => s.free), 0.5)
        const peerRej = peer === undefined ? undefined : stat(peer.samples.map((s) => s.rejected), 0.5)
        const peerName = peer === undefined ? undefined : `piscina, ${label[peer.kind]}`
        const finite = (x: number): number => (Number.isFinite(x) ? x : ABORT_TASK_MS + 5000)
        comparisons.push(
          {
            area: 'pool', workload: `abort, ${label[row.kind]}: to the CPU free`, unit: 'ms', better: 'lower', gort: finite(freeP50),
            ...(peerFree !== undefined && Number.isFinite(peerFree) ? { peer: peerFree, peerName } : {}),
            ...(t !== undefined ? { target: { text: `≤ ${t} ms`, met: Number.isFinite(freeP50) && freeP50 <= t } } : {}),
          },
          {
            area: 'pool', workload: `abort, ${label[row.kind]}: to the rejection`, unit: 'ms', better: 'lower', gort: finite(stat(rej, 0.5)),
            ...(peerRej !== undefined && Number.isFinite(peerRej) ? { peer: peerRej, peerName } : {}),
          },
        )
      }
      tables.push(lines)
      notes.push(
        `abort: pools of one thread (maxThreads 1); a running task is aborted ${ABORT_AFTER_MS} ms after its submission; "CPU free" = from abort() until a tiny task submitted right after it comes back (queued case: from the result of the task running ahead, i.e. what the aborted task still cost); "CPU after" = this process's CPU use in the ${CPU_AFTER_MS} ms after that, in cores (about 1: the aborted task still runs somewhere); ${ABORT_SAMPLES} samples per row, alternating`,
        `abort: the running cases' task: ${whole}`,
        ...errorNotes.map((e) => `abort: ${e}`),
        `abort: the plain loop's target is the grace period + ${TARGET_PLAIN_ABORT_SLACK_MS} ms; grace period: ${grace === undefined ? graceFrom : `${grace} ms (${graceFrom})`}`,
      )
    }

    return { suite: 'pool', rows, tables, comparisons, notes }
  },
}
