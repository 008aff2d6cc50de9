// http: an HTTP job server under load, gort against piscina (issue 14). A
// user's first real use of a job runner: node:http, and every request runs
// one CPU-bound job off the event loop; what matters is what the clients
// see, requests per second and the latency's tail.
//
// Method. The server (httpserver.ts) runs in a child process of its own,
// one at a time, so that nothing of one contender (threads, heap, a GC)
// is alive while another is measured. It answers `GET /long?seed=S` and
// `GET /short?seed=S` with the result of one job, a chain of sha256
// digests (peers/pooltasks.ts): the first 8 bytes of the last digest, in
// hex. The chains' lengths are calibrated on this process at startup to
// HTTP_JOB_MS (5 ms: about 2,000 rounds, issue 14's job) and HTTP_SHORT_MS
// (0.1 ms). Contenders, each with GOMAXPROCS (2) threads:
//
//   - piscina 5.3, minThreads = maxThreads = GOMAXPROCS, running the plain
//     function `sha`: the peer of every other row;
//   - gort `rt.run` of a registered goroutine (httpjobs.ts) that yields, a
//     safe point, every HTTP_YIELD_EVERY (256) rounds: issue 14's server;
//   - the same goroutine without a safe point: where the yields' cost shows;
//   - gort/pool (`import Piscina from 'gort/pool'`, maxThreads =
//     GOMAXPROCS) running the plain `sha`, and the generator `shaGen`
//     yielding every HTTP_YIELD_EVERY rounds.
//
// The load: autocannon 8, run from this process, with HTTP_CONNECTIONS
// (10 and 50) keep-alive connections, each sending its next request when
// the previous one's answer is in (closed loop, no pipelining). Two parts:
//
//   - long: every request a HTTP_JOB_MS job;
//   - mix: each connection alternates a long and a short job (half the
//     requests each); the short ones' latency is reported apart, since it is
//     what a job runner's queueing does to a cheap request stuck behind
//     expensive ones.
//
// Per cell (part × connections), HTTP_ROUNDS (2) rounds; in each, every
// contender in turn (the order reversed every other round) gets a new
// server, HTTP_WARMUP_SECONDS (1) of untimed load, then HTTP_SECONDS (5)
// timed. Figures per contender and cell, pooled over its rounds:
// requests/s is the 2xx responses over the timed windows; latency is
// autocannon's per response (from the request's write to the response's
// end), p50 and p99 by nearest rank over every response of the windows.
// Every response's body is checked against the chain computed here (8
// seeds per length); a contender with a wrong body, a non-2xx answer, a
// connection error or a timeout (HTTP_TIMEOUT_SECONDS, 10) shows them in
// its row and misses its targets.
//
// Targets (issue 14), as ratios to piscina in the same run: requests/s at
// least 1.0 × piscina's and p99 at most 0.8 × piscina's at both loads
// (long part); in the mix, the short jobs' p99 at most 1.0 × piscina's.
// The load generator shares the 2 cores with the server's threads, as a
// user's does on such a machine; the neighbours' CPU is reported per cell.
//
// Knobs (environment): GOMAXPROCS (2), HTTP_CONNECTIONS (10,50),
// HTTP_SECONDS (5), HTTP_WARMUP_SECONDS (1), HTTP_ROUNDS (2), HTTP_JOB_MS
// (5), HTTP_SHORT_MS (0.1), HTTP_YIELD_EVERY (256), HTTP_TIMEOUT_SECONDS
// (10), HTTP_LONG_ROUNDS and HTTP_SHORT_ROUNDS (the lengths in rounds,
// instead of the calibration), HTTP_PARTS (long,mix) and HTTP_CONTENDERS (piscina,gort-run,
// gort-run-nosafe,gort-pool-plain,gort-pool-gen; piscina is always run).

import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Piscina } from 'piscina'
import { neighbourCores, neighbourMeter, quantile, sleep, type Comparison, type Suite } from '../harness.js'
import { sha } from '../peers/pooltasks.js'
import type { ContenderKind, ServerConfig } from '../httpserver.js'
import { calibrate, roundMicros } from './pool.js'

