// bullmq: jobs through BullMQ on a real redis-server (issue 15), gort/bullmq
// against BullMQ's own ways of running a job.
//
// Method. The suite starts its own redis-server (redis.ts: a child process
// on a free port, no persistence). Per run it fills a new queue with
// BULLMQ_CPU_JOBS or BULLMQ_TINY_JOBS jobs (addBulk), then forks one Worker
// process (bullmqworker.ts), the only one alive, which runs them all and
// reports: jobs/s from its BULLMQ_WARM-th completion (10 %) to its last, so
// thread starts and warm-up are left out, and each later job's latency in
// the Worker, from its 'active' event (BullMQ has moved it to active) to
// its 'completed' event (BullMQ has stored the result). Every result is
// checked. Contenders, each with GOMAXPROCS (2) threads where it has
// threads:
//
//   CPU-bound jobs: a chain of sha256 digests of about BULLMQ_JOB_MS (1 ms,
//   calibrated here), the plain function `sha` of bullmqjobs.ts:
//   - gort/bullmq: `new Worker(queue, 'bullmqjobs.js', { runtime: { procs: 2 } })`,
//     concurrency BULLMQ_CPU_CONCURRENCY (4: two jobs per P, so a P
//     has the next job while the Worker's thread talks to Redis);
//   - BullMQ's sandboxed processor with useWorkerThreads, concurrency 2 (a
//     worker thread per running job: 2 threads);
//   - a plain in-process async processor (`async (job) => sha(job.data)`),
//     the same concurrency: the peer of the targets.
//   Tiny jobs (n + 1), concurrency BULLMQ_TINY_CONCURRENCY (64):
//   - gort/bullmq, 2 procs;
//   - BullMQ's in-process async processor;
//   - BullMQ's empty processor (`async () => {}`): the peer of the target,
//     where only BullMQ's Redis round trips are left.
//
// Per part, BULLMQ_ROUNDS (3) rounds, the contenders' order reversed every
// other round; figures are medians over the rounds (jobs/s), latency
// percentiles over every job of every round.
//
// Targets (issue 15), as ratios in the same run: CPU-bound jobs/s at least
// 1.8 × the in-process async processor's and at least the sandboxed
// processors'; tiny jobs/s at least 0.9 × the empty processor's. The
// Worker, redis-server and the suite share the 2 cores; the neighbours'
// CPU is reported.
//
// Knobs (environment): GOMAXPROCS (2), BULLMQ_ROUNDS (3), BULLMQ_CPU_JOBS
// (2000), BULLMQ_TINY_JOBS (6000), BULLMQ_JOB_MS (1), BULLMQ_CPU_CONCURRENCY
// (4), BULLMQ_TINY_CONCURRENCY (64).

import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { distribution, quantile, type Comparison, type Suite } from '../harness.js'
import { sha } from '../peers/pooltasks.js'
import { startRedis, type RedisServer } from '../../../packages/gort/scripts/redis-server.mjs'
import type { BullmqContender, BullmqWorkerConfig, BullmqWorkerResult } from '../bullmqworker.js'
import { calibrate } from './pool.js'

const PROCS = Number(process.env.GOMAXPROCS) || 2
const ROUNDS = Number(process.env.BULLMQ_ROUNDS) || 3
const CPU_JOBS = Number(process.env.BULLMQ_CPU_JOBS) || 2000
const TINY_JOBS = Number(process.env.BULLMQ_TINY_JOBS) || 6000
const JOB_MS = Number(process.env.BULLMQ_JOB_MS) || 1
const CPU_CONCURRENCY = Number(process.env.BULLMQ_CPU_CONCURRENCY) || 4
const TINY_CONCURRENCY = Number(process.env.BULLMQ_TINY_CONCURRENCY) || 64
const SEEDS = 8

const TARGET_CPU_VS_INPROCESS = 1.8
const TARGET_CPU_VS_SANDBOXED = 1
const TARGET_TINY_VS_EMPTY = 0.9

const WORKER = fileURLToPath(new URL('../bullmqworker.js', import.meta.url))

