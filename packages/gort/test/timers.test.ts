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

test.serial('a ticker ticks until stopped', async (t) => {
  t.is(await rt.run(timers.ticks, 5, 4), 4)
})

test.serial('Go\'s TestTimerFairness: a timer fires while channel traffic keeps the P busy', async (t) => {
  const rounds = await rt.run(timers.fairness, 20)
  t.true(rounds > 0)
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
