// Go's sync/cond_test.go tests, ported: TestCondSignal,
// TestCondSignalGenerations, TestCondBroadcast and TestRace, at procs 2 and
// 3. Each asserts what the original asserts, with Go's sizes, in two shapes:
//
// - the test's body in a goroutine on an M, which starts Go's goroutines
//   with go() (registered functions, so they may run on any M);
// - the body on the app's thread, with Go's goroutines a seeded mix of
//   goroutines on Ms (rt.go) and async functions on the app's thread, so
//   that Mutex, Cond and channels are used across every kind of thread.
//
// The channels, Mutex and Cond are made by the app and passed to the body,
// so that the watchdog can show them in its dump.

import test from 'ava'
import { Cond, Mutex, chan, select, type Chan, type Runtime } from 'gort'
import type { FastRand } from 'gort/internal'
import { condgo } from './fixtures/condgo.js'
import { seeded, withRuntime } from './helpers.js'

const PROCS = [2, 3]
const WATCHDOG_MS = 60_000

/** A non-blocking receive on the app's thread: true if a value (or a close) was taken. */
async function ready<T>(c: Chan<T>): Promise<boolean> {
  return (await select([c.recvCase()], { default: true })).index === 0
}

/** Go's t.Fatal: fails the test and ends it (withRuntime then destroys the runtime). */
function fatal(msg: string): never {
  throw new Error(msg)
}

/** Lets other work on the app's thread run (Go's runtime.Gosched there). */
const gosched = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Goroutines started per M since `before` (from rt.stats()), for the log. */
function spread(rt: Runtime, before: number[]): string {
  return rt.stats().ms.map((m, i) => m.started - (before[i] ?? 0)).join(' ')
}

function started(rt: Runtime): number[] {
  return rt.stats().ms.map((m) => m.started)
}

/**
 * Starts one of Go's goroutines from the app's thread: as the async
 * function app() on the app's thread itself (one time in three, by the
 * seed), or through onM() as a goroutine on any M. Returns a promise of its
 * end, and counts the app-thread ones in onApp.
 */
function start(rnd: FastRand, onApp: { n: number }, app: () => Promise<void>, onM: () => Promise<unknown>): Promise<unknown> {
  let p: Promise<unknown>
  if (rnd.n(3) === 0) {
    onApp.n++
    p = app()
  } else p = onM()
  // Awaited later; marked handled now so that a runtime destroyed after a
  // failure does not add an unhandled rejection to the report.
  p.catch(() => {})
  return p
}

function lockState(m: Mutex, extra: Record<string, Chan<unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { mutexLocked: m.locked() }
  for (const [k, c] of Object.entries(extra)) out[k] = c.len()
  return out
}

// -- TestCondSignal: n = 2 waiters; each Signal wakes exactly one. -----------

async function hostSignalWaiter(m: Mutex, c: Cond, running: Chan<boolean>, awake: Chan<boolean>): Promise<void> {
  await m.lock()
  await running.send(true)
  await c.wait()
  await awake.send(true)
  m.unlock()
}

for (const procs of PROCS) {
  test.serial(`TestCondSignal at procs ${procs}, body in a goroutine`, async (t) => {
    seeded(t) // the schedule is the OS's; the seed is logged for uniformity only
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const n = 2
      const m = new Mutex()
      const c = new Cond(m)
      const running = chan<boolean>(n)
      const awake = chan<boolean>(n)
      state.objects = () => lockState(m, { running, awake })
      const before = started(rt)
      t.is(await rt.run(condgo.condSignal, m, c, running, awake, n, true), '')
      t.log(`goroutines started per M: ${spread(rt, before)}`)
    })
  })

  test.serial(`TestCondSignal at procs ${procs}, body on the app's thread`, async (t) => {
    const rnd = seeded(t)
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      let n = 2
      const m = new Mutex()
      const c = new Cond(m)
      const running = chan<boolean>(n)
      const awake = chan<boolean>(n)
      state.objects = () => lockState(m, { running, awake })
      const before = started(rt)
      const onApp = { n: 0 }
      const waiters: Array<Promise<unknown>> = []
      for (let i = 0; i < n; i++) {
        waiters.push(start(rnd, onApp, () => hostSignalWaiter(m, c, running, awake), () => rt.run(condgo.signalWaiter, m, c, running, awake)))
      }
      t.log(`${onApp.n} of ${n} waiters on the app's thread`)
      for (let i = 0; i < n; i++) await running.recv() // wait for everyone to run
      while (n > 0) {
        if (await ready(awake)) fatal('goroutine not asleep')
        await m.lock()
        c.signal()
        m.unlock()
        await awake.recv() // deadlocks (the watchdog fires) if no goroutine wakes up
        if (await ready(awake)) fatal('too many goroutines awake')
        n--
      }
      c.signal()
      await Promise.all(waiters)
      t.log(`goroutines started per M: ${spread(rt, before)}`)
    })
  })
}

