// gort/pool against piscina 5.3's behaviour, on real worker threads: task
// module shapes, errors, option and argument validation with piscina's
// messages, FIFO, maxQueue, aborting queued tasks, drain events,
// histograms, close and destroy, what a task sees of its thread, and that
// an idle pool holds nothing open.

import test from 'ava'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import Piscina from 'gort/pool'

const fx = (name: string): string => fileURLToPath(new URL(`../test/fixtures/pool/${name}`, import.meta.url))
const fxUrl = (name: string): string => new URL(`../test/fixtures/pool/${name}`, import.meta.url).href

/** A pool whose runtime is up (one task has run), so that queue limits have their steady meaning. */
async function warm(opts: ConstructorParameters<typeof Piscina>[0]): Promise<Piscina> {
  const pool = new Piscina(opts)
  await pool.run({ ms: 0, v: 'warm' }, { filename: fx('async.cjs') })
  return pool
}

test('task modules run unchanged: module.exports = fn, export default, named exports, a Promise of a function, async, CJS and ESM', async (t) => {
  const pool = new Piscina({ filename: fx('add.cjs'), maxThreads: 2 })
  try {
    t.is(await pool.run({ a: 2, b: 40 }), 42)
    t.is(await pool.run(21, { filename: fxUrl('esm.mjs') }), 42)
    t.is(await pool.run(7, { filename: fx('esm.mjs'), name: 'square' }), 49)
    t.is(await pool.run(3, { filename: fx('esm.mjs'), name: 'later' }), 'later 3')
    t.is(await pool.run({}, { filename: fx('multiple.cjs') }), 'a')
    t.is(await pool.run({}, { filename: fx('multiple.cjs'), name: 'b' }), 'b')
    t.is(await pool.run('abc', { filename: fx('promise-of-fn.cjs') }), 'ABC')
    const r = await pool.run({ ms: 20, v: [1, { x: 2n }] }, { filename: fx('async.cjs') })
    t.deepEqual(r.v, [1, { x: 2n }])
    t.true(r.end - r.start >= 15)
    const e = await t.throwsAsync(pool.run(1, { name: 'nope' }))
    t.is(e?.message, `No handler function exported from ${fx('add.cjs')}`)
    t.is(pool.completed, 9)
  } finally {
    await pool.destroy()
  }
})

test('a generator task runs as a goroutine: channels, go() and sleep inside it', async (t) => {
  const pool = new Piscina({ filename: fx('gen.mjs'), maxThreads: 2 })
  try {
    t.is(await pool.run(50), 1275)
    t.is(await pool.run(1000, { name: 'spin' }), 499500)
  } finally {
    await pool.close()
  }
})

test('a task\'s thrown error reaches the caller with its name, message, stack and own properties', async (t) => {
  const pool = new Piscina({ filename: fx('throws.cjs'), maxThreads: 1 })
  try {
    const e = (await pool.run('bob').catch((x: unknown) => x)) as Error & Record<string, unknown>
    t.true(e instanceof Error)
    t.is(e.name, 'QuotaError')
    t.is(e.message, 'over quota: bob')
    t.regex(e.stack ?? '', /over quota: bob[\s\S]*throws\.cjs/)
    t.is(e.code, 'E_QUOTA')
    t.is(e.limit, 42)
    t.deepEqual(e.details, { user: 'ann', tags: ['x', 'y'] })
    t.false('goid' in e, 'the runtime\'s goroutine id is not added to a task\'s error')
    const r = (await pool.run('x', { name: 'rejects' }).catch((x: unknown) => x)) as TypeError & { status?: number }
    t.true(r instanceof TypeError)
    t.is(r.message, 'bad x')
    t.is(r.status, 400)
  } finally {
    await pool.close()
  }
})

