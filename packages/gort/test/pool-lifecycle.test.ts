// What a task leaves on its thread, and how a thread's death reaches the
// caller, as piscina 5.3 has them (its test-is-buffer-transferred,
// test-uncaught-exception-from-handler, async-context and nice tests):
// a timer a task leaves behind fires on its idle thread; an exception
// thrown on a thread after its task returned is the pool's 'error' event,
// the exception itself; a task that calls process.exit(n) rejects with
// "worker exited with code: n" and its thread is replaced; every task is an
// async resource 'Piscina.Task' triggered by the pool, its promise settled
// in its scope; niceIncrement lowers the priority of the pool's threads.

import test from 'ava'
import { createHook, executionAsyncId } from 'node:async_hooks'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import Piscina from 'gort/pool'

const filename = fileURLToPath(new URL('../test/fixtures/pool/life.cjs', import.meta.url))

test('a timer a task leaves behind fires on its idle thread', async (t) => {
  const pool = new Piscina({ filename, name: 'leaveTimer', maxThreads: 1 })
  try {
    const sab = new SharedArrayBuffer(4)
    const w = new Int32Array(sab)
    t.is(await pool.run({ sab, ms: 20 }), 'returned')
    // No other task comes: the thread is idle when the timer is due.
    const r = await Atomics.waitAsync(w, 0, 0, 10_000).value
    t.not(r, 'timed-out', 'the timer fired')
    t.is(Atomics.load(w, 0), 1)
  } finally {
    await pool.destroy()
  }
})

test('an exception thrown on a thread after its task returned is the pool\'s \'error\' event, the exception itself; the thread is replaced', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1 })
  try {
    const error = new Promise<Error>((resolve) => pool.once('error', resolve))
    t.is(await pool.run('uncaught after the task', { name: 'throwLater' }), 'returned')
    const e = await error
    t.true(e instanceof Error)
    t.is(e.message, 'uncaught after the task')
    t.is(await pool.run(7, { name: 'echo' }), 7, 'a new thread runs the next task')
  } finally {
    await pool.destroy()
  }
})

test('a task that calls process.exit(n) rejects with "worker exited with code: n"; no \'error\' event; the thread is replaced', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1 })
  const errors: unknown[] = []
  pool.on('error', (e) => errors.push(e))
  try {
    const before = pool.threads[0]?.threadId
    await t.throwsAsync(pool.run(3, { name: 'exitNow' }), { instanceOf: Error, message: 'worker exited with code: 3' })
    t.is(await pool.run(8, { name: 'echo' }), 8)
    t.not(pool.threads[0]?.threadId, before, 'another thread')
    await new Promise((r) => setImmediate(r))
    t.deepEqual(errors, [])
  } finally {
    await pool.destroy()
  }
})

test('each task is an async resource \'Piscina.Task\' triggered by the pool; its promise settles in its scope', async (t) => {
  const pool = new Piscina({ filename, name: 'echo' })
  const inits: Array<{ id: number; trigger: number }> = []
  const befores: number[] = []
  const afters: number[] = []
  let resolvedInScope = 0
  const hook = createHook({
    // Other tests' pools run meanwhile: this pool's tasks are those it triggered.
    init(id, type, trigger) { if (type === 'Piscina.Task' && trigger === pool.asyncId) inits.push({ id, trigger }) },
    before(id) { if (inits.some((x) => x.id === id)) befores.push(id) },
    after(id) { if (inits.some((x) => x.id === id)) afters.push(id) },
    promiseResolve() { if (inits.some((x) => x.id === executionAsyncId())) resolvedInScope++ },
  })
  hook.enable()
  try {
    t.deepEqual(await Promise.all([pool.run(1), pool.run(2), pool.run(3)]), [1, 2, 3])
  } finally {
    hook.disable()
    await pool.destroy()
  }
  t.is(inits.length, 3, 'one resource per task, triggered by the pool')
  // Once each, in the order the tasks ended.
  const ids = inits.map((x) => x.id).sort()
  t.deepEqual([...befores].sort(), ids)
  t.deepEqual(afters, befores)
  t.true(resolvedInScope >= 3, 'each caller\'s promise resolved in its task\'s scope')
})

test('niceIncrement: the pool\'s threads run at the app\'s nice value plus it', async (t) => {
  const nice = createRequire(import.meta.url)('@napi-rs/nice') as { getCurrentProcessPriority(): number }
  const pool = new Piscina({ filename, name: 'priority', niceIncrement: 3 })
  try {
    const mine = nice.getCurrentProcessPriority()
    t.is(await pool.run(null), Math.min(mine + 3, 19))
    t.is(nice.getCurrentProcessPriority(), mine, 'the app\'s thread keeps its own')
  } finally {
    await pool.destroy()
  }
})
