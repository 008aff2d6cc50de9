// gort/pool's admission (pool.ts, "Admission"): tasks of a function known
// to be synchronous go into the runtime ahead of a free slot, while async
// and generator tasks still start only as slots free, so
// concurrentTasksPerWorker keeps its meaning (a generator that only yields
// at safe points counts as synchronous once it has run); queueSize, maxQueue and the
// histograms count tasks ahead in the runtime as waiting; an abortable task
// takes a whole thread's slots, as in piscina. Real threads, real shared
// memory; every result is checked once.

import test from 'ava'
import { fileURLToPath } from 'node:url'
import Piscina from 'gort/pool'
import { withWatchdog } from './helpers.js'

const file = fileURLToPath(new URL('../test/fixtures/pool/admit.mjs', import.meta.url))

/** A pool whose Ms have run `name` once, so the pool knows what kind of function it is. */
async function warm(opts: ConstructorParameters<typeof Piscina>[0], name: string, task: unknown): Promise<Piscina> {
  const pool = new Piscina({ filename: file, ...opts })
  await pool.run(task, { name })
  // The M's note travels on its port: give it a turn of the event loop or two.
  await new Promise((resolve) => setTimeout(resolve, 20))
  return pool
}

test('tiny synchronous tasks: every one of 20,000 comes back once with its own result', async (t) => {
  const pool = await warm({ maxThreads: 2 }, 'add', { a: 0, b: 0 })
  try {
    await withWatchdog(t, 60_000, () => `queueSize ${pool.queueSize}, completed ${pool.completed}, threads ${pool.threads.length}`, () => pool.threads, async () => {
      const n = 20_000
      const rs = await Promise.all(Array.from({ length: n }, (_, i) => pool.run({ a: i, b: 1 }, { name: 'add' })))
      for (let i = 0; i < n; i++) if (rs[i] !== i + 1) t.fail(`task ${i} returned ${rs[i]}`)
      t.is(rs.length, n)
      t.is(pool.queueSize, 0)
    })
  } finally {
    await pool.close()
  }
})

test('async tasks start only as slots free: at most maxThreads x concurrentTasksPerWorker run at once, even after synchronous ones went ahead', async (t) => {
  for (const [maxThreads, perWorker] of [[2, 1], [1, 3]] as const) {
    const pool = await warm({ maxThreads, minThreads: maxThreads, concurrentTasksPerWorker: perWorker }, 'add', { a: 0, b: 0 })
    try {
      const sab = new SharedArrayBuffer(8)
      // Synchronous tasks first (they go ahead), then async ones behind them.
      const adds = Array.from({ length: 200 }, (_, i) => pool.run({ a: i, b: 0 }, { name: 'add' }))
      const tracks = Array.from({ length: 24 }, () => pool.run({ sab, ms: 5 }, { name: 'track' }))
      t.deepEqual(await Promise.all(adds), Array.from({ length: 200 }, (_, i) => i))
      const seen = await Promise.all(tracks)
      const most = Atomics.load(new Int32Array(sab), 1)
      t.log(`maxThreads ${maxThreads}, concurrentTasksPerWorker ${perWorker}: at most ${most} async tasks at once`)
      t.true(most <= maxThreads * perWorker, `${most} async tasks ran at once`)
      t.true(seen.every((n) => n >= 1 && n <= maxThreads * perWorker))
      t.is(Atomics.load(new Int32Array(sab), 0), 0)
    } finally {
      await pool.close()
    }
  }
})