// -- TestCondSignalGenerations: n = 100 waiters, one at a time; each Signal
// wakes the waiter that waited before it, never a later one. ----------------

async function hostGenerationsWaiter(m: Mutex, c: Cond, running: Chan<boolean>, awake: Chan<number>, i: number): Promise<void> {
  await m.lock()
  await running.send(true)
  await c.wait()
  await awake.send(i)
  m.unlock()
}

for (const procs of PROCS) {
  test.serial(`TestCondSignalGenerations at procs ${procs}, body in a goroutine`, async (t) => {
    seeded(t) // the schedule is the OS's; the seed is logged for uniformity only
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const n = 100
      const m = new Mutex()
      const c = new Cond(m)
      const running = chan<boolean>(n)
      const awake = chan<number>(n)
      state.objects = () => lockState(m, { running, awake })
      const before = started(rt)
      t.is(await rt.run(condgo.condSignalGenerations, m, c, running, awake, n), '')
      t.log(`goroutines started per M: ${spread(rt, before)}`)
    })
  })

  test.serial(`TestCondSignalGenerations at procs ${procs}, body on the app's thread`, async (t) => {
    const rnd = seeded(t)
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const n = 100
      const m = new Mutex()
      const c = new Cond(m)
      const running = chan<boolean>(n)
      const awake = chan<number>(n)
      state.objects = () => lockState(m, { running, awake })
      const before = started(rt)
      const onApp = { n: 0 }
      const waiters: Array<Promise<unknown>> = []
      for (let i = 0; i < n; i++) {
        waiters.push(start(rnd, onApp, () => hostGenerationsWaiter(m, c, running, awake, i), () => rt.run(condgo.generationsWaiter, m, c, running, awake, i)))
        if (i > 0) {
          const a = await awake.recv()
          if (a !== i - 1) fatal(`wrong goroutine woke up: want ${i - 1}, got ${a}`)
        }
        await running.recv()
        await m.lock()
        c.signal()
        m.unlock()
      }
      // Go's test returns with the last waiter signalled but not yet
      // reported; let it finish so the runtime closes clean.
      await awake.recv()
      await Promise.all(waiters)
      t.log(`${onApp.n} of ${n} waiters on the app's thread; goroutines started per M: ${spread(rt, before)}`)
    })
  })
}

// -- TestCondBroadcast: n = 200 waiters, n rounds; each Broadcast wakes every
// waiter exactly once, and after the last round every waiter exits. ---------

async function hostBroadcastWaiter(m: Mutex, c: Cond, running: Chan<number>, awake: Chan<number>, exit: Chan<never>, g: number): Promise<void> {
  await m.lock()
  while (!(await ready(exit))) {
    await running.send(g)
    await c.wait()
    await awake.send(g)
  }
  m.unlock()
}

for (const procs of PROCS) {
  test.serial(`TestCondBroadcast at procs ${procs}, body in a goroutine`, async (t) => {
    seeded(t) // the schedule is the OS's; the seed is logged for uniformity only
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const n = 200
      const m = new Mutex()
      const c = new Cond(m)
      const running = chan<number>(n)
      const awake = chan<number>(n)
      const exit = chan<never>()
      state.objects = () => lockState(m, { running, awake })
      const before = started(rt)
      t.is(await rt.run(condgo.condBroadcast, m, c, running, awake, exit, n, true), '')
      t.log(`goroutines started per M: ${spread(rt, before)}`)
    })
  })

  test.serial(`TestCondBroadcast at procs ${procs}, body on the app's thread`, async (t) => {
    const rnd = seeded(t)
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const n = 200
      const m = new Mutex()
      const c = new Cond(m)
      const running = chan<number>(n)
      const awake = chan<number>(n)
      const exit = chan<never>()
      let round = 0
      state.objects = () => ({ round, ...lockState(m, { running, awake }) })
      const before = started(rt)
      const onApp = { n: 0 }
      const waiters: Array<Promise<unknown>> = []
      for (let i = 0; i < n; i++) {
        waiters.push(start(rnd, onApp, () => hostBroadcastWaiter(m, c, running, awake, exit, i), () => rt.run(condgo.broadcastWaiter, m, c, running, awake, exit, i)))
      }
      t.log(`${onApp.n} of ${n} waiters on the app's thread`)
      for (let i = 0; i < n; i++) {
        round = i
        for (let j = 0; j < n; j++) await running.recv() // deadlocks unless n are running
        if (i === n - 1) {
          await m.lock()
          exit.close()
          m.unlock()
        }
        if (await ready(awake)) fatal('goroutine not asleep')
        await m.lock()
        c.broadcast()
        m.unlock()
        const seen = new Array<boolean>(n).fill(false)
        for (let j = 0; j < n; j++) {
          const g = (await awake.recv())!
          if (seen[g]) fatal('goroutine woke up twice')
          seen[g] = true
        }
      }
      if (await ready(running)) fatal('goroutine did not exit')
      c.broadcast()
      await Promise.all(waiters)
      t.log(`goroutines started per M: ${spread(rt, before)}`)
    })
  })
}

