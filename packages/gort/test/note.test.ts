// Notes (lock_futex.ts): one-shot events for parking and waking Ms, across
// real worker threads and on the test thread.

import test from 'ava'
import type { Worker } from 'node:worker_threads'
import {
  FatalError, G_PAYLOAD, M_PARK, SharedHeap, gbase, mbase, noteclear, notesleep, notetsleep, notetsleepAsync,
  notewakeup, setThreadCanBlock,
} from 'gort/internal'
import { seeded, startFixture, withWatchdog } from './helpers.js'
import { delay, waitWord } from './wait.js'
import type { NotePingPongData, NoteReport, NoteSleepData, NoteWakeData } from './fixtures/note.js'

const params = { maxProcs: 1, runqSize: 4, maxMs: 2, maxGs: 8, arenaBytes: 0 }

/** The two Ms' park notes, and G payload words (left to tests) for the rest. */
function words(h: SharedHeap) {
  const l = h.layout
  return {
    n0: mbase(l, 0) + M_PARK,
    n1: mbase(l, 1) + M_PARK,
    readyw: gbase(l, 1) + G_PAYLOAD,
    batonw: gbase(l, 2) + G_PAYLOAD,
    progress0: gbase(l, 3) + G_PAYLOAD,
    progress1: gbase(l, 4) + G_PAYLOAD,
  }
}

function dumpWords(h: SharedHeap): () => string {
  const w = words(h)
  return () => Object.entries(w).map(([k, a]) => `${k}@${a} = ${Atomics.load(h.i32, a)}`).join('\n')
}

test('notewakeup from the test thread wakes a worker in notesleep', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const data: NoteSleepData = { mode: 'sleep', sab: h.sab, n: w.n0, readyw: w.readyw }
  const f = startFixture<NoteReport>('note', data)
  const r = await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], async () => {
    await waitWord(m, w.readyw, (v) => v === 1)
    await delay(30)
    notewakeup(m, w.n0)
    return f.result
  })
  t.is(r.error, undefined)
  t.is(r.value, 1)
})

test('notetsleep on a clear note times out and returns false', (t) => {
  const h = SharedHeap.create(params)
  const { n0 } = words(h)
  const t0 = performance.now()
  t.false(notetsleep(h.i32, n0, 50e6))
  const ms = performance.now() - t0
  t.true(ms >= 40, `returned after ${ms} ms of a 50 ms timeout`)
  t.is(Atomics.load(h.i32, n0), 0)
  t.false(notetsleep(h.i32, n0, 0))
})

test('notetsleep returns true at once on a note woken before', (t) => {
  const h = SharedHeap.create(params)
  const { n0 } = words(h)
  notewakeup(h.i32, n0)
  const t0 = performance.now()
  t.true(notetsleep(h.i32, n0, 60e9))
  t.true(notetsleep(h.i32, n0, 0))
  t.true(notetsleep(h.i32, n0, -1))
  notesleep(h.i32, n0)
  t.true(performance.now() - t0 < 5_000)
  t.is(Atomics.load(h.i32, n0), 1, 'sleeping must not consume the wake-up')
})

test('notetsleep returns true when a worker wakes the note during the sleep', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const data: NoteWakeData = { mode: 'wake', sab: h.sab, n: w.n0, readyw: w.readyw, delayMs: 30 }
  const f = startFixture<NoteReport>('note', data)
  await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], () => waitWord(m, w.readyw, (v) => v === 1))
  const t0 = performance.now()
  t.true(notetsleep(m, w.n0, 20e9)) // blocks this thread until the worker's wake-up
  const ms = performance.now() - t0
  t.true(ms < 10_000, `woke after ${ms} ms: the timeout ended the sleep, not the wake-up`)
  t.is((await f.result).error, undefined)
})

test('a second notewakeup without noteclear is a FatalError', (t) => {
  const h = SharedHeap.create(params)
  const { n0 } = words(h)
  notewakeup(h.i32, n0)
  t.throws(() => notewakeup(h.i32, n0), { instanceOf: FatalError, message: 'notewakeup: double wakeup' })
  t.is(Atomics.load(h.i32, n0), 1)
})

test('noteclear re-arms a note', (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const { n0 } = words(h)
  for (let i = 0; i < 3; i++) {
    notewakeup(m, n0)
    t.true(notetsleep(m, n0, 10e6))
    noteclear(m, n0)
    t.is(Atomics.load(m, n0), 0)
    t.false(notetsleep(m, n0, 10e6), 'a cleared note still reads as woken')
  }
  notewakeup(m, n0) // no double-wakeup error after the clear
  t.true(notetsleep(m, n0, 0))
})

test('notetsleepAsync: false on a timeout, true when woken before, true when a worker wakes it', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const t0 = performance.now()
  t.false(await notetsleepAsync(m, w.n0, 40e6))
  t.true(performance.now() - t0 >= 30)
  notewakeup(m, w.n0)
  t.true(await notetsleepAsync(m, w.n0, 60e9))
  t.true(await notetsleepAsync(m, w.n0, -1))
  noteclear(m, w.n0)

  let settled = false
  const p = notetsleepAsync(m, w.n0, -1).finally(() => {
    settled = true
  })
  await delay(30)
  t.false(settled, 'resolved before anyone woke the note')
  const data: NoteWakeData = { mode: 'wake', sab: h.sab, n: w.n0, readyw: w.readyw, delayMs: 20 }
  const f = startFixture<NoteReport>('note', data)
  t.true(await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], () => p))
  t.is((await f.result).error, undefined)
})

test('on a thread that must not block, notesleep is fatal and notetsleepAsync still works', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const { n0 } = words(h)
  setThreadCanBlock(false)
  try {
    t.throws(() => notesleep(m, n0), { instanceOf: FatalError, message: /^futexsleep: / })
    t.throws(() => notetsleep(m, n0, 1e9), { instanceOf: FatalError, message: /^futexsleep: / })
  } finally {
    setThreadCanBlock(true)
  }
  const p = notetsleepAsync(m, n0, 10e9)
  notewakeup(m, n0)
  t.true(await p)
})

test.serial('20,000 rounds of M park/unpark ping-pong on two notes between two workers', async (t) => {
  seeded(t) // the schedule is the OS's; the seed is logged for uniformity only
  const rounds = 20_000
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const workers: Worker[] = []
  const reports = await withWatchdog(t, 30_000, dumpWords(h), () => workers, () => {
    const rs = ([0, 1] as const).map((me) => {
      const data: NotePingPongData = {
        mode: 'pingpong', sab: h.sab, me, rounds, batonw: w.batonw,
        mine: me === 0 ? w.n0 : w.n1, other: me === 0 ? w.n1 : w.n0,
        progressw: me === 0 ? w.progress0 : w.progress1,
      }
      const f = startFixture<NoteReport>('note', data)
      workers.push(f.worker)
      return f.result
    })
    return Promise.all(rs)
  })
  for (const r of reports) t.is(r.error, undefined)
  t.is(m[w.batonw], 2 * rounds)
  t.is(Atomics.load(m, w.progress0), rounds)
  t.is(Atomics.load(m, w.progress1), rounds)
  // Side 1 cleared its note after the last wake-up; side 0 cleared its own too.
  t.is(Atomics.load(m, w.n0), 0)
  t.is(Atomics.load(m, w.n1), 0)
})
