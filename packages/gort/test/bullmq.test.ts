// gort/bullmq against a real redis-server (a child process of this test,
// scripts/redis-server.mjs) and real worker threads: jobs complete with their results
// in Redis, failures are retried by attempts and backoff, progress arrives
// in order, cancellation reaches a running job, close() waits for running
// jobs, and concurrency goes far above the thread count.
//
// Every wait has a watchdog that fails with the queue's counts instead of
// hanging (bounded()).

import test from 'ava'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { Queue, Job, QueueEvents, Worker as BullWorker } from 'bullmq'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'gort/bullmq'
import Piscina from 'gort/pool'
import { Runtime } from 'gort'
import { startRedis, type RedisServer } from '../scripts/redis-server.mjs'

const fixture = (f: string): string => fileURLToPath(new URL(`../test/fixtures/bullmq/${f}`, import.meta.url))
const gen = fixture('gen.mjs')

let redis: RedisServer
const queues: Queue[] = []
const workers: Worker[] = []

/** A Worker, closed at the end if the test has not closed it (a failed test). */
function worker(...a: ConstructorParameters<typeof Worker>): Worker {
  const w = new Worker(...a)
  workers.push(w)
  return w
}
let nq = 0

test.before(async () => {
  redis = await startRedis()
})
test.after.always(async () => {
  await Promise.all(workers.map((w) => w.close(true).catch(() => {})))
  await Promise.all(queues.map((q) => q.close()))
  await redis?.stop()
})

function newQueue(): Queue {
  const q = new Queue(`q${nq++}`, { connection: redis.connection })
  queues.push(q)
  return q
}

/** Runs p, failing with the queue's job counts (a watchdog) if it has not settled after ms. */
async function bounded<T>(q: Queue, p: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const dog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void q.getJobCounts().then(
        (c) => reject(new Error(`watchdog: ${what} not done after ${ms} ms; queue ${q.name}: ${JSON.stringify(c)}`)),
        (e: unknown) => reject(new Error(`watchdog: ${what} not done after ${ms} ms (counts: ${String(e)})`)),
      )
    }, ms)
  })
  try {
    return await Promise.race([p, dog])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves when the worker has emitted `event` n times, with what each carried. */
function collect(w: Worker, event: 'completed' | 'failed', n: number): Promise<Array<[Job, unknown]>> {
  return new Promise((resolve) => {
    const got: Array<[Job, unknown]> = []
    const on = (job: Job, v: unknown): void => {
      got.push([job, v])
      if (got.length === n) {
        w.off(event, on)
        resolve(got)
      }
    }
    w.on(event, on)
  })
}

test('jobs complete on a generator, a plain and an async processor; results are stored in Redis', async (t) => {
  const q = newQueue()
  const n = 60
  const kinds = [
    { file: gen, name: 'double', want: (i: number) => ({ n: i, double: i * 2 }) },
    { file: fixture('plain.mjs'), name: 'plain', want: (i: number) => i * 3 },
    { file: fixture('async.cjs'), name: 'triple', want: (i: number) => i * 5 },
  ]
  for (const k of kinds) {
    const w = worker(q.name, k.file, { connection: redis.connection, concurrency: 16, runtime: { procs: 2 } })
    const done = collect(w, 'completed', n)
    const jobs = await q.addBulk(Array.from({ length: n }, (_, i) => ({ name: k.name, data: { n: i } })))
    const got = await bounded(q, done, `${n} ${k.name} jobs`)
    await w.close()
    // Each job once, and its result as Redis stored it.
    t.deepEqual(got.map(([j]) => j.id!).sort(), jobs.map((j) => j.id!).sort(), `${k.name}: every job completed once`)
    t.is(got.length, n)
    for (const j of jobs) {
      const back = await Job.fromId(q, j.id!)
      const want = k.want(j.data.n)
      if (typeof want === 'object') t.like(back!.returnvalue, want)
      else t.is(back!.returnvalue, want)
      t.is(await back!.getState(), 'completed')
      // The fields the processor saw were the Job's.
      if (k.name === 'double') t.like(back!.returnvalue, { id: j.id, attemptsMade: 0, timestamp: j.timestamp })
    }
  }
})

test('a registered goroutine function is a processor; concurrency far above the thread count', async (t) => {
  const q = newQueue()
  const { fns } = (await import(new URL('../test/fixtures/bullmq/gofns.mjs', import.meta.url).href)) as { fns: { square: never } }
  const w = worker(q.name, fns.square, { connection: redis.connection, concurrency: 8, runtime: { procs: 1 } })
  const done = collect(w, 'completed', 20)
  await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'sq', data: { n: i } })))
  const got = await bounded(q, done, 'squares')
  t.deepEqual(got.map(([j, v]) => [j.data.n, v]).sort((a, b) => a[0] - b[0]), Array.from({ length: 20 }, (_, i) => [i, i * i]))
  await w.close()

  // 40 async jobs on one P that each wait until all 40 have started: they
  // complete only if all run at once on the one thread.
  const q2 = newQueue()
  const of = 40
  const key = `barrier:${q2.name}`
  const w2 = worker(q2.name, fixture('async.cjs'), { connection: redis.connection, concurrency: of, runtime: { procs: 1, maxThreads: 2 } })
  const done2 = collect(w2, 'completed', of)
  await q2.addBulk(Array.from({ length: of }, () => ({ name: 'barrier', data: { host: redis.host, port: redis.port, key, of } })))
  const got2 = await bounded(q2, done2, 'the barrier jobs')
  t.true(got2.every(([, v]) => v === 'through'))
  t.is(new Set(got2.map(([j]) => j.id)).size, of)
  await w2.close()
})

