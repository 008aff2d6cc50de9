// The job server of the http suite (suites/http.ts), one process per
// measurement: node:http, every request `GET /long?seed=S` or `GET
// /short?seed=S` runs one CPU-bound job (a chain of sha256 digests, the
// suite passes the two lengths) on the contender named by the first
// argument, and answers the job's result (16 hex digits) as the body.
//
//   node dist/httpserver.js '{"contender":"gort-run","procs":2,"long":2000,"short":40,"every":256}'
//
// Contenders (each with `procs` threads):
//   piscina          piscina (minThreads = maxThreads = procs), the plain function `sha`
//   gort-run         a gort runtime (procs Ps), `rt.run` of the goroutine
//                    httpJobs.sha, which yields every `every` rounds
//   gort-run-nosafe  the same goroutine without a safe point (every = ∞)
//   gort-pool-plain  gort/pool (maxThreads = procs), the plain function `sha`
//   gort-pool-gen    gort/pool, the generator `shaGen` yielding every `every` rounds
//
// With "stamp": true (gort-run only) every job runs httpJobs.shaStamped and
// the server keeps, per request, when it arrived, when its goroutine
// started and ended on its M, when the result reached the request's
// continuation and which thread ran it; the 'stamps' message returns them
// (scripts/http-diag.mjs).
//
// IPC with the parent: the server sends { port } once it listens (after
// every thread has run a job); it answers 'stats' (rt.stats() for the gort
// runtime contenders, else null), 'stamps', and ends on 'quit'.

import http from 'node:http'
import { Piscina } from 'piscina'
import { Runtime } from 'gort'
import GortPool from 'gort/pool'
import { httpJobs } from './httpjobs.js'
import type { ShaTask } from './peers/pooltasks.js'

export type ContenderKind = 'piscina' | 'gort-run' | 'gort-run-nosafe' | 'gort-pool-plain' | 'gort-pool-gen'

export interface ServerConfig {
  contender: ContenderKind
  procs: number
  /** sha256 rounds of a long and of a short job. */
  long: number
  short: number
  /** Rounds between two safe points of the generator versions. */
  every: number
  stamp?: boolean
  /** The gort runtime's runawayMs (its default if absent). */
  runawayMs?: number
}

/** One request's times (ms, performance.timeOrigin-based): see the header. */
export type Stamp = [arrived: number, started: number, ended: number, settled: number, thread: number, long: 0 | 1, stalls: number, stalledMs: number]

const TASKS = new URL('./peers/pooltasks.js', import.meta.url).href

const cfg = JSON.parse(process.argv[2] ?? '') as ServerConfig
const now = (): number => performance.timeOrigin + performance.now()

let rt: Runtime | undefined
let pool: { run(task: ShaTask, opts: { name: string }): Promise<unknown>; destroy?(): Promise<void>; close?(): Promise<void> } | undefined
let job: (task: ShaTask) => Promise<string>
const stamps: Stamp[] = []

switch (cfg.contender) {
  case 'piscina': {
    const p = new Piscina({ filename: TASKS, minThreads: cfg.procs, maxThreads: cfg.procs })
    pool = p as unknown as typeof pool
    job = (t) => p.run(t, { name: 'sha' }) as Promise<string>
    break
  }
  case 'gort-pool-plain':
  case 'gort-pool-gen': {
    const p = new GortPool({ filename: TASKS, maxThreads: cfg.procs })
    pool = p as unknown as typeof pool
    const name = cfg.contender === 'gort-pool-gen' ? 'shaGen' : 'sha'
    job = (t) => p.run({ ...t, every: cfg.every }, { name }) as Promise<string>
    break
  }
  case 'gort-run':
  case 'gort-run-nosafe': {
    const r = await Runtime.start({ procs: cfg.procs, modules: [new URL('./httpjobs.js', import.meta.url)], ...(cfg.runawayMs !== undefined ? { runawayMs: cfg.runawayMs } : {}) })
    rt = r
    const every = cfg.contender === 'gort-run' ? cfg.every : Number.MAX_SAFE_INTEGER
    job = (t) => r.run(httpJobs.sha, { ...t, every })
    break
  }
  default:
    throw new Error(`httpserver: unknown contender ${String(cfg.contender)}`)
}

/** Runs a job and records its stamp (gort runtime contenders with cfg.stamp). */
function stamped(t: ShaTask, arrived: number): Promise<string> {
  const every = cfg.contender === 'gort-run' ? cfg.every : Number.MAX_SAFE_INTEGER
  return rt!.run(httpJobs.shaStamped, { ...t, every }).then(([digest, started, ended, thread, stalls, stalledMs]) => {
    stamps.push([arrived, started, ended, now(), thread, t.rounds === cfg.long ? 1 : 0, stalls, stalledMs])
    return digest
  })
}

const server = http.createServer((req, res) => {
  const arrived = cfg.stamp === true ? now() : 0
  const url = req.url ?? '/'
  const q = url.indexOf('?seed=')
  const path = q === -1 ? url : url.slice(0, q)
  const rounds = path === '/long' ? cfg.long : path === '/short' ? cfg.short : -1
  const seed = q === -1 ? 0 : Number(url.slice(q + 6))
  if (rounds < 0 || !Number.isInteger(seed)) {
    res.statusCode = 404
    res.end(`no route ${url}: GET /long?seed=S or /short?seed=S`)
    return
  }
  const task = { seed, rounds }
  const p = cfg.stamp === true && rt !== undefined ? stamped(task, arrived) : job(task)
  p.then(
    (digest) => res.end(digest),
    (e: unknown) => {
      res.statusCode = 500
      res.end(String((e as Error | undefined)?.message ?? e))
    },
  )
})

// Every thread up and warm before the first request: procs jobs at once.
await Promise.all(Array.from({ length: cfg.procs * 2 }, (_, i) => job({ seed: i, rounds: cfg.long })))
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  process.send!({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 })
})

process.on('message', (msg) => {
  if (msg === 'stats') process.send!({ stats: rt?.stats() ?? null })
  else if (msg === 'stamps') process.send!({ stamps: stamps.splice(0) })
  else if (msg === 'quit') {
    server.close()
    server.closeAllConnections()
    const done = rt !== undefined ? rt.close() : pool?.destroy !== undefined ? pool.destroy() : pool?.close?.()
    void Promise.resolve(done).finally(() => process.exit(0))
  }
})
