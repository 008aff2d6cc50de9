// futexsleep and futexwakeup across real worker threads, their timeouts, the
// promise-based futexsleepAsync, and a ping-pong that would hang on a lost
// wake-up.

import test from 'ava'
import type { Worker } from 'node:worker_threads'
import { G_PAYLOAD, SharedHeap, futexsleep, futexsleepAsync, futexwakeup, gbase } from 'gort/internal'
import { seeded, startFixture, withWatchdog } from './helpers.js'
import { delay, waitWord } from './wait.js'
import type { FutexReport, PingPongData, SleepData, WakeData } from './fixtures/futex.js'

const params = { maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 8, arenaBytes: 0 }

/** G payload words, which the runtime leaves to tests (layout.ts). */
function words(h: SharedHeap) {
  const l = h.layout
  return {
    w: gbase(l, 1) + G_PAYLOAD,
    readyw: gbase(l, 2) + G_PAYLOAD,
    donew: gbase(l, 3) + G_PAYLOAD,
    progress0: gbase(l, 4) + G_PAYLOAD,
    progress1: gbase(l, 5) + G_PAYLOAD,
  }
}

function dumpWords(h: SharedHeap): () => string {
  const w = words(h)
  return () => Object.entries(w).map(([k, a]) => `${k}@${a} = ${Atomics.load(h.i32, a)}`).join('\n')
}

test('futexwakeup wakes a worker parked in futexsleep, and only a wake-up does', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const data: SleepData = { mode: 'sleep', sab: h.sab, w: w.w, readyw: w.readyw, donew: w.donew, ns: 30e9 }
  const f = startFixture<FutexReport>('futex', data)
  const r = await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], async () => {
    await waitWord(m, w.readyw, (v) => v === 1)
    await delay(50) // let it park
    // Changing the word without a wake-up leaves the sleeper parked: it is
    // asleep in the kernel, not polling.
    Atomics.store(m, w.w, 1)
    await delay(100)
    t.is(Atomics.load(m, w.donew), 0, 'the sleeper returned without a wake-up')
    futexwakeup(m, w.w, 1)
    return f.result
  })
  t.is(r.error, undefined)
  t.is(r.value, 1)
  t.is(r.calls, 1)
  t.true(r.elapsedMs! < 15_000, `it slept ${r.elapsedMs} ms: the 30 s timeout, not the wake-up, ended it`)
})

test('futexsleep with a timeout returns after about the timeout when nobody wakes it', (t) => {
  const h = SharedHeap.create(params)
  const { w } = words(h)
  const t0 = performance.now()
  futexsleep(h.i32, w, 0, 100e6)
  const ms = performance.now() - t0
  t.true(ms >= 80, `returned after ${ms} ms of a 100 ms timeout`)
  t.is(Atomics.load(h.i32, w), 0)
})

test('futexsleep returns at once when the word already differs', (t) => {
  const h = SharedHeap.create(params)
  const { w } = words(h)
  Atomics.store(h.i32, w, 7)
  const t0 = performance.now()
  futexsleep(h.i32, w, 0, 60e9)
  futexsleep(h.i32, w, 0, -1)
  const ms = performance.now() - t0
  t.true(ms < 5_000, `took ${ms} ms`)
  t.is(Atomics.load(h.i32, w), 7)
})

test('futexsleepAsync resolves true on a wake-up from a worker', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const { w } = words(h)
  let settled = false
  const p = futexsleepAsync(m, w, 0, -1).finally(() => {
    settled = true
  })
  await delay(30)
  t.false(settled, 'resolved with nobody waking it')
  const data: WakeData = { mode: 'wake', sab: h.sab, w, delayMs: 20, value: 1 }
  const f = startFixture<FutexReport>('futex', data)
  const woke = await withWatchdog(t, 10_000, dumpWords(h), () => [f.worker], () => p)
  t.true(woke)
  t.is(Atomics.load(m, w), 1)
  t.is((await f.result).error, undefined)
})

test('futexsleepAsync resolves false on a timeout, and true at once when the word differs', async (t) => {
  const h = SharedHeap.create(params)
  const m = h.i32
  const { w } = words(h)
  const t0 = performance.now()
  t.false(await futexsleepAsync(m, w, 0, 50e6))
  const ms = performance.now() - t0
  t.true(ms >= 40, `resolved after ${ms} ms of a 50 ms timeout`)
  t.is(Atomics.load(m, w), 0)
  t.true(await futexsleepAsync(m, w, 3, -1))
  t.true(await futexsleepAsync(m, w, 3, 60e9))
})

test.serial('no lost wake-up: 20,000 rounds of futex ping-pong between two workers', async (t) => {
  seeded(t) // the schedule is the OS's; the seed is logged for uniformity only
  const rounds = 20_000
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const workers: Worker[] = []
  const reports = await withWatchdog(t, 30_000, dumpWords(h), () => workers, () => {
    const rs = ([0, 1] as const).map((me) => {
      const data: PingPongData = {
        mode: 'pingpong', sab: h.sab, w: w.w, me, rounds, progressw: me === 0 ? w.progress0 : w.progress1,
      }
      const f = startFixture<FutexReport>('futex', data)
      workers.push(f.worker)
      return f.result
    })
    return Promise.all(rs)
  })
  for (const r of reports) t.is(r.error, undefined)
  t.is(Atomics.load(m, w.w), 2 * rounds)
  t.is(Atomics.load(m, w.progress0), rounds)
  t.is(Atomics.load(m, w.progress1), rounds)
  t.log(`futexsleep calls: ${reports.map((r) => r.calls).join(', ')}`)
})

test.serial('no lost wake-up: 10,000 rounds of ping-pong between a worker and futexsleepAsync', async (t) => {
  seeded(t)
  const rounds = 10_000
  const h = SharedHeap.create(params)
  const m = h.i32
  const w = words(h)
  const data: PingPongData = { mode: 'pingpong', sab: h.sab, w: w.w, me: 0, rounds, progressw: w.progress0 }
  const f = startFixture<FutexReport>('futex', data)
  let waits = 0
  await withWatchdog(t, 30_000, dumpWords(h), () => [f.worker], async () => {
    for (let r = 0; r < rounds; r++) {
      const mine = 2 * r + 1
      for (;;) {
        const old = Atomics.load(m, w.w)
        if (old === mine) break
        if (old > mine) throw new Error(`round ${r}: w is ${old}, past ${mine}`)
        await futexsleepAsync(m, w.w, old, -1) // no timeout: see the watchdog
        waits++
      }
      Atomics.store(m, w.progress1, r + 1)
      Atomics.store(m, w.w, mine + 1)
      futexwakeup(m, w.w, 1)
    }
    const r = await f.result
    t.is(r.error, undefined)
  })
  t.is(Atomics.load(m, w.w), 2 * rounds)
  t.is(Atomics.load(m, w.progress0), rounds)
  t.log(`futexsleepAsync waits: ${waits}; worker futexsleep calls: ${(await f.result).calls}`)
})