test('failures are retried by attempts and backoff, attemptsMade counted; the last failure is stored', async (t) => {
  const q = newQueue()
  const w = worker(q.name, gen, { connection: redis.connection, concurrency: 4, runtime: { procs: 1 } })
  const failures: string[] = []
  w.on('failed', (job, err) => failures.push(`${job!.data.tag}:${job!.attemptsMade}:${err.message}`))
  // QueueEvents reads this queue's event stream from its start. With BullMQ's
  // default ('$', new events only) waitUntilFinished can miss the end: it
  // checks the job's state once QueueEvents' connection is ready, but the
  // first XREAD is issued later, and an event written in between is never
  // read (a fresh-clone CI run waited 30 s for job 2's 'failed').
  const events = new QueueEvents(q.name, { connection: redis.connection, lastEventId: '0-0' })
  t.teardown(() => events.close())
  await events.waitUntilReady()
  const ok = await q.add('flaky', { failUntil: 2, tag: 'ok' }, { attempts: 3, backoff: { type: 'fixed', delay: 20 } })
  const bad = await q.add('flaky', { failUntil: 5, tag: 'bad' }, { attempts: 2, backoff: { type: 'exponential', delay: 10 } })
  const okDone = ok.waitUntilFinished(events, 30_000)
  const badDone = bad.waitUntilFinished(events, 30_000).then(() => t.fail('bad completed'), (e: Error) => e)
  t.deepEqual(await bounded(q, okDone, 'the flaky job'), { attemptsMade: 2 })
  const e = await bounded(q, badDone, 'the failing job')
  t.is((e as Error).message, 'flaky attempt 1')
  const badBack = await Job.fromId(q, bad.id!)
  t.is(await badBack!.getState(), 'failed')
  t.is(badBack!.attemptsMade, 2)
  t.is(badBack!.failedReason, 'flaky attempt 1')
  t.true((badBack!.stacktrace ?? []).length >= 1 && badBack!.stacktrace![0]!.includes('flaky attempt'))
  const okBack = await Job.fromId(q, ok.id!)
  t.is(okBack!.attemptsMade, 3)
  t.deepEqual(failures.filter((f) => f.startsWith('ok')).sort(), ['ok:1:flaky attempt 0', 'ok:2:flaky attempt 1'])
  t.deepEqual(failures.filter((f) => f.startsWith('bad')).sort(), ['bad:1:flaky attempt 0', 'bad:2:flaky attempt 1'])
  await w.close()
})