interface Contender {
  kind: BullmqContender
  name: string
  concurrency: number
}

interface Part {
  name: 'cpu' | 'tiny'
  jobs: number
  contenders: Contender[]
  data: (i: number) => Record<string, number>
  expected: string[] | null
}

interface Pooled {
  perSecond: number[]
  latency: number[]
  wrong: number
  failed: number
}

let nq = 0

async function runOne(redis: RedisServer, part: Part, c: Contender): Promise<BullmqWorkerResult> {
  const queue = new Queue(`bench${nq++}`, { connection: redis.connection })
  for (let i = 0; i < part.jobs; i += 1000) {
    const n = Math.min(1000, part.jobs - i)
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: part.name === 'cpu' ? 'sha' : 'tiny', data: part.data(i + k) })))
  }
  const cfg: BullmqWorkerConfig = {
    contender: c.kind, port: redis.port, queue: queue.name, concurrency: c.concurrency, threads: PROCS,
    jobs: part.jobs, warm: Math.floor(part.jobs / 10), expected: part.expected,
  }
  const proc = fork(WORKER, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const r = await new Promise<BullmqWorkerResult>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as BullmqWorkerResult))
    proc.once('exit', (code) => reject(new Error(`bullmq: the ${c.kind} worker exited (${code}) before it reported`)))
  })
  await new Promise((res) => (proc.exitCode !== null ? res(undefined) : proc.once('exit', res)))
  await queue.obliterate({ force: true })
  await queue.close()
  return r
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US')
const ms = (x: number): string => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`)
const median = (xs: number[]): number => quantile(xs, 0.5)

export const bullmqSuite: Suite = {
  name: 'bullmq',
  description: 'jobs through BullMQ on a real redis-server: gort/bullmq vs sandboxed processors (worker threads), in-process and empty processors',
  async run() {
    const rounds = calibrate(JOB_MS)
    const expected = Array.from({ length: SEEDS }, (_, seed) => sha({ seed, rounds }))
    const parts: Part[] = [
      {
        name: 'cpu', jobs: CPU_JOBS, expected, data: (i) => ({ seed: i % SEEDS, rounds, n: i }),
        contenders: [
          { kind: 'gort', name: `gort/bullmq (${PROCS} procs, concurrency ${CPU_CONCURRENCY})`, concurrency: CPU_CONCURRENCY },
          { kind: 'sandboxed', name: `BullMQ sandboxed, useWorkerThreads (concurrency ${PROCS} = ${PROCS} threads)`, concurrency: PROCS },
          { kind: 'inprocess', name: `BullMQ in-process async processor (concurrency ${CPU_CONCURRENCY})`, concurrency: CPU_CONCURRENCY },
        ],
      },
      {
        name: 'tiny', jobs: TINY_JOBS, expected: null, data: (i) => ({ n: i }),
        contenders: [
          { kind: 'gort', name: `gort/bullmq (${PROCS} procs, concurrency ${TINY_CONCURRENCY})`, concurrency: TINY_CONCURRENCY },
          { kind: 'inprocess', name: `BullMQ in-process async processor (concurrency ${TINY_CONCURRENCY})`, concurrency: TINY_CONCURRENCY },
          { kind: 'empty', name: `BullMQ empty processor (concurrency ${TINY_CONCURRENCY})`, concurrency: TINY_CONCURRENCY },
        ],
      },
    ]
    const redis = await startRedis()
    const comparisons: Comparison[] = []
    const tables: string[][] = []
    try {
      for (const part of parts) {
        const pooled = new Map<BullmqContender, Pooled>(part.contenders.map((c) => [c.kind, { perSecond: [], latency: [], wrong: 0, failed: 0 }]))
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? part.contenders : [...part.contenders].reverse()
          for (const c of order) {
            const r = await runOne(redis, part, c)
            const p = pooled.get(c.kind)!
            p.perSecond.push(r.perSecond)
            for (const x of r.latency) p.latency.push(x)
            p.wrong += r.wrong
            p.failed += r.failed
            console.error(`  bullmq ${part.name} round ${round + 1}: ${c.kind} ${int(r.perSecond)} jobs/s`)
          }
        }
        const peerKind: BullmqContender = part.name === 'cpu' ? 'inprocess' : 'empty'
        const peer = pooled.get(peerKind)!
        const peerRate = median(peer.perSecond)
        const peerName = part.contenders.find((c) => c.kind === peerKind)!.name
        const lines = [
          `| ${part.name === 'cpu' ? `CPU-bound jobs (~${JOB_MS} ms sha256, ${part.jobs} per run)` : `tiny jobs (${part.jobs} per run)`} | median jobs/s | ÷ ${peerKind === 'inprocess' ? 'in-process' : 'empty'} | latency p50 | p99 | wrong or failed |`,
          '| --- | ---: | ---: | ---: | ---: | ---: |',
        ]
        for (const c of part.contenders) {
          const p = pooled.get(c.kind)!
          const rate = median(p.perSecond)
          lines.push(`| ${c.name} | ${int(rate)} | ${(rate / peerRate).toFixed(2)} | ${ms(quantile(p.latency, 0.5))} | ${ms(quantile(p.latency, 0.99))} | ${p.wrong + p.failed} |`)
        }
        tables.push(lines)
        const g = pooled.get('gort')!
        const gRate = median(g.perSecond)
        const clean = g.wrong + g.failed === 0
        if (part.name === 'cpu') {
          const sb = pooled.get('sandboxed')!
          const sbRate = median(sb.perSecond)
          comparisons.push(
            { area: 'bullmq', workload: `CPU-bound ~${JOB_MS} ms jobs/s vs in-process async processor`, unit: 'jobs/s', better: 'higher', gort: gRate, peer: peerRate, peerName: 'BullMQ in-process', target: { text: `≥ ${TARGET_CPU_VS_INPROCESS} × in-process`, met: clean && gRate >= TARGET_CPU_VS_INPROCESS * peerRate, ratio: TARGET_CPU_VS_INPROCESS } },
            { area: 'bullmq', workload: `CPU-bound ~${JOB_MS} ms jobs/s vs sandboxed (worker threads)`, unit: 'jobs/s', better: 'higher', gort: gRate, peer: sbRate, peerName: 'BullMQ sandboxed', target: { text: `≥ ${TARGET_CPU_VS_SANDBOXED} × sandboxed`, met: clean && gRate >= TARGET_CPU_VS_SANDBOXED * sbRate, ratio: TARGET_CPU_VS_SANDBOXED } },
            { area: 'bullmq', workload: `CPU-bound job latency p99 vs sandboxed`, unit: 'ms', better: 'lower', gort: quantile(g.latency, 0.99), peer: quantile(sb.latency, 0.99), peerName: 'BullMQ sandboxed', dist: distribution(g.latency), peerDist: distribution(sb.latency) },
          )
        } else {
          comparisons.push(
            { area: 'bullmq', workload: 'tiny jobs/s vs empty processor', unit: 'jobs/s', better: 'higher', gort: gRate, peer: peerRate, peerName: 'BullMQ empty processor', target: { text: `≥ ${TARGET_TINY_VS_EMPTY} × empty`, met: clean && gRate >= TARGET_TINY_VS_EMPTY * peerRate, ratio: TARGET_TINY_VS_EMPTY } },
            { area: 'bullmq', workload: 'tiny job latency p99 vs empty processor', unit: 'ms', better: 'lower', gort: quantile(g.latency, 0.99), peer: quantile(peer.latency, 0.99), peerName: 'BullMQ empty processor', dist: distribution(g.latency), peerDist: distribution(peer.latency) },
          )
        }
      }
    } finally {
      await redis.stop()
    }
    return {
      suite: 'bullmq',
      rows: [],
      comparisons,
      tables,
      notes: [
        `Each run: a new queue filled with its jobs, then one Worker process alone runs them; jobs/s from the 10th percentile completion to the last (median over ${ROUNDS} rounds), latency from 'active' to 'completed' in the Worker over every later job.`,
        'redis-server (a child process, no persistence), the Worker process and this suite share the machine\'s cores.',
      ],
    }
  },
}
