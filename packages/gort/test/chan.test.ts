// Channels: Go's semantics inside goroutines (on one M) and on the app's
// thread. Cross-M tests come with channel handles as goroutine arguments.

import test from 'ava'
import { Runtime, chan } from 'gort'
import { chans } from './fixtures/chans.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('Go\'s TestChan (capacities 0 to 20): order, len, cap, close drains then reports !ok, close wakes receivers', async (t) => {
  t.deepEqual(await rt.run(chans.testChan, 20, 100), [])
})

test.serial('close wakes every blocked sender with "send on closed channel"', async (t) => {
  const out = await rt.run(chans.closeWakesSenders, 10)
  t.deepEqual(out, Array(10).fill('send on closed channel'))
})

test.serial('Go\'s messages for misuse: close of closed channel, send on closed channel', async (t) => {
  t.deepEqual(await rt.run(chans.misuse), ['close of closed channel', 'send on closed channel'])
  const c = chan<number>(1)
  c.close()
  t.throws(() => c.close(), { message: 'close of closed channel' })
  await t.throwsAsync(c.send(1), { message: 'send on closed channel' })
})

test.serial('values of every kind cross a channel intact; numbers inline', async (t) => {
  const vals = [1, -0, 2.5, NaN, 'str', '', true, false, null, { a: [1, 2] }, [3, 'x'], 10n ** 20n, new Uint8Array([1, 2, 3]), new Map([[1, 2]])]
  const out = await rt.run(chans.values, vals)
  t.deepEqual(out, [...vals, ...vals])
})

test.serial('unbuffered ping-pong on one M, 10,000 rounds', async (t) => {
  t.is(await rt.run(chans.pingpong, 10_000), 10_000)
})

test.serial('the app\'s thread: buffered FIFO, unbuffered hand-off between two promises, for await until close', async (t) => {
  const c = chan<string>(3)
  await c.send('a')
  await c.send('b')
  t.is(c.len(), 2)
  t.is(await c.recv(), 'a')
  t.deepEqual(await c.recvOk(), ['b', true])
  const u = chan<number>()
  const r = u.recv()
  await u.send(42)
  t.is(await r, 42)
  const s = chan<number>(0)
  const got: number[] = []
  const reader = (async () => {
    for await (const v of s) got.push(v)
  })()
  for (let i = 0; i < 5; i++) await s.send(i)
  s.close()
  await reader
  t.deepEqual(got, [0, 1, 2, 3, 4])
  t.deepEqual(await s.recvOk(), [undefined, false])
})

test.serial('bad input: capacity must be a non-negative integer; values that cannot be cloned throw DataCloneError', async (t) => {
  t.throws(() => chan(-1), { instanceOf: RangeError, message: /capacity/ })
  t.throws(() => chan(1.5), { instanceOf: RangeError, message: /capacity/ })
  const c = chan<unknown>(1)
  let e: unknown
  try {
    await c.send(() => 1)
  } catch (x) {
    e = x
  }
  t.is((e as DOMException).name, 'DataCloneError')
  t.is(c.len(), 0, 'nothing was queued')
})

import { nils } from './fixtures/chans.js'

test.serial('nil channels: never chosen by select, "close of nil channel", block forever (close() reports them)', async (t) => {
  t.deepEqual(await rt.run(nils.selectSkipsNil), [1, 3, -1, 0, 0])
  t.is(await rt.run(nils.closeNil), 'close of nil channel')
  const rt2 = await Runtime.start({ procs: 1 })
  void rt2.go(nils.blockOnNil).result.catch(() => {})
  await new Promise((r) => setTimeout(r, 20))
  t.deepEqual(await rt2.close(), { left: 1 })
})