const PROCS = Number(process.env.GOMAXPROCS) || 2
const CONNECTIONS = list(process.env.HTTP_CONNECTIONS, [10, 50])
const SECONDS = Number(process.env.HTTP_SECONDS) || 5
const WARMUP_SECONDS = Number(process.env.HTTP_WARMUP_SECONDS ?? 1)
const ROUNDS = Number(process.env.HTTP_ROUNDS) || 2
const JOB_MS = Number(process.env.HTTP_JOB_MS) || 5
const SHORT_MS = Number(process.env.HTTP_SHORT_MS) || 0.1
const YIELD_EVERY = Number(process.env.HTTP_YIELD_EVERY) || 256
const TIMEOUT_SECONDS = Number(process.env.HTTP_TIMEOUT_SECONDS) || 10
const PARTS = new Set((process.env.HTTP_PARTS ?? 'long,mix').split(',').map((s) => s.trim()))

/** Issue 14's targets, as ratios to piscina. */
const TARGET_RPS_RATIO = 1
const TARGET_P99_RATIO = 0.8
const TARGET_SHORT_P99_RATIO = 1

/** Distinct seeds per job length (their results are computed once, here). */
const SEEDS = 8

const SERVER = fileURLToPath(new URL('../httpserver.js', import.meta.url))

function list(env: string | undefined, dflt: number[]): number[] {
  const xs = (env ?? '').split(',').map(Number).filter((x) => x > 0)
  return xs.length > 0 ? xs : dflt
}

const ms = (x: number): string => (!Number.isFinite(x) ? '–' : x < 1 ? `${(x * 1000).toFixed(0)} µs` : x < 100 ? `${x.toFixed(2)} ms` : `${Math.round(x).toLocaleString('en-US')} ms`)
const int = (x: number): string => Math.round(x).toLocaleString('en-US')
const ratio = (x: number): string => (!Number.isFinite(x) ? '–' : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2))

interface Contender {
  kind: ContenderKind
  name: string
}

const ALL: Contender[] = [
  { kind: 'piscina', name: 'piscina: sha (plain function)' },
  { kind: 'gort-run', name: `gort rt.run: sha goroutine, yield every ${YIELD_EVERY} rounds` },
  { kind: 'gort-run-nosafe', name: 'gort rt.run: sha goroutine, no safe point' },
  { kind: 'gort-pool-plain', name: 'gort/pool: sha (plain function)' },
  { kind: 'gort-pool-gen', name: `gort/pool: shaGen (generator, yield every ${YIELD_EVERY} rounds)` },
]
const CHOSEN = new Set((process.env.HTTP_CONTENDERS ?? ALL.map((c) => c.kind).join(',')).split(',').map((s) => s.trim()))
const CONTENDERS = ALL.filter((c) => c.kind === 'piscina' || CHOSEN.has(c.kind))

// ---------------------------------------------------------------------------
// The server process.

export interface Server {
  port: number
  proc: ChildProcess
  /** Sends msg and resolves with the server's next message. */
  ask(msg: string): Promise<unknown>
  stop(): Promise<void>
}

/** Forks a job server (httpserver.ts) and resolves once it listens. execArgv: the server's node options (a CPU profile). */
export async function startServer(cfg: ServerConfig, execArgv: string[] = []): Promise<Server> {
  const proc = fork(SERVER, [JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv })
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`http: the ${cfg.contender} server exited (${code}) before it listened`))
    proc.once('exit', onExit)
    proc.once('message', (m) => {
      proc.off('exit', onExit)
      resolve((m as { port: number }).port)
    })
  })
  const ask = (msg: string): Promise<unknown> =>
    new Promise((resolve) => {
      proc.once('message', resolve)
      proc.send(msg)
    })
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      proc.once('exit', () => {
        clearTimeout(t)
        resolve()
      })
      proc.send('quit')
    })
  return { port, proc, ask, stop }
}

/** CPU seconds (user + system, all threads) of a live process, from /proc/<pid>/stat; 0 where it cannot tell. */
function processSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / 100 // utime, stime (fields 14 and 15); USER_HZ is 100 on Linux
  } catch {
    return 0
  }
}

// ---------------------------------------------------------------------------
// The load.

type JobKind = 'long' | 'short'

export interface LoadRun {
  /** Latency (ms) of every 2xx response, by job length. */
  latency: Record<JobKind, number[]>
  /** Wall time of the load, ms. */
  windowMs: number
  errors: number
  timeouts: number
  non2xx: number
  /** 2xx responses whose body was not the job's result. */
  wrong: number
  firstWrong?: string
}

/** The expected body of each (length, seed). */
export type Expected = Record<JobKind, string[]>

/**
 * Loads the server at port with autocannon for `seconds`: `connections`
 * connections, each cycling through its requests (mix: long and short
 * alternately). Every response's status and body are checked.
 */