test('progress events arrive in order, before completed; log rows and progress are stored', async (t) => {
  const q = newQueue()
  const w = worker(q.name, gen, { connection: redis.connection, concurrency: 4, runtime: { procs: 2 } })
  const n = 100
  const seen = new Map<string, unknown[]>()
  const order: string[] = []
  w.on('progress', (job, p) => {
    const l = seen.get(job.id!) ?? []
    l.push(p)
    seen.set(job.id!, l)
  })
  const done = collect(w, 'completed', 3)
  w.on('completed', (job) => order.push(`${job.id}:${seen.get(job.id!)?.length}`))
  const jobs = await q.addBulk([1, 2, 3].map(() => ({ name: 'progress', data: { n } })))
  await bounded(q, done, 'the progress jobs')
  for (const j of jobs) {
    t.deepEqual(seen.get(j.id!), Array.from({ length: n }, (_, i) => i + 1), `job ${j.id}: progress in order`)
    const back = await Job.fromId(q, j.id!)
    t.is(back!.progress, n)
    const logs = await q.getJobLogs(j.id!)
    t.deepEqual(logs.logs, Array.from({ length: n / 10 }, (_, i) => `row ${(i + 1) * 10}`))
  }
  // 'completed' came after every progress event of its job.
  t.deepEqual(order.sort(), jobs.map((j) => `${j.id}:${n}`).sort())
  await w.close()
})

test('cancelJob reaches a running generator at its next yield (its finally runs), an async job\'s signal, and a plain loop by the terminate fallback', async (t) => {
  const q = newQueue()
  const w = worker(q.name, gen, { connection: redis.connection, concurrency: 2, runtime: { procs: 1 }, cancelGraceMs: 100 })
  const progress: unknown[] = []
  const started = new Promise<void>((resolve) => w.on('progress', (_j, p) => {
    progress.push(p)
    if (p === 'started') resolve()
  }))
  const failed = collect(w, 'failed', 1)
  const spin = await q.add('spin', {})
  await bounded(q, started, 'the spin job to start')
  t.true(w.cancelJob(spin.id!, 'stop it'))
  const [[fj, err]] = await bounded(q, failed, 'the cancelled spin job')
  t.is(fj.id, spin.id)
  t.is((err as Error).message, 'stop it')
  t.deepEqual(progress, ['started', 'finally'], 'the generator\'s finally ran, and its progress arrived before the failure')
  t.is((await Job.fromId(q, spin.id!))!.failedReason, 'stop it')
  // The Worker goes on.
  const next = collect(w, 'completed', 1)
  await q.add('double', { n: 4 })
  t.like((await bounded(q, next, 'the job after'))[0][1], { double: 8 })
  t.false(w.cancelJob('no-such-job'))
  await w.close()

  // An async processor gets the reason on its signal.
  const qa = newQueue()
  const wa = worker(qa.name, fixture('async.cjs'), { connection: redis.connection, runtime: { procs: 1 } })
  const file = join(mkdtempSync(join(tmpdir(), 'gort-bullmq-')), 'signal')
  const startedA = new Promise<void>((resolve) => wa.on('progress', () => resolve()))
  const failedA = collect(wa, 'failed', 1)
  const ja = await qa.add('waitSignal', { file })
  await bounded(qa, startedA, 'the async job to start')
  wa.cancelJob(ja.id!, 'no longer needed')
  t.is(((await bounded(qa, failedA, 'the cancelled async job'))[0][1] as Error).message, 'no longer needed')
  await bounded(qa, (async () => {
    while (!existsSync(file)) await new Promise((res) => setTimeout(res, 10))
  })(), 'the signal\'s mark')
  t.is(readFileSync(file, 'utf8'), 'aborted: no longer needed\n')
  await wa.close()

  // A plain loop never yields: its M is terminated after cancelGraceMs and
  // the job fails; the Worker goes on with a new M.
  const qp = newQueue()
  const wp = worker(qp.name, fixture('plain.mjs'), { connection: redis.connection, runtime: { procs: 1 }, cancelGraceMs: 100 })
  const startedP = new Promise<void>((resolve) => wp.on('progress', () => resolve()))
  const failedP = collect(wp, 'failed', 1)
  const jp = await qp.add('loop', {})
  await bounded(qp, startedP, 'the loop job to start')
  wp.cancelJob(jp.id!, 'runaway')
  const [[, perr]] = await bounded(qp, failedP, 'the cancelled loop job')
  t.regex((perr as Error).message, /terminated|runaway/)
  t.log(`a plain loop's job fails with: ${(perr as Error).name}: ${(perr as Error).message}`)
  const nextP = collect(wp, 'completed', 1)
  await qp.add('plain', { n: 7 })
  t.is((await bounded(qp, nextP, 'the job after the loop'))[0][1], 21)
  await wp.close()
})