test('a generator task that only yields at safe points goes ahead as a synchronous one; one that parks waits for a free slot', async (t) => {
  // One thread. The app blocks its own thread right after submitting: a
  // task handed to the runtime ahead of a free slot runs meanwhile, one
  // that waits for a slot waits for the app's thread. Tiny tasks: the pool
  // lets about 2 ms of a function's work per slot go ahead (by its mean run
  // time), and always at least one. A plain function first, as the reference.
  for (const [name, ahead] of [['spin', true], ['spinGen', true], ['parkGen', false]] as const) {
    const pool = await warm({ maxThreads: 1, minThreads: 1 }, name, { ms: 0.02, i: -1 })
    try {
      // The pool's estimate of the function's run time (how many go ahead) settles over runs.
      for (let i = 0; i < 30; i++) await pool.run({ ms: 0.02, i }, { name })
      const n = 4
      const ps = Array.from({ length: n }, (_, i) => pool.run({ ms: 0.02, i }, { name }))
      const blockEnd = performance.timeOrigin + performance.now() + 300
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)
      const rs = await Promise.all(ps) as Array<[number, number]>
      t.deepEqual(rs.map((r) => r[0]), Array.from({ length: n }, (_, i) => i))
      const during = rs.filter((r) => r[1] < blockEnd).length
      t.log(`${name}: ${during} of ${n} tasks ran while the app's thread was blocked`)
      // Known synchronous, at least one more than the running task is in
      // the runtime whatever the run time (more when the machine is quick);
      // a parking function has only the one that took the free slot.
      if (ahead) t.true(during >= 2, `${name}: only ${during} ran while the app's thread was blocked`)
      else t.true(during <= 1, `${name}: ${during} ran while the app's thread was blocked`)
    } finally {
      await pool.close()
    }
  }
})

test('queueSize and maxQueue count synchronous tasks that wait in the runtime as queued', async (t) => {
  const pool = await warm({ maxThreads: 1, minThreads: 1, maxQueue: 10 }, 'busy', { ms: 0, i: -1 })
  try {
    const ps = Array.from({ length: 11 }, (_, i) => pool.run({ ms: 10, i }, { name: 'busy' }))
    // One runs (or is about to), ten wait: the queue is at its limit.
    t.is(pool.queueSize, 10)
    const over = await t.throwsAsync(pool.run({ ms: 0, i: 99 }, { name: 'busy' }))
    t.is(over?.message, 'Task queue is at limit')
    t.true(pool.needsDrain)
    t.deepEqual(await Promise.all(ps), Array.from({ length: 11 }, (_, i) => i))
    t.is(pool.queueSize, 0)
  } finally {
    await pool.close()
  }
})

test('histograms: a task that waited in the runtime behind others counts that time as waiting, not running', async (t) => {
  const pool = await warm({ maxThreads: 1, minThreads: 1 }, 'busy', { ms: 0, i: -1 })
  try {
    pool.histogram.resetRunTime()
    pool.histogram.resetWaitTime()
    const n = 20
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => pool.run({ ms: 5, i }, { name: 'busy' })))
    t.deepEqual(rs, Array.from({ length: n }, (_, i) => i))
    const run = pool.histogram.runTime
    const wait = pool.histogram.waitTime
    t.log(`run time max ${run.max.toFixed(2)} ms, mean ${run.mean.toFixed(2)}; wait time max ${wait.max.toFixed(2)} ms`)
    // Each ran about 5 ms; the last waited for the 19 before it on the one thread.
    t.true(run.min >= 4.5, `run time min ${run.min}`)
    t.true(wait.max >= 19 * 5 * 0.9, `wait time max ${wait.max}`)
    t.true(run.mean < wait.max / 4, `run time mean ${run.mean} against wait max ${wait.max}`)
    t.true(pool.utilization <= 1, `utilization ${pool.utilization}`)
  } finally {
    await pool.close()
  }
})

test('an abortable task takes a whole thread\'s slots (piscina: abortable tasks do not share a Worker)', async (t) => {
  const pool = await warm({ maxThreads: 1, minThreads: 1, concurrentTasksPerWorker: 2 }, 'track', { sab: new SharedArrayBuffer(8), ms: 0 })
  try {
    const sab = new SharedArrayBuffer(8)
    const first = pool.run({ sab, ms: 30 }, { name: 'track' })
    const ac = new AbortController()
    const second = pool.run({ sab, ms: 1 }, { name: 'track', signal: ac.signal })
    t.is(pool.queueSize, 1)
    ac.abort()
    await t.throwsAsync(second, { name: 'AbortError' })
    t.is(pool.queueSize, 0)
    t.is(await first, 1)
  } finally {
    await pool.close()
  }
})
