// gort/pool's cancellation of running tasks (cancel.ts underneath): an
// aborted generator task gets the reason thrown in at its next yield (its
// finally runs, its slot frees at once); an async task's signal (second
// argument) is aborted; a plain function that never yields loses its thread
// after abortGraceMs and the pool goes on; `timeout` counts from the start.

import test from 'ava'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Piscina from 'gort/pool'

const filename = fileURLToPath(new URL('../test/fixtures/pool/cancel.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'gort-pool-cancel-'))
let n = 0
const marker = (): string => join(dir, `m${n++}`)
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [])

/** Polls until file has a line matching re (the task's mark), failing after ms. */
async function waitFor(file: string, re: RegExp, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!lines(file).some((l) => re.test(l))) {
    if (Date.now() > end) throw new Error(`no line matching ${re} in ${file} after ${ms} ms: ${JSON.stringify(lines(file))}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Fails the test instead of hanging if p does not settle within ms. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`watchdog: ${what} did not settle in ${ms} ms`)), ms) }),
  ])
}

// The grace period is wall-clock time: on a machine loaded enough that an M
// gets no CPU for abortGraceMs, even a yielding task loses its thread. The
// tests of the throw-in give it plenty, so that they test only that.
const patient = 10_000

test('an aborted running generator task: the AbortError at once, its finally runs, and its thread is free for the next task', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1, abortGraceMs: patient })
  try {
    const file = marker()
    const ac = new AbortController()
    const p = pool.run({ file }, { name: 'spin', signal: ac.signal })
    await waitFor(file, /^started$/)
    ac.abort(new Error('user gave up'))
    const err = await t.throwsAsync(p)
    t.is(err?.name, 'AbortError')
    t.is((err?.cause as Error).message, 'user gave up')
    await waitFor(file, /^finally$/)
    // One thread: the next task can only run if the spinning one has ended.
    t.is(await within(pool.run(42, { name: 'echo' }), 30_000, 'the next task'), 42)
  } finally {
    await pool.destroy()
  }
})

test('an aborted running async task: its signal (second argument) is aborted with the reason', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1, abortGraceMs: patient })
  try {
    const file = marker()
    const ac = new AbortController()
    const p = pool.run({ file }, { name: 'waitSignal', signal: ac.signal })
    await waitFor(file, /^started/)
    t.deepEqual(lines(file), ['started with a signal'])
    ac.abort(new Error('client went away'))
    await t.throwsAsync(p, { name: 'AbortError' })
    await waitFor(file, /^aborted/)
    t.deepEqual(lines(file), ['started with a signal', 'aborted: client went away'])
    t.is(await within(pool.run('next', { name: 'echo' }), 30_000, 'the next task'), 'next')
  } finally {
    await pool.destroy()
  }
})

test('an aborted plain function that never yields: its thread is terminated after abortGraceMs and the pool runs the next task; the replacement thread started before the terminate', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1, abortGraceMs: 50 })
  const events: string[] = []
  pool.on('workerCreate', () => events.push('create'))
  pool.on('workerDestroy', () => events.push('destroy'))
  try {
    const file = marker()
    const ac = new AbortController()
    const p = pool.run({ file }, { name: 'loop', signal: ac.signal })
    await waitFor(file, /^started$/)
    const before = events.length
    const t0 = performance.now()
    ac.abort()
    await t.throwsAsync(p, { name: 'AbortError' })
    const next = await within(pool.run('after', { name: 'echo' }), 30_000, 'the task after the terminated one')
    t.is(next, 'after')
    t.log(`the next task completed ${(performance.now() - t0).toFixed(0)} ms after the abort (grace 50 ms)`)
    // The stuck task's M gets its replacement booting during the grace
    // period (a standby, one beyond maxThreads), and is not replaced again.
    t.deepEqual(events.slice(before), ['create', 'destroy'])
    t.is(pool.threads.length, 1)
  } finally {
    await pool.destroy()
  }
})

test('timeout counts from the start of the task, not from run()', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1, abortGraceMs: patient })
  try {
    // The first task holds the only thread for 2 s; the second waits in the
    // queue for longer than its timeout, then runs 20 ms: it succeeds. (The
    // margins are wide: a loaded machine stretches 20 ms of work.)
    const first = pool.run({ ms: 2000 }, { name: 'busy' })
    const second = pool.run({ ms: 20 }, { name: 'busy', timeout: 1000 })
    t.true((await first) > 0)
    t.true((await second) > 0, 'the queued time did not count')
    // A task that runs past its timeout is aborted with a TimeoutError cause.
    const file = marker()
    const err = await t.throwsAsync(pool.run({ file }, { name: 'spin', timeout: 50 }))
    t.is(err?.name, 'AbortError')
    t.is((err?.cause as DOMException).name, 'TimeoutError')
    await waitFor(file, /^finally$/)
  } finally {
    await pool.destroy()
  }
})

test('bad timeout and abortGraceMs values are refused, naming the option', async (t) => {
  const pool = new Piscina({ filename })
  try {
    await t.throwsAsync(pool.run(1, { name: 'echo', timeout: -5 }), { instanceOf: TypeError, message: /timeout/ })
    await t.throwsAsync(pool.run(1, { name: 'echo', timeout: 'soon' as never }), { instanceOf: TypeError, message: /timeout/ })
    t.throws(() => new Piscina({ filename, abortGraceMs: -1 }), { instanceOf: TypeError, message: /abortGraceMs/ })
  } finally {
    await pool.destroy()
  }
})

test('terminated threads are replaced for good: six aborted plain loops in a row on one thread, and the pool still runs tasks', async (t) => {
  const pool = new Piscina({ filename, maxThreads: 1, abortGraceMs: 20 })
  const errors: unknown[] = []
  pool.on('error', (e) => errors.push(e))
  try {
    for (let i = 0; i < 6; i++) {
      const file = marker()
      const ac = new AbortController()
      const p = pool.run({ file }, { name: 'loop', signal: ac.signal })
      await waitFor(file, /^started$/)
      ac.abort()
      await t.throwsAsync(p, { name: 'AbortError' })
      t.is(await within(pool.run(i, { name: 'echo' }), 30_000, `the task after abort ${i}`), i)
    }
    t.deepEqual(errors, [], 'no thread-cap error: a dead M\'s record is reused')
  } finally {
    await pool.destroy()
  }
})