export async function load(port: number, connections: number, mix: boolean, seconds: number, expected: Expected): Promise<LoadRun> {
  const run: LoadRun = { latency: { long: [], short: [] }, windowMs: 0, errors: 0, timeouts: 0, non2xx: 0, wrong: 0 }
  // autocannon calls a request's onResponse, then the client's 'response'
  // event with the latency, synchronously one after the other: `last`
  // carries the length (and whether the response was good) from one to the other.
  let last: { kind: JobKind; ok: boolean } = { kind: 'long', ok: false }
  const requests: autocannon.Request[] = []
  for (let seed = 0; seed < SEEDS; seed++) {
    for (const kind of mix ? (['long', 'short'] as const) : (['long'] as const)) {
      const want = expected[kind][seed]
      requests.push({
        method: 'GET',
        path: `/${kind}?seed=${seed}`,
        onResponse: (status, body) => {
          const ok = status >= 200 && status < 300 && body === want
          if (status >= 200 && status < 300 && body !== want) {
            run.wrong++
            run.firstWrong ??= `${kind} seed ${seed}: ${JSON.stringify(body.slice(0, 80))}, expected ${want}`
          }
          last = { kind, ok }
        },
      })
    }
  }
  const t0 = performance.now()
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    timeout: TIMEOUT_SECONDS,
    requests,
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, duration: number) => {
        if (last.ok) run.latency[last.kind].push(duration)
      })
    },
  })
  run.windowMs = performance.now() - t0
  run.errors = r.errors
  run.timeouts = r.timeouts
  run.non2xx = r.non2xx
  return run
}

// ---------------------------------------------------------------------------
// The cells.

interface Cell {
  part: 'long' | 'mix'
  connections: number
  contender: Contender
  /** 2xx responses per second over the timed windows (both lengths). */
  perSecond: number
  roundRates: number[]
  long: number[]
  short: number[]
  errors: number
  timeouts: number
  non2xx: number
  wrong: number
  firstWrong?: string
  neighbours: number
}

function failures(c: Cell): number {
  return c.errors + c.timeouts + c.non2xx + c.wrong
}

function failureText(c: Cell): string {
  const parts: string[] = []
  if (c.errors > 0) parts.push(`${c.errors} errors`)
  if (c.timeouts > 0) parts.push(`${c.timeouts} timeouts`)
  if (c.non2xx > 0) parts.push(`${c.non2xx} non-2xx`)
  if (c.wrong > 0) parts.push(`${c.wrong} wrong bodies`)
  return parts.length === 0 ? 'none' : parts.join(', ')
}

async function measure(part: 'long' | 'mix', connections: number, rounds: { long: number; short: number }, expected: Expected): Promise<Cell[]> {
  const cells = new Map<ContenderKind, Cell>(
    CONTENDERS.map((c) => [c.kind, { part, connections, contender: c, perSecond: 0, roundRates: [], long: [], short: [], errors: 0, timeouts: 0, non2xx: 0, wrong: 0, neighbours: 0 }]),
  )
  const windows = new Map<ContenderKind, { n: number; ms: number }>(CONTENDERS.map((c) => [c.kind, { n: 0, ms: 0 }]))
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse()
    for (const c of order) {
      const server = await startServer({ contender: c.kind, procs: PROCS, long: rounds.long, short: rounds.short, every: YIELD_EVERY })
      try {
        if (WARMUP_SECONDS > 0) await load(server.port, connections, part === 'mix', WARMUP_SECONDS, expected)
        await sleep(100)
        const meter = neighbourMeter()
        const cpu0 = processSeconds(server.proc.pid)
        const run = await load(server.port, connections, part === 'mix', SECONDS, expected)
        // The server is not reaped yet, so neighbourMeter counts it as another process: take it out.
        const n = Math.max(0, neighbourCores(meter()) - (processSeconds(server.proc.pid) - cpu0) / (run.windowMs / 1000))
        const cell = cells.get(c.kind)!
        const w = windows.get(c.kind)!
        const ok = run.latency.long.length + run.latency.short.length
        w.n += ok
        w.ms += run.windowMs
        cell.roundRates.push(ok / (run.windowMs / 1000))
        cell.long.push(...run.latency.long)
        cell.short.push(...run.latency.short)
        cell.errors += run.errors
        cell.timeouts += run.timeouts
        cell.non2xx += run.non2xx
        cell.wrong += run.wrong
        cell.firstWrong ??= run.firstWrong
        cell.neighbours = Math.max(cell.neighbours, n)
      } finally {
        await server.stop()
      }
    }
  }
  for (const [kind, cell] of cells) {
    const w = windows.get(kind)!
    cell.perSecond = w.n / (w.ms / 1000)
  }
  return [...cells.values()]
}

