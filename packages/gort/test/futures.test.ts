// Blocking operations are Futures (ops.ts): yield* in a goroutine, await on
// the app's thread. The face that cannot work where a value was made fails
// with a TypeError naming the call, and the operation does not run.

import test from 'ava'
import { Mutex, Runtime, WaitGroup, chan, select, sleep, type Future } from 'gort'
import { futures } from './fixtures/futures.js'
import { watcher } from './helpers.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

/** Runs fn; if it hangs (an operation that ran and blocked), fails after 20 s with the runtime's state and dump. */
const watched = watcher(() => rt)

test.serial('in a goroutine, `await c.send(42)` in an async helper rejects with a TypeError and sends nothing', async (t) => {
  const [message, len] = await watched(t, () => rt.run(futures.awaitSend))
  t.regex(message, /^ch\.send\(v\) was awaited inside a goroutine: use yield\* ch\.send\(v\) there/)
  t.is(len, 0, 'nothing was sent')
  const [m2, len2] = await watched(t, () => rt.run(futures.untilFuture))
  t.regex(m2, /^ch\.send\(v\) was awaited inside a goroutine/, 'yield* until(ch.send(v)) awaits it: the same error')
  t.is(len2, 0)
})

test.serial('every blocking operation awaited inside a goroutine rejects, naming the call, and has no effect', async (t) => {
  const out = await watched(t, () => rt.run(futures.awaitEach))
  const want: Array<[string, string, unknown]> = [
    ['send', 'ch.send(v)', 0],
    ['recv', 'ch.recv()', 1],
    ['recvOk', 'ch.recvOk()', 1],
    ['select', 'select(cases)', 1],
    ['nil recv', 'ch.recv()', null],
    ['wg.wait', 'wg.wait()', 1],
    ['mu.lock', 'mu.lock()', false],
    ['rw.lock', 'rw.lock()', true], // free: tryLock took it
    ['sem.acquire', 'sem.acquire(n)', true],
    ['once.do', 'once.do(f)', false],
    ['cond.wait', 'cond.wait()', true], // its Mutex was never unlocked
    ['sleep', 'sleep(ms)', null],
  ]
  t.is(out.length, want.length)
  for (const [i, [op, call, effect]] of want.entries()) {
    t.is(out[i].op, op)
    t.is(out[i].error, `TypeError: ${call} was awaited inside a goroutine: use yield* ${call} there; ` +
      'await works only on the app\'s thread (an async function cannot make a goroutine wait: the operation did not run)', op)
    t.deepEqual(out[i].effect, effect, `${op}: its effect`)
  }
})

test.serial('on the app\'s thread, yield* of a Future throws a TypeError naming the call; await works', async (t) => {
  const c = chan<number>(2)
  const mu = new Mutex()
  const wg = new WaitGroup()
  const cases: Array<[string, () => Future<unknown>]> = [
    ['ch.send(v)', () => c.send(1)],
    ['ch.send(v)', () => c.send(2)],
    ['ch.recv()', () => c.recv()],
    ['ch.recvOk()', () => c.recvOk()],
    ['select(cases)', () => select([c.recvCase()], { default: true })],
    ['mu.lock()', () => mu.lock()],
    ['wg.wait()', () => wg.wait()],
    ['sleep(ms)', () => sleep(1)],
  ]
  for (const [call, make] of cases) {
    const f = make()
    function* user(): Generator<unknown, unknown> {
      return yield* f
    }
    t.throws(() => user().next(), {
      instanceOf: TypeError,
      message: `${call} was run with yield* on the app's thread, which runs no goroutine: await it there (yield* works inside goroutines)`,
    })
    await f // the promise face still works
  }
  mu.unlock()
  t.is(c.len(), 0, 'the sends and the receives all ran, once each')
})