test('constructor options are validated with piscina\'s messages', (t) => {
  const bad: Array<[Record<string, unknown>, string, typeof TypeError | typeof RangeError]> = [
    [{ filename: 12 }, 'options.filename must be a string or null', TypeError],
    [{ name: 0 }, 'options.name must be a string or null', TypeError],
    [{ minThreads: -1 }, 'options.minThreads must be a non-negative integer', TypeError],
    [{ maxThreads: 0 }, 'options.maxThreads must be a positive integer', TypeError],
    [{ minThreads: 4, maxThreads: 2 }, 'options.minThreads and options.maxThreads must not conflict', RangeError],
    [{ idleTimeout: 'x' }, 'options.idleTimeout must be a non-negative integer', TypeError],
    [{ maxQueue: -1 }, 'options.maxQueue must be a non-negative integer', TypeError],
    [{ concurrentTasksPerWorker: 0 }, 'options.concurrentTasksPerWorker must be a positive integer', TypeError],
    [{ atomics: 'x' }, 'options.atomics should be a value of sync, sync or disabled.', TypeError],
    [{ resourceLimits: null }, 'options.resourceLimits must be an object', TypeError],
    [{ taskQueue: {} }, 'options.taskQueue must be a TaskQueue object', TypeError],
    [{ niceIncrement: -1 }, 'options.niceIncrement must be a non-negative integer on Unix systems', TypeError],
    [{ trackUnmanagedFds: 1 }, 'options.trackUnmanagedFds must be a boolean value', TypeError],
    [{ closeTimeout: -1 }, 'options.closeTimeout must be a non-negative integer', TypeError],
    [{ loadBalancer: () => null }, 'options.loadBalancer must be a function with at least two args', TypeError],
    [{ workerHistogram: 1 }, 'options.workerHistogram must be a boolean', TypeError],
    [{ stricterFIFO: 'yes' }, 'options.stricterFIFO must be a boolean', TypeError],
  ]
  for (const [opts, message, cls] of bad) {
    const e = t.throws(() => new Piscina(opts as never), { instanceOf: cls })
    t.is(e?.message, message, JSON.stringify(opts))
  }
})

test('run() arguments are validated with piscina\'s messages (as rejections); defaults are filled in as piscina fills them', async (t) => {
  const pool = new Piscina({ minThreads: 4, maxQueue: 'auto' })
  try {
    t.is(pool.maxThreads, 4, 'minThreads above the default maxThreads raises it')
    t.is(pool.options.maxQueue, 16, 'maxQueue auto is maxThreads squared')
    t.is(pool.options.name, 'default')
    t.is((await t.throwsAsync(pool.run(1)))?.message, 'filename must be provided to run() or in options object')
    t.is((await t.throwsAsync(pool.run(1, null as never)))?.message, 'options must be an object')
    t.is((await t.throwsAsync(pool.run(1, { filename: 3 as never })))?.message, 'filename argument must be a string')
    t.is((await t.throwsAsync(pool.run(1, { filename: fx('add.cjs'), name: 3 as never })))?.message, 'name argument must be a string')
    t.is((await t.throwsAsync(pool.run(1, { filename: fx('add.cjs'), signal: 3 as never })))?.message, 'signal argument must be an object')
    t.is((await t.throwsAsync(pool.run(1, { filename: fx('add.cjs'), transferList: 3 as never })))?.message, 'transferList argument must be an Array')
    t.is((await t.throwsAsync(pool.close({ force: 1 as never })))?.message, 'force argument must be a boolean')
  } finally {
    await pool.destroy()
  }
})

test('FIFO: with one slot, tasks start in submission order, each after the one before ends', async (t) => {
  const pool = await warm({ filename: fx('async.cjs'), maxThreads: 1 })
  try {
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.run({ ms: 3, v: i })))
    t.deepEqual(rs.map((r) => r.v), Array.from({ length: 12 }, (_, i) => i))
    for (let i = 1; i < rs.length; i++) t.true(rs[i].start >= rs[i - 1].end, `task ${i} started before task ${i - 1} ended`)
  } finally {
    await pool.close()
  }
})

test('maxQueue: queued tasks beyond it reject with piscina\'s error; queueSize counts the waiting ones', async (t) => {
  const pool = await warm({ filename: fx('async.cjs'), maxThreads: 1, maxQueue: 2 })
  try {
    const running = pool.run({ ms: 100, v: 'r' })
    const q1 = pool.run({ ms: 1, v: 'q1' })
    const q2 = pool.run({ ms: 1, v: 'q2' })
    t.is(pool.queueSize, 2)
    t.is((await t.throwsAsync(pool.run({ ms: 1, v: 'over' })))?.message, 'Task queue is at limit')
    t.deepEqual([(await running).v, (await q1).v, (await q2).v], ['r', 'q1', 'q2'])
    t.is(pool.queueSize, 0)
  } finally {
    await pool.close()
  }
  const none = await warm({ filename: fx('async.cjs'), maxThreads: 1, maxQueue: 0 })
  try {
    const running = none.run({ ms: 50, v: 'r' })
    t.is((await t.throwsAsync(none.run({ ms: 1, v: 'x' })))?.message, 'No task queue available and all Workers are busy')
    t.is((await running).v, 'r')
  } finally {
    await none.close()
  }
})

