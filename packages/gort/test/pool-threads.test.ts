// gort/pool's thread model against piscina 5.3's (its thread-count,
// idle-timeout, ready-message and messages tests): `threads` are the
// runtime's Ms' real Worker objects, minThreads of them at construction,
// one more per task that finds no idle thread up to maxThreads (counted
// synchronously, right after run()), fewer after idleTimeout, none after
// destroy(); idleThreads; 'workerCreate' and 'workerDestroy' with the
// Worker; a task's parentPort.postMessage as 'message'; and a pool whose
// run() is dispatched before any thread is up while the app's thread
// blocks in Atomics.wait.

import test from 'ava'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import Piscina from 'gort/pool'

const fx = (name: string): string => fileURLToPath(new URL(`../test/fixtures/pool/${name}`, import.meta.url))

/** Waits (event loop turning) until cond() holds, at most ms; then fails naming what and the pool's threads. */
async function until(pool: Piscina, cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; threads ${pool.threads.length}, idle ${pool.idleThreads}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('threads: minThreads at construction, one more per task that finds no idle thread up to maxThreads, 0 after destroy', async (t) => {
  const pool = new Piscina({ filename: fx('async.cjs'), minThreads: 2, maxThreads: 4, concurrentTasksPerWorker: 1 })
  const created: Worker[] = []
  const destroyed: Worker[] = []
  pool.on('workerCreate', (w: Worker) => created.push(w))
  pool.on('workerDestroy', (w: Worker) => destroyed.push(w))
  try {
    t.is(pool.threads.length, 2)
    t.true(pool.threads.every((w) => w instanceof Worker && typeof w.threadId === 'number'), 'real Worker objects')
    const counts: number[] = []
    const tasks: Array<Promise<unknown>> = []
    for (let i = 0; i < 5; i++) {
      tasks.push(pool.run({ ms: 50, v: i }))
      counts.push(pool.threads.length)
    }
    t.deepEqual(counts, [2, 2, 3, 4, 4], 'piscina\'s counts, synchronously after each run()')
    t.is(pool.queueSize, 1, 'the fifth waits for a slot')
    const rs = (await Promise.all(tasks)) as Array<{ v: number; threadId: number }>
    t.deepEqual(rs.map((r) => r.v), [0, 1, 2, 3, 4])
    const tids = new Set(pool.threads.map((w) => w.threadId))
    t.true(rs.every((r) => tids.has(r.threadId)), 'the tasks ran on the listed threads')
    await until(pool, () => created.length === 4, 10_000, 'four workerCreate events')
    const threads = pool.threads
    t.is(threads.length, 4)
    t.true(created.every((w, i) => w === threads[i]), 'workerCreate named each Worker of threads, in order')
  } finally {
    await pool.destroy()
  }
  t.is(pool.threads.length, 0)
  t.is(pool.idleThreads, 0)
  t.is(destroyed.length, 4, 'workerDestroy for each')
  t.true(created.every((w) => destroyed.includes(w)), 'the same Workers')
})

test('a cold pool (minThreads 0) starts a thread per task up to maxThreads, at once', async (t) => {
  const pool = new Piscina({ filename: fx('async.cjs'), minThreads: 0, maxThreads: 4, concurrentTasksPerWorker: 1 })
  try {
    t.is(pool.threads.length, 0)
    const created = once(pool, 'workerCreate')
    const tasks = [0, 1, 2, 3].map((v) => pool.run({ ms: 50, v }))
    t.is(pool.threads.length, 4)
    const overflow = pool.run({ ms: 50, v: 4 })
    t.is(pool.threads.length, 4, 'not beyond maxThreads')
    t.true((await created)[0] instanceof Worker)
    await Promise.all([...tasks, overflow])
    t.true(pool.threads.length <= 4)
  } finally {
    await pool.destroy()
  }
})

test('concurrentTasksPerWorker: a thread takes that many tasks before another starts', async (t) => {
  const pool = new Piscina({ filename: fx('async.cjs'), minThreads: 1, maxThreads: 3, concurrentTasksPerWorker: 2 })
  try {
    const counts: number[] = []
    const tasks = [0, 1, 2, 3, 4].map((v) => {
      const p = pool.run({ ms: 30, v })
      counts.push(pool.threads.length)
      return p
    })
    t.deepEqual(counts, [1, 1, 2, 2, 3])
    await Promise.all(tasks)
  } finally {
    await pool.destroy()
  }
})

test('idleThreads: the threads with no task, at once and after the tasks end', async (t) => {
  const pool = new Piscina({ filename: fx('async.cjs'), minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 1 })
  try {
    t.is(pool.idleThreads, 2, 'minThreads count as idle from the start')
    const first = pool.run({ ms: 100, v: 1 })
    t.is(pool.idleThreads, 1)
    const second = pool.run({ ms: 100, v: 2 })
    t.is(pool.idleThreads, 0)
    await Promise.all([first, second])
    await until(pool, () => pool.idleThreads === 2, 5_000, 'both threads idle')
    t.is(pool.idleThreads, 2)
  } finally {
    await pool.destroy()
  }
  t.is(pool.idleThreads, 0)
})

test('idleTimeout: threads beyond minThreads exit after it (workerDestroy); the next burst starts one again', async (t) => {
  const pool = new Piscina({ filename: fx('async.cjs'), minThreads: 1, maxThreads: 2, idleTimeout: 100 })
  const destroyed: Worker[] = []
  pool.on('workerDestroy', (w: Worker) => destroyed.push(w))
  try {
    t.is(pool.threads.length, 1)
    const first = [pool.run({ ms: 30, v: 1 }), pool.run({ ms: 30, v: 2 })]
    t.is(pool.threads.length, 2)
    await Promise.all(first)
    const before = pool.threads
    await until(pool, () => pool.threads.length === 1, 10_000, 'the idle thread to exit')
    t.is(destroyed.length, 1)
    t.true(before.includes(destroyed[0]) && !pool.threads.includes(destroyed[0]), 'the Worker that exited is gone from threads')
    await new Promise((r) => setTimeout(r, 400))
    t.is(pool.threads.length, 1, 'minThreads stay')
    const second = [pool.run({ ms: 30, v: 3 }), pool.run({ ms: 30, v: 4 })]
    t.is(pool.threads.length, 2)
    await Promise.all(second)
  } finally {
    await pool.destroy()
  }
})

test('idleTimeout: Infinity keeps every thread', async (t) => {
  const pool = new Piscina({ filename: fx('async.cjs'), minThreads: 1, maxThreads: 2, idleTimeout: Infinity })
  try {
    await Promise.all([pool.run({ ms: 30, v: 1 }), pool.run({ ms: 30, v: 2 })])
    const threads = pool.threads
    t.is(threads.length, 2)
    await new Promise((r) => setTimeout(r, 500))
    t.true(pool.threads.length === 2 && pool.threads.every((w, i) => w === threads[i]), 'the same two Workers')
  } finally {
    await pool.destroy()
  }
})

test('a task\'s parentPort.postMessage() is the pool\'s \'message\' event', async (t) => {
  const pool = new Piscina({ filename: fx('port.cjs'), name: 'post' })
  try {
    const got: unknown[] = []
    pool.on('message', (v: unknown) => got.push(v))
    const values = ['some message', { type: 'ready' }, { n: 1, list: [1, 2] }]
    t.is(await pool.run(values), 3)
    await until(pool, () => got.length === 3, 10_000, 'the messages')
    t.deepEqual(got, values)
  } finally {
    await pool.close()
  }
})

test('run() on a new pool, then the app\'s thread blocks in Atomics.wait: the task runs as soon as a thread is up', async (t) => {
  const pool = new Piscina({ filename: fx('port.cjs'), name: 'notify', minThreads: 1, maxThreads: 1 })
  try {
    const sab = new SharedArrayBuffer(4)
    const a = new Int32Array(sab)
    t.is(pool.threads.length, 1)
    pool.threads[0].postMessage(sab)
    const r = pool.run(null)
    const t0 = performance.now()
    // The watchdog: a bounded wait, then a failure naming the state, instead of a hang.
    const woke = Atomics.wait(a, 0, 0, 20_000)
    const ms = performance.now() - t0
    t.not(woke, 'timed-out', `the task did not run while the app's thread blocked; threads ${pool.threads.length}`)
    t.log(`the app's thread blocked ${ms.toFixed(1)} ms (the thread's boot included)`)
    t.is(Atomics.load(a, 0), 1)
    t.is(await r, pool.threads[0].threadId)
  } finally {
    await pool.destroy()
  }
})
