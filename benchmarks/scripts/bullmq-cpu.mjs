// Where the CPU goes in the bullmq suite's tiny jobs (issue 15), per
// thread: one Worker in this process on a queue of tiny jobs (the suite's
// `n + 1`, or its ~1 ms sha jobs with DIAG_CPU=1) against its own
// redis-server, and the CPU each thread of this process and the
// redis-server used from the 10th-percentile completion to the last
// (/proc/self/task/*/schedstat: time running and time waiting for a
// core). The threads are told apart by when they appeared: the app's
// thread ("main"), those alive before the Worker was made (V8's helper
// threads, libuv's: "helpers"), and those made after it (the Ms and
// sysmon: "runtime"). Prints one JSON line: jobs/s, and per job the app
// thread's CPU (mainUs), the runtime threads' (runtimeUs), the helpers'
// (helpersUs), redis-server's (redisUs) and all of them (allUs), in µs; the
// voluntary context switches (sleeps) per job of the app's thread and of the
// runtime's threads; and each runtime thread's CPU/sleeps per job
// (runtimeThreads: the Ms and sysmon, which sleeps most for its CPU). What
// one wake-up costs on the machine: benchmarks/scripts/wake-cpu.mjs.
//   node benchmarks/scripts/bullmq-cpu.mjs [gort|empty|inprocess]
// Environment: DIAG_JOBS (6000), DIAG_CONCURRENCY (64), DIAG_PROCS (2),
// DIAG_CPU=1 (sha jobs of DIAG_ROUNDS sha256 rounds, 100), DIAG_HELPERS=1
// (each helper thread's CPU/sleeps per job too), DIAG_GORT (the
// module to import as gort/bullmq: a path to another build's bullmq.js inside
// packages/gort, to compare builds in alternation). For CPU profiles run
// it under `node --cpu-prof` (the Ms inherit the flag).
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Queue, Worker as BullWorker } from 'bullmq'
import { startRedis } from '../../packages/gort/scripts/redis-server.mjs'

const { Worker: GortWorker } = await import(process.env.DIAG_GORT ? pathToFileURL(resolve(process.env.DIAG_GORT)).href : 'gort/bullmq')
const kind = process.argv[2] ?? 'gort'
const cpu = process.env.DIAG_CPU === '1'
const jobs = Number(process.env.DIAG_JOBS) || 6000
const concurrency = Number(process.env.DIAG_CONCURRENCY) || 64
const procs = Number(process.env.DIAG_PROCS) || 2
const rounds = Number(process.env.DIAG_ROUNDS) || 100
const warm = Math.floor(jobs / 10)
const file = fileURLToPath(new URL('../dist/bullmqjobs.js', import.meta.url))

const redis = await startRedis()
const queue = new Queue(`cpu${process.pid}`, { connection: redis.connection })
for (let i = 0; i < jobs; i += 1000) {
  const n = Math.min(1000, jobs - i)
  await queue.addBulk(Array.from({ length: n }, (_, k) => cpu
    ? { name: 'sha', data: { seed: (i + k) % 8, rounds, n: i + k } }
    : { name: 'tiny', data: { n: i + k } }))
}

const before = new Set(readdirSync('/proc/self/task'))
const common = { connection: redis.connection, concurrency, autorun: false }
let worker
if (kind === 'gort') {
  worker = new GortWorker(queue.name, file, { ...common, runtime: { procs } })
  await worker.runtime.ready
} else if (kind === 'empty') worker = new BullWorker(queue.name, async () => {}, common)
else if (kind === 'inprocess') {
  const run = (await import(file)).default
  worker = new BullWorker(queue.name, async (job) => run(job), common)
} else throw new Error(`bullmq-cpu: unknown contender ${kind} (gort, empty or inprocess)`)
await worker.waitUntilReady()

/** ms running and waiting, by thread id. */
function threads() {
  const r = new Map()
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ').map(Number)
      const st = readFileSync(`/proc/self/task/${t}/status`, 'utf8')
      const csw = Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(st)?.[1] ?? 0)
      r.set(t, { run: run / 1e6, wait: wait / 1e6, csw })
    } catch {
      // the thread ended meanwhile
    }
  }
  return r
}
const redisRun = () => Number(readFileSync(`/proc/${redis.process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6

let done = 0
let t0 = 0
let s0
let r0 = 0
const finished = new Promise((resolve, reject) => {
  worker.on('failed', (_job, err) => reject(err))
  worker.on('completed', () => {
    if (++done === warm) {
      t0 = performance.now()
      s0 = threads()
      r0 = redisRun()
    }
    if (done === jobs) resolve(performance.now())
  })
})
void worker.run()
const t1 = await finished
const s1 = threads()
const r1 = redisRun()
await worker.close()
await queue.obliterate({ force: true })
await queue.close()
await redis.stop()

const n = jobs - warm
const use = { main: 0, helpers: 0, runtime: 0 }
const waited = { main: 0, helpers: 0, runtime: 0 }
const sleeps = { main: 0, helpers: 0, runtime: 0 }
/** Each runtime thread (the Ms and sysmon): CPU and voluntary context switches (sleeps) per job; sysmon is usually the one that sleeps most. */
const perThread = []
const helperThreads = []
for (const [t, b] of s1) {
  const a = s0.get(t) ?? { run: 0, wait: 0, csw: 0 }
  const k = t === String(process.pid) ? 'main' : before.has(t) ? 'helpers' : 'runtime'
  use[k] += b.run - a.run
  waited[k] += b.wait - a.wait
  sleeps[k] += b.csw - a.csw
  if (process.env.DIAG_HELPERS === '1' && k === 'helpers' && b.run - a.run > 0) helperThreads.push([b.run - a.run, b.csw - a.csw])
  if (k === 'runtime' && b.run - a.run > 0) perThread.push([b.run - a.run, b.csw - a.csw])
}
const us = (ms) => Math.round((ms * 1000) / n)
const per = (c) => Math.round((c * 10) / n) / 10
console.log(JSON.stringify({
  kind, cpu, jobs, perSecond: Math.round((n * 1000) / (t1 - t0)),
  mainUs: us(use.main), runtimeUs: us(use.runtime), helpersUs: us(use.helpers), redisUs: us(r1 - r0),
  allUs: us(use.main + use.runtime + use.helpers + r1 - r0), mainWaitUs: us(waited.main),
  mainSleeps: per(sleeps.main), runtimeSleeps: per(sleeps.runtime),
  ...(helperThreads.length > 0 ? { helperThreads: helperThreads.sort((x, y) => y[0] - x[0]).map(([ms, c]) => `${us(ms)}us/${per(c)}`).join(' ') } : {}),
  runtimeThreads: perThread.sort((x, y) => y[1] - x[1]).map(([ms, c]) => `${us(ms)}us/${per(c)}`).join(' '),
}))
process.exit(0)
