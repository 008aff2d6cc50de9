// lock_futex's lock: mutual exclusion across real worker threads, the
// SLEEPING state, tryLock, lockAsync, and the fatal errors.

import test, { type ExecutionContext } from 'ava'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Worker } from 'node:worker_threads'
import {
  FatalError, G_PAYLOAD, MUTEX_LOCKED, MUTEX_SLEEPING, MUTEX_UNLOCKED, SCHED_LOCK, SharedHeap,
  futexsleep, futexwakeup, gbase, lock, lockAsync, schedw, setThreadCanBlock, threadCanBlock, tryLock, unlock,
} from 'gort/internal'
import { seeded, startFixture, withWatchdog } from './helpers.js'
import { delay, waitWord } from './wait.js'
import type { CountData, HoldData, LockReport } from './fixtures/lock.js'

const params = { maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 8, arenaBytes: 0 }

/** The words these tests use: the scheduler lock, and G payload words (free for tests) for the rest. */
function words(h: SharedHeap) {
  const l = h.layout
  return {
    lockw: schedw(l, SCHED_LOCK),
    ctrw: gbase(l, 1) + G_PAYLOAD,
    arrivew: gbase(l, 2) + G_PAYLOAD,
    flagw: gbase(l, 3) + G_PAYLOAD,
    markw: gbase(l, 4) + G_PAYLOAD,
  }
}

function dumpWords(h: SharedHeap): () => string {
  const w = words(h)
  return () => Object.entries(w).map(([k, a]) => `${k}@${a} = ${Atomics.load(h.i32, a)}`).join('\n')
}

interface CountOpts {
  workers: number
  iters: number
  useTry: boolean
  holdSpin: number
  /** Hold the lock on the test thread until the waiting workers have made the word SLEEPING. */
  reachSleeping: boolean
}

async function countUnderLock(t: ExecutionContext, o: CountOpts): Promise<void> {
  seeded(t) // nothing here is random, but log a seed like every concurrency test
  const h = SharedHeap.create(params)
  const w = words(h)
  const m = h.i32
  if (o.reachSleeping) lock(m, w.lockw)
  const started: Worker[] = []
  const reports = await withWatchdog(t, 40_000, dumpWords(h), () => started, async () => {
    const results: Array<Promise<LockReport>> = []
    for (let i = 0; i < o.workers; i++) {
      const data: CountData = {
        mode: 'count', sab: h.sab, lockw: w.lockw, ctrw: w.ctrw, arrivew: w.arrivew,
        workers: o.workers, iters: o.iters, useTry: o.useTry, holdSpin: o.holdSpin,
      }
      const f = startFixture<LockReport>('lock', data)
      started.push(f.worker)
      results.push(f.result)
    }
    if (o.reachSleeping) {
      // Every worker is past the start line and contending; one of them must
      // give up spinning and announce that it sleeps.
      await waitWord(m, w.arrivew, (v) => v === o.workers)
      await waitWord(m, w.lockw, (v) => v === MUTEX_SLEEPING)
      t.is(m[w.ctrw], 0, 'a worker got in while the test thread held the lock')
      unlock(m, w.lockw)
    }
    return Promise.all(results)
  })
  for (const r of reports) {
    t.is(r.error, undefined)
    t.is(r.torn, 0, 'another thread wrote the counter inside the critical section')
  }
  t.is(m[w.ctrw], o.workers * o.iters, 'increments were lost or doubled')
  t.is(Atomics.load(m, w.lockw), MUTEX_UNLOCKED)
  const sleepingSeen = reports.reduce((s, r) => s + r.sleepingSeen, 0)
  t.log(`lock word found SLEEPING after ${sleepingSeen} of ${o.workers * o.iters} acquisitions`)
  if (o.useTry) {
    const ok = reports.reduce((s, r) => s + r.tryOk, 0)
    const failed = reports.reduce((s, r) => s + r.tryFailed, 0)
    t.is(ok + failed, o.workers * o.iters)
    t.true(ok > 0, 'tryLock never succeeded')
    t.log(`tryLock took it ${ok} times, failed ${failed} times`)
  }
}

test.serial('4 workers incrementing a plain counter under lock reach the exact total', async (t) => {
  await countUnderLock(t, { workers: 4, iters: 1_000_000, useTry: false, holdSpin: 4, reachSleeping: false })
})

test.serial('tryLock-then-lock from 4 workers keeps the counter exact', async (t) => {
  await countUnderLock(t, { workers: 4, iters: 500_000, useTry: true, holdSpin: 4, reachSleeping: false })
})

test.serial('with sleepers (the word reached SLEEPING) and long critical sections, 6 workers stay exact', async (t) => {
  await countUnderLock(t, { workers: 6, iters: 30_000, useTry: false, holdSpin: 200, reachSleeping: true })
})

