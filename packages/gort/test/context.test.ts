// context: cancellation across Ms and the app's thread, deadlines.

import test from 'ava'
import { Runtime, background, withCancel, withTimeout, Canceled, DeadlineExceeded } from 'gort'
import { ctxs } from './fixtures/ctxs.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('cancelling a parent on the app\'s thread cancels goroutines waiting on it and children derived on the Ms', async (t) => {
  const [ctx, cancel] = withCancel(background())
  t.is(ctx.err(), null)
  const waiters = Array.from({ length: 6 }, () => rt.run(ctxs.waitDone, ctx))
  const children = Array.from({ length: 6 }, () => rt.run(ctxs.childWait, ctx))
  await new Promise((r) => setTimeout(r, 20))
  cancel()
  t.deepEqual(await Promise.all(waiters), Array(6).fill('context canceled'))
  t.deepEqual(await Promise.all(children), Array(6).fill('0 context canceled'))
  t.is(ctx.err(), Canceled)
  cancel() // again: nothing
  const [late] = withCancel(ctx)
  t.is(late.err(), Canceled, 'a child of a cancelled parent starts cancelled')
})

test.serial('withTimeout: the deadline cancels with DeadlineExceeded, in a goroutine and on the app\'s thread', async (t) => {
  t.is(await rt.run(ctxs.timeout, 10), 'context deadline exceeded')
  const [ctx, cancel] = withTimeout(background(), 10)
  t.true(ctx.deadline()! <= Date.now() + 10)
  await ctx.done().recv()
  t.is(ctx.err(), DeadlineExceeded)
  cancel()
  t.is(ctx.err(), DeadlineExceeded)
  t.is(background().err(), null)
  t.throws(() => withCancel({} as never), { instanceOf: TypeError })
})