test('aborting a queued task removes it with piscina\'s AbortError; an aborted signal rejects at once', async (t) => {
  const pool = await warm({ filename: fx('async.cjs'), maxThreads: 1 })
  try {
    const running = pool.run({ ms: 60, v: 'r' })
    const ac = new AbortController()
    const queued = pool.run({ ms: 1, v: 'aborted' }, { signal: ac.signal })
    const after = pool.run({ ms: 1, v: 'after' })
    t.is(pool.queueSize, 2)
    ac.abort('changed my mind')
    t.is(pool.queueSize, 1)
    const e = (await queued.catch((x: unknown) => x)) as Error
    t.is(e.name, 'AbortError')
    t.is(e.message, 'The task has been aborted')
    t.is(e.cause, 'changed my mind')
    t.is((await running).v, 'r')
    t.is((await after).v, 'after')
    const pre = (await pool.run({ ms: 1, v: 'x' }, { signal: AbortSignal.abort('no') }).catch((x: unknown) => x)) as Error
    t.is(pre.name, 'AbortError')
    t.is(pre.cause, 'no')
    // An EventEmitter-style signal (piscina accepts both).
    const { EventEmitter } = await import('node:events')
    const ee = new EventEmitter()
    const blocker = pool.run({ ms: 40, v: 'b' })
    const viaEE = pool.run({ ms: 1, v: 'ee' }, { signal: ee as never })
    ee.emit('abort')
    t.is(((await viaEE.catch((x: unknown) => x)) as Error).name, 'AbortError')
    await blocker
  } finally {
    await pool.close()
  }
})

test('needsDrain and the needsDrain/drain events follow the slots: all taken, then one free', async (t) => {
  const pool = await warm({ filename: fx('async.cjs'), maxThreads: 2 })
  try {
    const events: string[] = []
    pool.on('needsDrain', () => events.push('needsDrain'))
    pool.on('drain', () => events.push('drain'))
    t.false(pool.needsDrain)
    const a = pool.run({ ms: 200, v: 1 })
    const b = pool.run({ ms: 200, v: 2 })
    await null
    t.true(pool.needsDrain)
    const drained = once(pool, 'drain')
    await Promise.all([a, b])
    await drained
    t.false(pool.needsDrain)
    t.true(events.includes('needsDrain'))
    t.is(events.at(-1), 'drain')
  } finally {
    await pool.close()
  }
})

test('histogram, completed, duration and utilization record what ran', async (t) => {
  const pool = await warm({ filename: fx('async.cjs'), maxThreads: 1 })
  try {
    pool.histogram.resetRunTime()
    pool.histogram.resetWaitTime()
    await Promise.all([pool.run({ ms: 20, v: 1 }), pool.run({ ms: 20, v: 2 })])
    const run = pool.histogram.runTime
    t.true(run.min >= 15 && run.max < 1000, `run time ${run.min}..${run.max} ms`)
    t.true(pool.histogram.waitTime.max >= 15, `the second task waited for the first: ${pool.histogram.waitTime.max} ms`)
    t.is(pool.completed, 3)
    t.true(pool.duration > 40)
    t.true(pool.utilization > 0 && pool.utilization <= 1, String(pool.utilization))
    for (const k of ['average', 'mean', 'stddev', 'min', 'max', 'p50', 'p99', 'p99_999'] as const) t.is(typeof run[k], 'number')
  } finally {
    await pool.close()
  }
  const off = new Piscina({ filename: fx('add.cjs'), recordTiming: false })
  try {
    t.is(await off.run({ a: 1, b: 1 }), 2)
    t.is(off.histogram.runTime as unknown, undefined)
    t.is(off.utilization, 0)
  } finally {
    await off.destroy()
  }
})

