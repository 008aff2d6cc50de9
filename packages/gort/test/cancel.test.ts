// Goroutine.cancel (cancel.ts): the reason is thrown in at the goroutine's
// next safe point and its finally blocks run; a goroutine that never started
// never runs; one parked in sleep() or until() is woken with it; one parked
// on a channel takes it after its operation (no value lost); one that never
// reaches a safe point has its M terminated after the grace period, and only
// the goroutines of that M fail.

import test from 'ava'
import { chan, GoroutineCanceled, Runtime, type Chan } from 'gort'
import { cancels } from './fixtures/cancels.js'
import { withRuntime } from './helpers.js'

const modules = [new URL('./fixtures/cancels.js', import.meta.url).href]

/** The next n events from a fixture goroutine. */
async function next(events: Chan<string>, n = 1): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push((await events.recv()) as string)
  return out
}

test('a yielding goroutine gets the reason thrown in at its next yield; its finally runs; its result rejects with the reason', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt, state) => {
    const events = chan<string>(4, { runtime: rt })
    state.events = () => events.len()
    const g = rt.go(cancels.spinYield, events)
    t.deepEqual(await next(events), ['started'])
    const reason = new Error('stop now')
    t.true(g.cancel(reason))
    t.false(g.cancel(new Error('again')), 'a second request is refused')
    const err = await t.throwsAsync(g.result)
    t.is(err?.message, 'stop now')
    t.deepEqual(await next(events), ['finally after yields'])
    t.false(g.cancel(), 'a finished goroutine cannot be cancelled')
  }, { modules })
})

test('gosched() is a safe point too; with no reason the goroutine gets a GoroutineCanceled, the same class on the app\'s thread', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    const events = chan<string>(4, { runtime: rt })
    const g = rt.go(cancels.spinGosched, events)
    await next(events)
    g.cancel()
    const err = await t.throwsAsync(g.result)
    t.true(err instanceof GoroutineCanceled, String(err))
    t.is(err?.message, 'goroutine canceled')
    t.deepEqual(await next(events), ['finally'])
  }, { modules })
})

test('a goroutine parked in sleep() or until() is woken with the reason at once', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    const events = chan<string>(8, { runtime: rt })
    const s = rt.go(cancels.sleeper, events, 60_000)
    const a = rt.go(cancels.awaiter, events)
    t.deepEqual((await next(events, 2)).sort(), ['started', 'started'])
    // Give both time to park.
    await new Promise((r) => setTimeout(r, 50))
    const t0 = performance.now()
    s.cancel(new Error('no more sleep'))
    a.cancel(new Error('no more waiting'))
    t.is((await t.throwsAsync(s.result))?.message, 'no more sleep')
    t.is((await t.throwsAsync(a.result))?.message, 'no more waiting')
    t.log(`both rejected ${(performance.now() - t0).toFixed(1)} ms after the requests`)
    t.deepEqual(await next(events, 2), ['finally', 'finally'])
    t.is(rt.numGoroutine(), 0)
  }, { modules })
})

test('a timer that a cancelled goroutine\'s finally block starts a few promise hops later fires while its M idles', async (t) => {
  // The M has nothing left to run and parks. It used to decide how to sleep
  // before those promise hops ran: no timer of its event loop yet, so it
  // slept blocked, and the timer fired when the M next woke for its own
  // look (every 250 ms, IDLE_GC_MS) or later. Liveness, with a margin of
  // hundreds of ms over a 0 ms timer's own lag: the timer must come before
  // the app's 200 ms one, every time.
  await withRuntime(t, 1, 20_000, async (rt) => {
    const lags: number[] = []
    for (let i = 0; i < 3; i++) {
      const events = chan<string>(4, { runtime: rt })
      const g = rt.go(cancels.leavesTimer, events)
      await next(events)
      // Let the M park on the until (asynchronously: a promise is pending).
      await new Promise((r) => setTimeout(r, 20))
      const fired = new Promise<string>((resolve) => rt.once('message', (msg) => resolve(String(msg))))
      const t0 = performance.now()
      g.cancel(new Error('done waiting'))
      t.is((await t.throwsAsync(g.result))?.message, 'done waiting')
      const first = await Promise.race([fired, new Promise<string>((r) => setTimeout(() => r('the app\'s 200 ms timer'), 200))])
      lags.push(performance.now() - t0)
      t.is(first, 'timer fired')
      await fired
    }
    t.log(`the timer's message came ${lags.map((x) => x.toFixed(1)).join(', ')} ms after the cancel`)
  }, { modules })
})