test('unlock of an unlocked lock is a FatalError', (t) => {
  const h = SharedHeap.create(params)
  const { lockw } = words(h)
  t.throws(() => unlock(h.i32, lockw), { instanceOf: FatalError, message: /^unlock: / })
  t.is(Atomics.load(h.i32, lockw), MUTEX_UNLOCKED)
  lock(h.i32, lockw)
  unlock(h.i32, lockw)
  t.throws(() => unlock(h.i32, lockw), { instanceOf: FatalError, message: /^unlock: / })
})

test('tryLock takes a free lock only, and is not re-entrant', (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const { lockw } = words(h)
  t.true(tryLock(m, lockw))
  t.is(Atomics.load(m, lockw), MUTEX_LOCKED)
  t.false(tryLock(m, lockw))
  t.is(Atomics.load(m, lockw), MUTEX_LOCKED)
  unlock(m, lockw)
  t.true(tryLock(m, lockw))
  unlock(m, lockw)
  // A held lock with sleepers: tryLock must not overwrite SLEEPING.
  Atomics.store(m, lockw, MUTEX_SLEEPING)
  t.false(tryLock(m, lockw))
  t.is(Atomics.load(m, lockw), MUTEX_SLEEPING)
  unlock(m, lockw)
  t.is(Atomics.load(m, lockw), MUTEX_UNLOCKED)
  // lock after tryLock released it: the uncontended path.
  lock(m, lockw)
  t.false(tryLock(m, lockw))
  unlock(m, lockw)
})

test('lockAsync on the test thread resolves only after the worker holding the lock releases it', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const data: HoldData = { mode: 'hold', sab: h.sab, lockw: w.lockw, flagw: w.flagw, markw: w.markw }
  const f = startFixture<LockReport>('lock', data)
  await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], async () => {
    await waitWord(m, w.flagw, (v) => v === 1) // the worker holds the lock
    t.false(tryLock(m, w.lockw))
    let resolved = false
    const p = lockAsync(m, w.lockw).then(() => {
      resolved = true
    })
    // lockAsync spun, then announced itself before parking its promise.
    t.is(Atomics.load(m, w.lockw), MUTEX_SLEEPING)
    await delay(50)
    t.false(resolved, 'lockAsync resolved while the worker still held the lock')
    t.is(m[w.markw], 0)
    Atomics.store(m, w.flagw, 2)
    futexwakeup(m, w.flagw, 1)
    await p
    // The worker's plain store before its unlock is visible to the new holder.
    t.is(m[w.markw], 1)
    t.not(Atomics.load(m, w.lockw), MUTEX_UNLOCKED)
    unlock(m, w.lockw)
    t.is((await f.result).error, undefined)
  })
})

test('lockAsync of a free lock resolves at once and holds it', async (t) => {
  const h = SharedHeap.create(params)
  const { lockw } = words(h)
  await lockAsync(h.i32, lockw)
  t.is(Atomics.load(h.i32, lockw), MUTEX_LOCKED)
  t.false(tryLock(h.i32, lockw))
  unlock(h.i32, lockw)
})

test('on a thread that must not block, a contended lock spins and never announces SLEEPING', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const data: HoldData = { mode: 'hold', sab: h.sab, lockw: w.lockw, flagw: w.flagw, markw: w.markw, holdMs: 100 }
  const f = startFixture<LockReport>('lock', data)
  await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], () => waitWord(m, w.flagw, (v) => v === 1))
  setThreadCanBlock(false)
  try {
    // Blocks this thread's event loop in a spin until the worker's timed hold ends.
    lock(m, w.lockw)
  } finally {
    setThreadCanBlock(true)
  }
  t.is(m[w.markw], 1, 'lock returned before the holder released it')
  t.is(Atomics.load(m, w.lockw), MUTEX_LOCKED)
  unlock(m, w.lockw)
  t.is((await f.result).error, undefined)
})

test('futexsleep is a FatalError on a thread that must not block', (t) => {
  const h = SharedHeap.create(params)
  const { flagw } = words(h)
  t.true(threadCanBlock(), 'ava runs tests on a worker thread, which may block')
  setThreadCanBlock(false)
  try {
    t.false(threadCanBlock())
    // The value matches, so a blocking thread would sleep the full hour.
    t.throws(() => futexsleep(h.i32, flagw, 0, 3600e9), { instanceOf: FatalError, message: /^futexsleep: / })
  } finally {
    setThreadCanBlock(true)
  }
  t.true(threadCanBlock())
})

const execFileP = promisify(execFile)

test('on the process main thread, futexsleep refuses to block by default', async (t) => {
  // A real main thread: a child process importing the built package.
  const script = `
    import { futexsleep, threadCanBlock, FatalError } from 'gort/internal'
    const m = new Int32Array(new SharedArrayBuffer(4))
    let out = 'slept'
    try { futexsleep(m, 0, 0, 3600e9) } catch (e) { out = (e instanceof FatalError) + ' ' + e.message }
    console.log(JSON.stringify({ canBlock: threadCanBlock(), out }))
  `
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], { cwd, timeout: 20_000 })
  const r = JSON.parse(stdout) as { canBlock: boolean; out: string }
  t.false(r.canBlock)
  t.regex(r.out, /^true futexsleep: /)
})