test('close() waits for queued and running tasks; close({ force }) aborts the queued ones; destroy() rejects the running ones', async (t) => {
  const pool = await warm({ filename: fx('async.cjs'), maxThreads: 1 })
  const rs = [pool.run({ ms: 30, v: 1 }), pool.run({ ms: 10, v: 2 })]
  const closed = once(pool, 'close')
  await pool.close()
  t.deepEqual((await Promise.all(rs)).map((r) => r.v), [1, 2])
  await closed

  const forced = await warm({ filename: fx('async.cjs'), maxThreads: 1 })
  const running = forced.run({ ms: 40, v: 'r' })
  const queued = forced.run({ ms: 1, v: 'q' })
  const closing = forced.close({ force: true })
  const late = (await forced.run({ ms: 1, v: 'late' }).catch((x: unknown) => x)) as Error
  t.is(late.name, 'AbortError', 'run() during close rejects')
  t.is(late.cause, 'queue is being terminated')
  const q = (await queued.catch((x: unknown) => x)) as Error
  t.is(q.name, 'AbortError')
  t.is(q.cause, 'pool is closed')
  t.is((await running).v, 'r')
  await closing

  const destroyed = await warm({ filename: fx('async.cjs'), maxThreads: 1 })
  const r1 = t.throwsAsync(destroyed.run({ ms: 5_000, v: 'r' }))
  const r2 = t.throwsAsync(destroyed.run({ ms: 1, v: 'q' }))
  await destroyed.destroy()
  t.is((await r1)?.message, 'Terminating worker thread')
  t.is((await r2)?.message, 'Terminating worker thread')
  // Usable again after destroy(), as piscina's is (a new runtime starts).
  t.is((await destroyed.run({ ms: 1, v: 'again' })).v, 'again')
  await destroyed[Symbol.asyncDispose]()
})

test('inside a task: isWorkerThread, workerData, threadId, and the env and argv options', async (t) => {
  const workerData = { config: [1, 2, 3], when: new Date(0), m: new Map([['k', 1n]]) }
  const pool = new Piscina({
    filename: fx('context.mjs'), maxThreads: 1, workerData, env: { GORT_POOL_TEST: 'yes' }, argv: ['--flag', '7'],
  })
  try {
    const r = await pool.run(null)
    t.true(r.isWorkerThread)
    t.true(r.namedIsWorkerThread)
    t.deepEqual(r.workerData, workerData)
    t.deepEqual(r.namedWorkerData, workerData)
    t.is(r.threadId, r.realThreadId)
    t.true(r.threadId > 0)
    t.true(pool.threads.some((w) => w.threadId === r.threadId), 'threads lists the M the task ran on')
    t.is(r.env, 'yes')
    t.is(r.home, null, 'env replaces process.env, as a Worker\'s env option does')
    t.deepEqual(r.argvTail, ['--flag', '7'])
    t.false(Piscina.isWorkerThread)
    t.is(Piscina.threadId, threadId, 'outside a task: this thread\'s id')
  } finally {
    await pool.close()
  }
})

function runChild(args: string[], timeout: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : ((e as { code?: number }).code ?? null), signal: (e as { signal?: string } | null)?.signal ?? null, stdout, stderr })
    })
  })
}

test('an idle pool holds no handle of its own open (no more than a bare runtime that ran the same task); closed, the process exits', async (t) => {
  const [pool, bare] = await Promise.all([runChild([fx('idle.mjs'), 'pool', 'close'], 40_000), runChild([fx('idle.mjs'), 'runtime', 'close'], 40_000)])
  t.is(pool.code, 0, pool.stderr)
  t.is(bare.code, 0, bare.stderr)
  const p = JSON.parse(pool.stdout) as { r: number; timers: number }
  const b = JSON.parse(bare.stdout) as { r: number; timers: number }
  t.is(p.r, 42)
  t.is(p.timers, b.timers)
})

// An idle runtime holds no ref (the host's contract, issue 12), so neither
// does an idle pool: like piscina's, it lets the process exit.
test('an idle pool, never closed, lets the process exit', async (t) => {
  const r = await runChild([fx('idle.mjs'), 'pool'], 40_000)
  t.is(r.signal, null, 'the process had to be killed')
  t.is(r.code, 0, r.stderr)
})
