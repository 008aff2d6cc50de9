// Timers: sleep, after, select timeouts, stop/reset, tickers, fairness.
// Times are checked only as lower bounds (a timer never fires early).

import test from 'ava'
import { Runtime, after, chan, select, sleep } from 'gort'
import { timers } from './fixtures/timers.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 1 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('sleep pauses a goroutine at least ms; after() wins a select against a silent channel', async (t) => {
  t.true((await rt.run(timers.sleeps, 30)) >= 29)
  t.is(await rt.run(timers.timeout, 10), 1)
})

test.serial('Go\'s TestAfterQueuing: timers fire in order of their delays', async (t) => {
  // Go's slots [2, 1, 3, 4, 0], and like Go's test, tried again with a
  // longer delta (Go: 20, 40, 80 ms) when a loaded machine reorders them.
  let got: number[] = []
  let want: number[] = []
  for (const delta of [40, 80, 160]) {
    const delays = [2, 1, 3, 4, 0].map((x) => x * delta)
    want = [...delays].sort((a, b) => a - b)
    got = await rt.run(timers.afterQueuing, delays)
    if (got.join() === want.join()) break
    t.log(`delta ${delta} ms: fired in order ${got.join(', ')}; trying a longer delta`)
  }
  t.deepEqual(got, want)
})

test.serial('Timer stop and reset', async (t) => {
  t.deepEqual(await rt.run(timers.stopReset), [true, -1, true, false])
})

test.serial('a ticker ticks every period until stopped, then never again', async (t) => {
  const t0 = Date.now()
  const { stamps, afterStop } = await rt.run(timers.ticks, 5, 4)
  t.is(stamps.length, 4)
  t.true(stamps[0] >= t0 + 4, `first tick ${stamps[0] - t0} ms after the start`)
  for (let i = 1; i < stamps.length; i++) {
    // A tick carries Date.now() when it fired; periods are never shorter (1 ms: Date.now()'s rounding).
    t.true(stamps[i] - stamps[i - 1] >= 4, `ticks ${i - 1} and ${i}: ${stamps[i] - stamps[i - 1]} ms apart`)
  }
  t.is(afterStop, -1, 'no tick after stop()')
})

test.serial('Go\'s TestTimerFairness: a timer fires while channel traffic keeps the P busy', async (t) => {
  // The traffic stops by itself after 5 s: a timer starved by it shows as
  // fired false (or late), not as a hung test.
  const r = await rt.run(timers.fairness, 20, 5000)
  t.log(`fired after ${r.firedAfterMs.toFixed(1)} ms, ${r.rounds} round trips meanwhile`)
  t.true(r.fired, 'the timer fired while the traffic ran')
  t.true(r.firedAfterMs >= 19 && r.firedAfterMs < 2500, `fired after ${r.firedAfterMs} ms (timer: 20 ms)`)
  t.true(r.rounds >= 10, `the traffic ran meanwhile: ${r.rounds} round trips`)
})

test.serial('on the app\'s thread: sleep and after', async (t) => {
  const t0 = performance.now()
  await sleep(15)
  t.true(performance.now() - t0 >= 14)
  const r = await select([chan<number>().recvCase(), after(5).recvCase()])
  t.is(r.index, 1)
  t.is(typeof r.value, 'number')
  t.throws(() => sleep('x' as never), { instanceOf: TypeError, message: /ms must be a number/ })
})