test('a goroutine cancelled before it starts never runs', async (t) => {
  await withRuntime(t, 1, 20_000, async (rt) => {
    const events = chan<string>(4, { runtime: rt })
    // One P, held by a hog: the second goroutine waits in the run queue.
    const hog = rt.go(cancels.hog, events, 300)
    await next(events)
    const waiting = rt.go(cancels.spinYield, events)
    t.true(waiting.cancel(new Error('never mind')))
    t.is((await t.throwsAsync(waiting.result))?.message, 'never mind')
    t.is(await hog.result, 'hog done')
    t.is(events.len(), 0, 'spinYield never sent "started"')
    // No runaway retake: after runawayMs of the hog without a safe point,
    // sysmon would hand the P (and the queued spinYield) to the spare M,
    // which could start it between rt.go and cancel on a loaded machine.
  }, { modules, runawayMs: 60_000 })
})

test('a goroutine parked on a channel takes the request only after its operation: the value it received is not lost', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    const events = chan<string>(8, { runtime: rt })
    const c = chan<number>(0, { runtime: rt })
    const g = rt.go(cancels.receiver, events, c)
    await next(events)
    await new Promise((r) => setTimeout(r, 20))
    g.cancel(new Error('after the value'))
    await c.send(42)
    t.is((await t.throwsAsync(g.result))?.message, 'after the value')
    t.deepEqual(await next(events, 2), ['got 42', 'finally'])
  }, { modules })
})

test('a goroutine may catch the cancellation and return a value (cooperative, like a context)', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    const events = chan<string>(4, { runtime: rt })
    const g = rt.go(cancels.catcher, events)
    await next(events)
    g.cancel(new RangeError('enough'))
    t.is(await g.result, 'caught RangeError: enough')
  }, { modules })
})

test('a goroutine that never reaches a safe point: after graceMs its M is terminated, it fails naming the cause, and a new M takes over', async (t) => {
  const rt = await Runtime.start({ procs: 2, modules })
  try {
    const events = chan<string>(4, { runtime: rt })
    const g = rt.go(cancels.hog, events, 60_000)
    await next(events)
    const before = rt.stats().ms.length
    const t0 = performance.now()
    t.true(g.cancel(new Error('hog aborted'), { graceMs: 100 }))
    const err = await t.throwsAsync(g.result)
    const ms = performance.now() - t0
    t.log(`rejected after ${ms.toFixed(0)} ms: ${err?.message}`)
    t.regex(err?.message ?? '', /was cancelled and reached no safe point within 100 ms/)
    t.true(ms >= 90, `not before the grace period (${ms} ms)`)
    // The runtime goes on: new goroutines run, on a replacement M.
    const vals = await Promise.all(Array.from({ length: 20 }, (_, i) => rt.run(cancels.quick, i)))
    t.deepEqual(vals, Array.from({ length: 20 }, (_, i) => i))
    t.true(rt.stats().ms.length >= before - 1)
  } finally {
    t.deepEqual(await rt.close(), { left: 0 })
  }
})

test('cancel() checks its options', async (t) => {
  await withRuntime(t, 1, 20_000, async (rt) => {
    const g = rt.go(cancels.quick, 1)
    t.throws(() => g.cancel(undefined, { graceMs: -1 }), { instanceOf: RangeError, message: /graceMs/ })
    t.throws(() => g.cancel(undefined, null as never), { instanceOf: TypeError, message: /options/ })
    t.is(await g.result, 1)
  }, { modules })
})

test('a channel of one runtime passed to a goroutine of another fails at the call site, naming the mistake', async (t) => {
  const a = await Runtime.start({ procs: 1, modules })
  const b = await Runtime.start({ procs: 1, modules })
  try {
    const events = chan<string>(1, { runtime: a })
    t.throws(() => b.go(cancels.spinYield, events), { instanceOf: TypeError, message: /belongs to another runtime/ })
    await t.throwsAsync(b.run(cancels.spinYield, events), { instanceOf: TypeError, message: /belongs to another runtime/ })
  } finally {
    await a.close()
    await b.close()
  }
})