/** The expected bodies: each seed's chain at both lengths, computed on this thread. */
export function expectedBodies(rounds: { long: number; short: number }): Expected {
  return {
    long: Array.from({ length: SEEDS }, (_, seed) => sha({ seed, rounds: rounds.long })),
    short: Array.from({ length: SEEDS }, (_, seed) => sha({ seed, rounds: rounds.short })),
  }
}

/** The lengths of the long and the short job, in sha256 rounds: calibrated on this thread (HTTP_JOB_MS, HTTP_SHORT_MS), or set (HTTP_LONG_ROUNDS, HTTP_SHORT_ROUNDS). */
export function jobRounds(): { long: number; short: number } {
  return { long: Number(process.env.HTTP_LONG_ROUNDS) || calibrate(JOB_MS), short: Number(process.env.HTTP_SHORT_ROUNDS) || calibrate(SHORT_MS) }
}

// ---------------------------------------------------------------------------
// The suite.

export const httpSuite: Suite = {
  name: 'http',
  description: `an HTTP job server (node:http, one ${JOB_MS} ms sha256 job per request) loaded by autocannon at ${CONNECTIONS.join(' and ')} connections, gort against piscina, ${PROCS} threads each`,
  async run() {
    const rounds = jobRounds()
    const expected = expectedBodies(rounds)
    const cells: Cell[] = []
    for (const part of ['long', 'mix'] as const) {
      if (!PARTS.has(part)) continue
      for (const connections of CONNECTIONS) cells.push(...(await measure(part, connections, rounds, expected)))
    }

    const tables: string[][] = []
    const comparisons: Comparison[] = []
    const q = (xs: number[], p: number): number => (xs.length === 0 ? NaN : quantile(xs, p))
    const peerOf = (c: Cell): Cell => cells.find((x) => x.part === c.part && x.connections === c.connections && x.contender.kind === 'piscina')!

    if (PARTS.has('long')) {
      const at = cells.filter((c) => c.part === 'long')
      tables.push([
        `| connections | contender | requests/s | p50 | p99 | max | rounds (min–max requests/s) | responses | failed | neighbours (cores, max) |`,
        '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
        ...at.map((c) => `| ${c.connections} | ${c.contender.name} | ${int(c.perSecond)} | ${ms(q(c.long, 0.5))} | ${ms(q(c.long, 0.99))} | ${ms(q(c.long, 1))} | ${int(Math.min(...c.roundRates))}–${int(Math.max(...c.roundRates))} | ${c.long.length} | ${failureText(c)} | ${c.neighbours.toFixed(2)} |`),
      ])
      const lines = ['| connections | contender | gort ÷ piscina requests/s | p50 | p99 | target |', '| ---: | --- | ---: | ---: | ---: | --- |']
      for (const g of at.filter((c) => c.contender.kind !== 'piscina')) {
        const peer = peerOf(g)
        const clean = failures(g) === 0
        const rps = g.perSecond / peer.perSecond
        const p50 = q(g.long, 0.5) / q(peer.long, 0.5)
        const p99 = q(g.long, 0.99) / q(peer.long, 0.99)
        const rpsMet = clean && rps >= TARGET_RPS_RATIO
        const p99Met = clean && p99 <= TARGET_P99_RATIO
        lines.push(
          `| ${g.connections} | ${g.contender.name} | ${ratio(rps)} | ${ratio(p50)} | ${ratio(p99)} | requests/s ≥ ${TARGET_RPS_RATIO} × piscina: ${rpsMet ? 'met' : 'MISSED'}; p99 ≤ ${TARGET_P99_RATIO} × piscina: ${p99Met ? 'met' : 'MISSED'}${clean ? '' : ` (failed responses: ${failureText(g)})`} |`,
        )
        const workload = `${g.contender.name}, ${JOB_MS} ms jobs, ${g.connections} connections`
        const failed = clean ? '' : ` (${failureText(g)})`
        comparisons.push(
          { area: 'http', workload: `${workload}: requests/s${failed}`, unit: 'req/s', better: 'higher', gort: g.perSecond, peer: peer.perSecond, peerName: 'piscina', target: { text: `≥ ${TARGET_RPS_RATIO} × piscina, no failed response`, met: rpsMet, ratio: TARGET_RPS_RATIO } },
          { area: 'http', workload: `${workload}: latency p50`, unit: 'ms', better: 'lower', gort: q(g.long, 0.5), peer: q(peer.long, 0.5), peerName: 'piscina' },
          { area: 'http', workload: `${workload}: latency p99${failed}`, unit: 'ms', better: 'lower', gort: q(g.long, 0.99), peer: q(peer.long, 0.99), peerName: 'piscina', target: { text: `≤ ${TARGET_P99_RATIO} × piscina, no failed response`, met: p99Met, ratio: TARGET_P99_RATIO } },
        )
      }
      tables.push(lines)
    }

    if (PARTS.has('mix')) {
      const at = cells.filter((c) => c.part === 'mix')
      tables.push([
        `| mix: connections | contender | requests/s (both) | short p50 | short p99 | long p50 | long p99 | responses (long / short) | failed | neighbours (cores, max) |`,
        '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
        ...at.map((c) => `| ${c.connections} | ${c.contender.name} | ${int(c.perSecond)} | ${ms(q(c.short, 0.5))} | ${ms(q(c.short, 0.99))} | ${ms(q(c.long, 0.5))} | ${ms(q(c.long, 0.99))} | ${c.long.length} / ${c.short.length} | ${failureText(c)} | ${c.neighbours.toFixed(2)} |`),
      ])
      const lines = ['| mix: connections | contender | gort ÷ piscina requests/s | short p50 | short p99 | long p99 | target |', '| ---: | --- | ---: | ---: | ---: | ---: | --- |']
      for (const g of at.filter((c) => c.contender.kind !== 'piscina')) {
        const peer = peerOf(g)
        const clean = failures(g) === 0
        const shortP99 = q(g.short, 0.99) / q(peer.short, 0.99)
        const met = clean && shortP99 <= TARGET_SHORT_P99_RATIO
        lines.push(
          `| ${g.connections} | ${g.contender.name} | ${ratio(g.perSecond / peer.perSecond)} | ${ratio(q(g.short, 0.5) / q(peer.short, 0.5))} | ${ratio(shortP99)} | ${ratio(q(g.long, 0.99) / q(peer.long, 0.99))} | short p99 ≤ ${TARGET_SHORT_P99_RATIO} × piscina: ${met ? 'met' : 'MISSED'}${clean ? '' : ` (failed responses: ${failureText(g)})`} |`,
        )
        const workload = `${g.contender.name}, ${g.connections} connections`
        const failed = clean ? '' : ` (${failureText(g)})`
        comparisons.push(
          { area: 'http: mix', workload: `${workload}: requests/s${failed}`, unit: 'req/s', better: 'higher', gort: g.perSecond, peer: peer.perSecond, peerName: 'piscina' },
          { area: 'http: mix', workload: `${workload}: short jobs' latency p99${failed}`, unit: 'ms', better: 'lower', gort: q(g.short, 0.99), peer: q(peer.short, 0.99), peerName: 'piscina', target: { text: `≤ ${TARGET_SHORT_P99_RATIO} × piscina, no failed response`, met, ratio: TARGET_SHORT_P99_RATIO } },
          { area: 'http: mix', workload: `${workload}: long jobs' latency p99`, unit: 'ms', better: 'lower', gort: q(g.long, 0.99), peer: q(peer.long, 0.99), peerName: 'piscina' },
        )
      }
      tables.push(lines)
    }

    const wrong = cells.filter((c) => c.firstWrong !== undefined)
    const notes = [
      `each contender's server is a child process of its own (benchmarks/src/httpserver.ts), ${PROCS} threads: piscina ${Piscina.version} (minThreads = maxThreads), gort Runtime procs ${PROCS}, gort/pool maxThreads ${PROCS}`,
      `a job is a chain of sha256 digests: long ${int(rounds.long)} rounds (${JOB_MS} ms), short ${int(rounds.short)} rounds (${SHORT_MS} ms), calibrated on this thread at startup (${roundMicros().toFixed(2)} µs a round, the lower quartile of 40 timings; unless HTTP_LONG_ROUNDS or HTTP_SHORT_ROUNDS set them); the generator versions yield every ${YIELD_EVERY} rounds`,
      `load: autocannon from this process, keep-alive connections in a closed loop; per cell ${ROUNDS} rounds, contenders alternating (reversed every other round), a new server for each, ${WARMUP_SECONDS} s untimed then ${SECONDS} s timed; latency = autocannon's per response, pooled over rounds; requests/s = 2xx responses with the right body over the timed windows`,
      `mix: each connection alternates a long and a short job; the short jobs' latency is reported apart`,
      ...wrong.map((c) => `${c.part}, ${c.connections} connections, ${c.contender.name}: a wrong body, ${c.firstWrong}`),
    ]
    return { suite: 'http', rows: [], tables, comparisons, notes }
  },
}