// -- TestRace: three goroutines hand x from 1 to 2 to 3 through Signal and
// Wait; each checks the value it wakes up to. Go runs it once, under the race
// detector; here one run is one interleaving of real threads, so it runs
// RACE_RUNS times. ----------------------------------------------------------

const RACE_RUNS = 50

async function hostGet(x: Chan<number>): Promise<number> {
  const v = (await x.recv())!
  await x.send(v)
  return v
}

async function hostSet(x: Chan<number>, v: number): Promise<void> {
  await x.recv()
  await x.send(v)
}

async function hostRace1(c: Cond, x: Chan<number>, done: Chan<string>): Promise<void> {
  let err = ''
  await c.L.lock()
  await hostSet(x, 1)
  await c.wait()
  if ((await hostGet(x)) !== 2) err = 'want 2'
  await hostSet(x, 3)
  c.signal()
  c.L.unlock()
  await done.send(err)
}

async function hostRace2(c: Cond, x: Chan<number>, done: Chan<string>): Promise<void> {
  await c.L.lock()
  for (;;) {
    if ((await hostGet(x)) === 1) {
      await hostSet(x, 2)
      c.signal()
      break
    }
    c.L.unlock()
    await gosched()
    await c.L.lock()
  }
  c.L.unlock()
  await done.send('')
}

async function hostRace3(c: Cond, x: Chan<number>, done: Chan<string>): Promise<void> {
  let err = ''
  await c.L.lock()
  for (;;) {
    const v = await hostGet(x)
    if (v === 2) {
      await c.wait()
      if ((await hostGet(x)) !== 3) err = 'want 3'
      break
    }
    if (v === 3) break
    c.L.unlock()
    await gosched()
    await c.L.lock()
  }
  c.L.unlock()
  await done.send(err)
}

/** A fresh Cond and cell x (holding 0) for one run of TestRace. */
async function raceObjects(): Promise<{ c: Cond; x: Chan<number>; done: Chan<string> }> {
  const c = new Cond(new Mutex())
  const x = chan<number>(1)
  await x.send(0)
  return { c, x, done: chan<string>() }
}

function raceState(cur: { run: number; c?: Cond; x?: Chan<number> }): () => unknown {
  return () => ({ run: cur.run, mutexLocked: cur.c?.L.locked(), xBuffered: cur.x?.len() })
}

for (const procs of PROCS) {
  test.serial(`TestRace at procs ${procs}, body in a goroutine (${RACE_RUNS} runs)`, async (t) => {
    seeded(t) // the schedule is the OS's; the seed is logged for uniformity only
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const cur: { run: number; c?: Cond; x?: Chan<number> } = { run: 0 }
      state.objects = raceState(cur)
      const before = started(rt)
      const errors: string[] = [] // Go's t.Error: reported, the test goes on
      for (let r = 0; r < RACE_RUNS; r++) {
        const { c, x, done } = await raceObjects()
        Object.assign(cur, { run: r, c, x })
        for (const e of await rt.run(condgo.race, c, x, done)) errors.push(`run ${r}: ${e}`)
      }
      t.deepEqual(errors, [])
      t.log(`goroutines started per M: ${spread(rt, before)}`)
    })
  })

  test.serial(`TestRace at procs ${procs}, body on the app's thread (${RACE_RUNS} runs)`, async (t) => {
    const rnd = seeded(t)
    await withRuntime(t, procs, WATCHDOG_MS, async (rt, state) => {
      const cur: { run: number; c?: Cond; x?: Chan<number> } = { run: 0 }
      state.objects = raceState(cur)
      const before = started(rt)
      const onApp = { n: 0 }
      const errors: string[] = [] // Go's t.Error: reported, the test goes on
      for (let r = 0; r < RACE_RUNS; r++) {
        const { c, x, done } = await raceObjects()
        Object.assign(cur, { run: r, c, x })
        const gs = [
          start(rnd, onApp, () => hostRace1(c, x, done), () => rt.run(condgo.race1, c, x, done)),
          start(rnd, onApp, () => hostRace2(c, x, done), () => rt.run(condgo.race2, c, x, done)),
          start(rnd, onApp, () => hostRace3(c, x, done), () => rt.run(condgo.race3, c, x, done)),
        ]
        const errs: string[] = []
        for (let i = 0; i < 3; i++) {
          const e = (await done.recv())!
          if (e !== '') errs.push(e)
        }
        await Promise.all(gs)
        for (const e of errs) errors.push(`run ${r}: ${e}`)
      }
      t.deepEqual(errors, [])
      t.log(`${onApp.n} of ${3 * RACE_RUNS} goroutines on the app's thread; goroutines started per M: ${spread(rt, before)}`)
    })
  })
}