test('close() waits for the running jobs; a second close() is the first; close during start; force', async (t) => {
  const q = newQueue()
  const w = worker(q.name, gen, { connection: redis.connection, concurrency: 3, runtime: { procs: 1 } })
  let closedEvents = 0
  w.on('closed', () => closedEvents++)
  let started = 0
  const allStarted = new Promise<void>((resolve) => w.on('progress', () => {
    if (++started === 3) resolve()
  }))
  const completed: string[] = []
  w.on('completed', (j) => completed.push(j.id!))
  const jobs = await q.addBulk([1, 2, 3].map(() => ({ name: 'sleep', data: { ms: 300 } })))
  await bounded(q, allStarted, 'three sleeping jobs to start')
  const c1 = w.close()
  const c2 = w.close()
  t.is(c1, c2, 'a second close() returns the first one\'s promise')
  await bounded(q, c1, 'close()')
  t.deepEqual(completed.sort(), jobs.map((j) => j.id!).sort(), 'every running job completed before close() resolved')
  for (const j of jobs) t.is(await (await Job.fromId(q, j.id!))!.getState(), 'completed')
  t.is(closedEvents, 1)
  await w.close() // once more after the end: resolves

  // Closed right after construction, while it connects: it resolves,
  // takes no job, and never made a runtime of its own.
  const q2 = newQueue()
  const w2 = worker(q2.name, gen, { connection: redis.connection, runtime: { procs: 1 } })
  let closed2 = 0
  w2.on('closed', () => closed2++)
  await bounded(q2, w2.close(), 'close during start')
  t.is(closed2, 1)
  const left = await q2.add('double', { n: 1 })
  await new Promise((r) => setTimeout(r, 200))
  t.is(await left.getState(), 'waiting', 'a closed Worker takes no job')

  // force: close() does not wait; the own runtime is destroyed, so the job
  // stays active for the stalled checker of another worker.
  const q3 = newQueue()
  const w3 = worker(q3.name, gen, { connection: redis.connection, runtime: { procs: 1 } })
  const started3 = new Promise<void>((resolve) => w3.on('progress', () => resolve()))
  const j3 = await q3.add('spin', {})
  await bounded(q3, started3, 'the spin job to start')
  await bounded(q3, w3.close(true), 'close(true)')
  t.is(await j3.getState(), 'active')
})

test('close(true) while a job waits for its turn\'s spawn batch: it fails with \'worker closed\' without running, and another worker runs it', async (t) => {
  // The Worker holds a job's spawn until the end of the event-loop turn
  // that handed it over (bullmq.ts #spawn). close(true) in that same turn,
  // right after BullMQ called the processor, must not let it start.
  const q = newQueue()
  let held!: (p: Promise<string>) => void
  const heldOutcome = new Promise<Promise<string>>((resolve) => (held = resolve))
  class CloseInTheTurn extends Worker {
    protected override callProcessJob(job: Job, token: string, signal?: AbortSignal): Promise<unknown> {
      const p = super.callProcessJob(job, token, signal) // the spawn now waits for the turn's end
      held(p.then(() => 'ran', (e: Error) => e.message))
      void this.close(true)
      return p
    }
  }
  const w = new CloseInTheTurn(q.name, gen, { connection: redis.connection, runtime: { procs: 1 }, lockDuration: 500, stalledInterval: 200 })
  workers.push(w)
  let completed = 0
  w.on('completed', () => completed++)
  const job = await q.add('double', { n: 21 })
  t.is(await bounded(q, heldOutcome.then((p) => p), 'the held job\'s outcome'), 'worker closed')
  await bounded(q, w.close(), 'close(true)')
  t.is(completed, 0)
  // BullMQ, closing, leaves the job active with a lock nobody renews (or
  // fails it): another worker's stalled checker moves it back to wait and
  // runs it, once. Never lost. (A short stalledInterval on both: a stalled
  // check holds off the others' for the checker's own interval.)
  const state = await job.getState()
  t.log(`after close(true) the job is ${state}`)
  if (state === 'failed') {
    t.is((await Job.fromId(q, job.id!))!.failedReason, 'worker closed')
    return
  }
  t.is(state, 'active')
  const other = new BullWorker(q.name, async (j: Job) => (j.data as { n: number }).n * 2, { connection: redis.connection, stalledInterval: 200 })
  try {
    const done = new Promise<[string, unknown]>((resolve) => other.on('completed', (j, v) => resolve([j.id!, v])))
    t.deepEqual(await bounded(q, done, 'the other worker completing the job'), [job.id!, 42])
  } finally {
    await other.close()
  }
})

