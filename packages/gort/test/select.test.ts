// select: Go's semantics on one M and on the app's thread.

import test from 'ava'
import { Runtime, chan, select } from 'gort'
import { selects } from './fixtures/selects.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('Go\'s TestSelectFairness: two ready cases are chosen about equally', async (t) => {
  const trials = 10_000
  const [a, b] = await rt.run(selects.fairness, trials)
  t.is(a + b, trials)
  // Go's bound: each case within 2.5% of n/2 over 10,000 trials is ~5 sigma.
  t.true(Math.abs(a - trials / 2) < 0.05 * trials, `counts ${a} ${b}`)
})

test.serial('a blocked select wakes on the one case that fires and leaves no waiter on the others', async (t) => {
  t.deepEqual(await rt.run(selects.blocking), [1, 'from b', true, 'a again'])
})

test.serial('send cases, default, closed channels', async (t) => {
  t.deepEqual(await rt.run(selects.sendCase), [0, false, 7], 'a send case reports ok false, as Go\'s recvOK, also when it parked')
  t.deepEqual(await rt.run(selects.defaults), [-1, -1, [0, 5, true], [0, undefined, false]])
  t.is(await rt.run(selects.sendOnClosed), 'send on closed channel')
  t.deepEqual(await rt.run(selects.closeWakes), [0, undefined, false])
})

test.serial('Go\'s TestSelectDuplicateChannel: the same channel in two cases', async (t) => {
  t.deepEqual(await rt.run(selects.duplicate), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
})

test.serial('select on the app\'s thread', async (t) => {
  const a = chan<number>()
  const b = chan<number>(1)
  const pending = select([a.recvCase(), b.recvCase()])
  await b.send(9)
  t.deepEqual(await pending, { index: 1, value: 9, ok: true })
  t.deepEqual(await select([a.recvCase()], { default: true }), { index: -1, value: undefined, ok: false })
  t.throws(() => select([{} as never]), { instanceOf: TypeError, message: /case 0/ })
})
