// Errors recognisable across threads (issue 12, contract item 9): gort's
// sentinels and classes and the user's registered ones decode to the same
// objects or classes on the app's thread and inside goroutines on other
// Ms; other errors arrive whole (name, message, stack, cause, own
// properties, an AggregateError's errors).

import test from 'ava'
import { Runtime, chan, Canceled, DeadlineExceeded, FatalError } from 'gort'
import { errs, recognised, makeErr, NotFoundError, ErrClosed, type ErrKind } from './fixtures/errs.js'
import { withWatchdog } from './helpers.js'

const KINDS: ErrKind[] = ['canceled', 'deadline', 'fatal', 'notfound', 'gone', 'closed', 'onlyOnMs', 'unregistered', 'aggregate']

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

const watch = <T>(t: Parameters<typeof withWatchdog>[0], fn: () => Promise<T>): Promise<T> =>
  withWatchdog(t, 30_000, () => JSON.stringify(rt.stats()), () => [], fn)

test.serial('a goroutine\'s timed-out context reaches the app as DeadlineExceeded itself, returned or thrown', async (t) => {
  await watch(t, async () => {
    const e = await rt.run(errs.timeout, 5)
    t.is(e, DeadlineExceeded)
    t.is(await t.throwsAsync(rt.run(errs.fail, 'deadline')), DeadlineExceeded)
    t.is(await t.throwsAsync(rt.run(errs.fail, 'canceled')), Canceled)
    t.false('goid' in DeadlineExceeded, 'a shared sentinel is not tagged with a goroutine id')
  })
})

test.serial('every kind, thrown on an M, is recognised on the app\'s thread; returned, too', async (t) => {
  await watch(t, async () => {
    for (const k of KINDS) {
      const thrown = await rt.run(errs.fail, k).then(() => undefined, (e: unknown) => e)
      t.true(recognised(k, thrown), `${k} thrown: ${String(thrown)}`)
      t.true(recognised(k, await rt.run(errs.give, k)), `${k} returned`)
    }
    const e = await t.throwsAsync(rt.run(errs.fail, 'notfound'), { instanceOf: NotFoundError })
    t.is(typeof (e as unknown as { goid: unknown }).goid, 'number', 'a registered class\'s instance carries its goroutine id')
    t.true(await t.throwsAsync(rt.run(errs.fail, 'fatal')) instanceof FatalError)
  })
})

test.serial('every kind the app passes is recognised inside a goroutine on an M', async (t) => {
  await watch(t, async () => {
    for (const k of KINDS) {
      if (k === 'onlyOnMs') continue // the app's thread has no class of that name to send
      t.true(await rt.run(errs.check, k, makeErr(k)), k)
    }
    t.true(await rt.run(errs.check, 'closed', ErrClosed))
  })
})

test.serial('every kind sent over a channel from a goroutine on one M is recognised by a goroutine on another M', async (t) => {
  await watch(t, async () => {
    let crossed = 0
    for (let round = 0; round < 50 && crossed < 3; round++) {
      const c = chan<[number, ErrKind, Error]>(0)
      const got = rt.run(errs.consume, KINDS.length, c)
      await rt.run(errs.produce, KINDS, c)
      const rows = await got
      t.is(rows.length, KINDS.length)
      rows.forEach(([, , ok], i) => t.true(ok, `round ${round}: ${KINDS[i]}`))
      if (rows[0][0] !== rows[0][1]) crossed++
    }
    t.log(`${crossed} rounds crossed between Ms`)
    t.true(crossed >= 1, 'producer and consumer ran on different Ms at least once')
  })
})
