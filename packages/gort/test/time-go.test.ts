// Go's time/sleep_test.go tests, ported: TestTimerStopStress and TestReset,
// inside goroutines on Ms (procs 2) and on the app's thread. Each asserts
// what the original asserts, with Go's durations.

import test from 'ava'
import { afterFunc, chan, newTimer, select, sleep, type Chan } from 'gort'
import { timergo } from './fixtures/timergo.js'
import { seeded, withRuntime } from './helpers.js'

/** Whether a channel that is only ever closed has been closed (non-blocking). */
async function isClosed(c: Chan<never>): Promise<boolean> {
  return (await select([c.recvCase()], { default: true })).index === 0
}

// TestTimerStopStress: 100 goroutines each start a 2 s AfterFunc timer,
// sleep 1 s and stop it; the test sleeps 3 s and no callback may have run.
const STRESS_N = 100
const FIRE_MS = 2000
const STOP_MS = 1000
const MAIN_MS = 3000

test.serial('TestTimerStopStress in goroutines on Ms: 2 × 100 timers stopped before they fire never fire', async (t) => {
  seeded(t) // the timing is the OS's; the seed is logged for uniformity only
  await withRuntime(t, 2, 30_000, async (rt) => {
    // Go's test body twice at once: once inside a goroutine, whose go()
    // puts the stoppers on its own P's queue (others may steal them), and
    // once on the app's thread, whose rt.run puts them on the global queue
    // for any M. Each stopper's timer lives on the M that runs it.
    const inner = Array.from({ length: STRESS_N }, () => chan<never>())
    const outer = Array.from({ length: STRESS_N }, () => chan<never>())
    const before = rt.stats().ms.map((m) => m.started)
    await Promise.all([
      rt.run(timergo.stopStress, inner, FIRE_MS, STOP_MS, MAIN_MS),
      (async () => {
        const stoppers = outer.map((f) => rt.run(timergo.stopStressOne, f, FIRE_MS, STOP_MS))
        // Awaited below; marked handled now so that a runtime destroyed by
        // the watchdog does not add unhandled rejections to the report.
        for (const s of stoppers) s.catch(() => {})
        await sleep(MAIN_MS)
        await Promise.all(stoppers)
      })(),
    ])
    const started = rt.stats().ms.map((m, i) => m.started - (before[i] ?? 0))
    t.log(`goroutines started per M: ${started.join(' ')}`)
    const notStopped: string[] = []
    for (const [name, fired] of [['goroutine', inner], ['app', outer]] as const) {
      for (let i = 0; i < STRESS_N; i++) {
        if (await isClosed(fired[i])) notStopped.push(`timer ${i} (started by the ${name}'s body) was not stopped`)
      }
    }
    t.deepEqual(notStopped, [])
    // Control: an AfterFunc timer on an M that is not stopped does report,
    // so the silence above means the timers were stopped.
    const control = chan<never>()
    await rt.run(timergo.afterFuncFires, control, 20)
    t.true(await isClosed(control), 'an unstopped AfterFunc timer fired on its M')
  })
})

test.serial('TestTimerStopStress on the app\'s thread: 100 timers stopped before they fire never fire', async (t) => {
  seeded(t) // the timing is the OS's; the seed is logged for uniformity only
  await withRuntime(t, 2, 30_000, async () => {
    const fired: number[] = []
    const stoppers = Array.from({ length: STRESS_N }, async (_, i) => {
      const timer = afterFunc(FIRE_MS, () => fired.push(i))
      await sleep(STOP_MS)
      timer.stop()
    })
    await sleep(MAIN_MS)
    await Promise.all(stoppers)
    t.deepEqual(fired.map((i) => `timer ${i} was not stopped`), [])
    let control = false
    afterFunc(20, () => {
      control = true
    })
    await sleep(60)
    t.true(control, 'an unstopped AfterFunc timer fired on the app\'s thread')
  })
})

// TestReset: Go's testReset at 25 ms, then 75, 175 and 375 ms if the
// machine was too slow, failing only if every duration fails.
const UNIT = 25
const TRIES = [1 * UNIT, 3 * UNIT, 7 * UNIT, 15 * UNIT]

test.serial('TestReset in a goroutine on an M: a timer reset before it fires fires at the new time', async (t) => {
  seeded(t) // the timing is the OS's; the seed is logged for uniformity only
  await withRuntime(t, 2, 30_000, async (rt) => {
    const { passed, err } = await rt.run(timergo.reset, TRIES)
    t.is(err, '')
    if (passed > 0) t.log(`passed using duration ${passed} ms`)
  })
})

/** Go's testReset(d) on the app's thread, step for step; '' when it passes. */
async function testReset(d: number): Promise<string> {
  const t0 = newTimer(2 * d)
  await sleep(d)
  if (!t0.reset(3 * d)) return 'resetting unfired timer returned false'
  await sleep(2 * d)
  if ((await select([t0.c.recvCase()], { default: true })).index === 0) return 'timer fired early'
  await sleep(2 * d)
  if ((await select([t0.c.recvCase()], { default: true })).index !== 0) return 'reset timer did not fire'
  if (t0.reset(50)) return 'resetting expired timer returned true'
  return ''
}

test.serial('TestReset on the app\'s thread: a timer reset before it fires fires at the new time', async (t) => {
  seeded(t) // the timing is the OS's; the seed is logged for uniformity only
  await withRuntime(t, 2, 30_000, async () => {
    let err = ''
    for (const d of TRIES) {
      err = await testReset(d)
      if (err === '') {
        t.log(`passed using duration ${d} ms`)
        break
      }
    }
    t.is(err, '')
  })
})
