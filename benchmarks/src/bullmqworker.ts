// One contender of the bullmq suite (suites/bullmq.ts), in a child process
// of its own: a BullMQ Worker on a queue the suite has filled, run until
// every job has completed. It measures the steady state: jobs/s from the
// WARM-th completion to the last, and each job's latency in the Worker
// (from its 'active' event, just after BullMQ moved it to active, to its
// 'completed' event, after BullMQ stored the result), for jobs completed
// after the WARM-th. Every result is checked. argv: the config as JSON.

import { Worker as BullWorker, type Job } from 'bullmq'
import { Worker as GortWorker } from 'gort/bullmq'
import { fileURLToPath } from 'node:url'
import run from './bullmqjobs.js'

export type BullmqContender = 'gort' | 'sandboxed' | 'inprocess' | 'empty'

export interface BullmqWorkerConfig {
  contender: BullmqContender
  port: number
  queue: string
  concurrency: number
  /** Threads: gort's procs, the sandbox's worker threads (its concurrency). */
  threads: number
  jobs: number
  warm: number
  /** The result each job must have, by seed (sha) or null (tiny: n + 1). */
  expected: string[] | null
}

export interface BullmqWorkerResult {
  perSecond: number
  /** Latency per job, ms. */
  latency: number[]
  wrong: number
  failed: number
}

const cfg = JSON.parse(process.argv[2]!) as BullmqWorkerConfig
const connection = { host: '127.0.0.1', port: cfg.port, maxRetriesPerRequest: null }
const file = fileURLToPath(new URL('./bullmqjobs.js', import.meta.url))
const common = { connection, concurrency: cfg.concurrency, autorun: false }

let worker: BullWorker
switch (cfg.contender) {
  case 'gort':
    worker = new GortWorker(cfg.queue, file, { ...common, runtime: { procs: cfg.threads } })
    await (worker as GortWorker).runtime.ready
    break
  case 'sandboxed':
    worker = new BullWorker(cfg.queue, file, { ...common, useWorkerThreads: true })
    break
  case 'inprocess':
    worker = new BullWorker(cfg.queue, async (job: Job) => run(job as never), common)
    break
  case 'empty':
    worker = new BullWorker(cfg.queue, async () => {}, common)
    break
}
await worker.waitUntilReady()

const started = new Map<string, number>()
const latency: number[] = []
let completed = 0
let wrong = 0
let failed = 0
let t0 = 0
const done = new Promise<number>((resolve) => {
  worker.on('active', (job) => started.set(job.id!, performance.now()))
  worker.on('failed', () => {
    failed++
    if (completed + failed === cfg.jobs) resolve(performance.now())
  })
  worker.on('completed', (job, result) => {
    const now = performance.now()
    const want = cfg.contender === 'empty' ? undefined : cfg.expected === null ? job.data.n + 1 : cfg.expected[job.data.seed]
    if (result !== want && !(want === undefined && result == null)) wrong++
    completed++
    if (completed === cfg.warm) t0 = now
    else if (completed > cfg.warm) latency.push(now - started.get(job.id!)!)
    started.delete(job.id!)
    if (completed + failed === cfg.jobs) resolve(now)
  })
})
void worker.run()
const t1 = await done
await worker.close()
process.send!({ perSecond: ((cfg.jobs - cfg.warm) * 1000) / (t1 - t0), latency, wrong, failed } satisfies BullmqWorkerResult, () => process.exit(0))