test('cancelJob while a job waits for its turn\'s spawn batch: the job fails with the reason without running', async (t) => {
  const q = newQueue()
  class CancelInTheTurn extends Worker {
    protected override callProcessJob(job: Job, token: string, signal?: AbortSignal): Promise<unknown> {
      const p = super.callProcessJob(job, token, signal) // the spawn now waits for the turn's end
      t.true(this.cancelJob(job.id!, 'cancelled early'))
      return p
    }
  }
  const w = new CancelInTheTurn(q.name, gen, { connection: redis.connection, runtime: { procs: 1 } })
  workers.push(w)
  let completed = 0
  w.on('completed', () => completed++)
  const failed = collect(w, 'failed', 1)
  const job = await q.add('double', { n: 1 })
  const [[fj, err]] = await bounded(q, failed, 'the job cancelled before its spawn')
  t.is(fj.id, job.id)
  t.is((err as Error).message, 'cancelled early')
  t.is(completed, 0)
  await w.close()
})

test('one runtime shared by a gort/pool Pool and two Workers', async (t) => {
  const pool = new Piscina({ filename: fixture('plain.mjs'), maxThreads: 2 })
  const rt = pool.runtime!
  t.true(rt instanceof Runtime)
  const q = newQueue()
  const w1 = worker(q.name, gen, { connection: redis.connection, concurrency: 4, runtime: rt })
  const w2 = worker(q.name, gen, { connection: redis.connection, concurrency: 4, runtime: rt })
  t.is(w1.runtime, rt)
  const n = 40
  const progress = new Map<string, unknown[]>()
  for (const w of [w1, w2]) {
    w.on('progress', (j, p) => progress.set(j.id!, [...(progress.get(j.id!) ?? []), p]))
  }
  const ids = new Set<string>()
  const done = new Promise<void>((resolve) => {
    for (const w of [w1, w2]) {
      w.on('completed', (j) => {
        ids.add(j.id!)
        if (ids.size === n) resolve()
      })
    }
  })
  await q.addBulk(Array.from({ length: n }, () => ({ name: 'progress', data: { n: 10 } })))
  const poolResults = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run({ name: 'plain', data: { n: i } })))
  t.deepEqual(poolResults, Array.from({ length: 20 }, (_, i) => i * 3))
  await bounded(q, done, 'jobs on the shared runtime')
  for (const id of ids) t.deepEqual(progress.get(id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  await w1.close()
  await w2.close()
  // The Workers left the pool's runtime running.
  t.is(await pool.run({ name: 'plain', data: { n: 2 } }), 6)
  await pool.close()
})

test('bad arguments fail at the call site', (t) => {
  const connection = redis.connection
  t.throws(() => new Worker('x', function* () {} as never, { connection }), { instanceOf: TypeError, message: /registered with goroutines/ })
  t.throws(() => new Worker('x', (() => 1) as never, { connection }), { instanceOf: TypeError, message: /plain function/ })
  t.throws(() => new Worker('x', fixture('nope.mjs'), { connection }), { instanceOf: Error, message: /nope\.mjs does not exist/ })
  t.throws(() => new Worker('x', gen, { connection, cancelGraceMs: -1 }), { instanceOf: RangeError, message: /cancelGraceMs/ })
  t.throws(() => new Worker('x', gen, { connection, runtime: 3 as never }), { instanceOf: TypeError, message: /options.runtime/ })
  t.throws(() => new Worker('x', gen, {} as never), { message: /Worker requires a connection/ })
})

test('require(\'gort/bullmq\') is the same module', (t) => {
  const require = createRequire(import.meta.url)
  const cjs = require('gort/bullmq') as { Worker: unknown }
  t.is(cjs.Worker, Worker)
})
