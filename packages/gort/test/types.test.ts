// The public types tell the truth. This file is compiled by
// tsconfig.test.json: the expectType lines and the @ts-expect-error lines
// make `pnpm build:test` fail when a type stops saying what the runtime
// does. The tests run the same shapes to show the runtime agrees.

import test from 'ava'
import {
  Runtime, chan, gosched, nilChan, select, sleep, until,
  type Chan, type DefaultResult, type Future, type Operation, type RecvResult, type SendResult,
} from 'gort'
import { typed } from './fixtures/typed.js'
import { watcher } from './helpers.js'
import { expectType, type Equal } from './typecheck.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

/** Runs fn; if it hangs (an operation that ran and blocked), fails after 20 s with the runtime's state and dump. */
const watched = watcher(() => rt)

// Types only: never called.
function* typesInAGoroutine(a: Chan<number>, b: Chan<string>): Generator<unknown, void> {
  const r = yield* select([a.recvCase(), b.recvCase()])
  expectType<Equal<typeof r, RecvResult<0, number> | RecvResult<1, string>>>()
  if (r.index === 0) {
    // @ts-expect-error before ok is checked the value may be undefined (a closed channel)
    const n: number = r.value
    void n
  }
  // @ts-expect-error there is no case 2
  if (r.index === 2) return
  // @ts-expect-error no default: the index is never -1
  if (r.index === -1) return

  const d = yield* select([a.recvCase()], { default: true })
  expectType<Equal<typeof d, RecvResult<0, number> | DefaultResult>>()

  const s = yield* select([a.sendCase(1), b.recvCase()])
  expectType<Equal<typeof s, SendResult<0> | RecvResult<1, string>>>()
  // @ts-expect-error a send case's value must have the channel's element type
  select([a.sendCase('one')])

  // Cases built as an array (not a tuple literal): index is a number.
  const many = [a.recvCase(), a.recvCase()]
  const m = yield* select(many)
  expectType<Equal<typeof m, RecvResult<number, number>>>()

  // A case written by hand types the same as one from recvCase().
  const h = yield* select([{ chan: b, send: false }, { chan: null, send: false }])
  if (h.index === 0 && h.ok) expectType<Equal<typeof h.value, string>>()

  // select([]) never returns.
  const forever = select([])
  expectType<Equal<typeof forever, Future<never>>>()

  // Futures and Operations.
  expectType<Equal<ReturnType<Chan<number>['send']>, Future<void>>>()
  expectType<Equal<ReturnType<Chan<number>['recv']>, Future<number | undefined>>>()
  expectType<Equal<ReturnType<typeof sleep>, Future<void>>>()
  expectType<Equal<ReturnType<typeof gosched>, Operation<void>>>()
  const v = yield* until(Promise.resolve(3))
  expectType<Equal<typeof v, number>>()
  // @ts-expect-error gosched() is an Operation: only yield* runs it, it has no then
  void gosched().then
  const nv = yield* nilChan<string>().recv()
  expectType<Equal<typeof nv, string | undefined>>()
}
void typesInAGoroutine

test.serial('select over channels of different element types: each value arrives as its case\'s type', async (t) => {
  const nums = chan<number>(4)
  const names = chan<string>(4)
  await nums.send(1.5)
  await names.send('ada')
  names.close()
  const out = await watched(t, () => rt.run(typed.mixed, nums, names, 3))
  // The order of the three ready cases is random; the set is not.
  t.deepEqual([...out].sort(), ['closed 1', 'number:number:1.5', 'string:string:ADA'].sort())
})

test.serial('select with a send case and a default: the send reports index 0, ok false; then the default fires', async (t) => {
  const flags = chan<boolean>(1)
  t.deepEqual(await watched(t, () => rt.run(typed.sendOrDefault, flags)), [[0, false], [-1, false]])
  t.is(await flags.recv(), true)
})

test.serial('select on the app\'s thread narrows the same way', async (t) => {
  const a = chan<number>(1)
  const b = chan<string>(1)
  await b.send('x')
  const r = await select([a.recvCase(), b.recvCase()])
  expectType<Equal<typeof r, RecvResult<0, number> | RecvResult<1, string>>>()
  t.is(r.index, 1)
  if (r.index === 1 && r.ok) t.is(r.value.length, 1)
  else t.fail(`expected case 1 with a value, got ${JSON.stringify(r)}`)
  const d = await select([a.recvCase()], { default: true })
  t.deepEqual(d, { index: -1, value: undefined, ok: false })
})

test.serial('recvOk narrows by ok; goroutines calling siblings type as the README says', async (t) => {
  const c = chan<number>(1)
  await c.send(41)
  const got = await watched(t, () => rt.run(typed.recvOkNarrows, c))
  expectType<Equal<typeof got, number>>()
  t.is(got, 42)
  c.close()
  t.is(await rt.run(typed.recvOkNarrows, c), -1)
  const s = await rt.run(typed.callsSibling, 4)
  expectType<Equal<typeof s, string>>()
  t.is(s, 'n=8!')
  t.is(await rt.run(typed.spawnsSibling, 2), 2)
})

test('select rejects what is not a case, naming it', (t) => {
  t.throws(() => select([{ chan: 5, send: false } as never]), { instanceOf: TypeError, message: 'select: case 0\'s chan is not a channel (a number); use ch.sendCase(v) or ch.recvCase()' })
  t.throws(() => select('x' as never), { instanceOf: TypeError, message: /expected an array of cases/ })
  t.throws(() => select([], 1 as never), { instanceOf: TypeError, message: 'select: options must be an object ({ default: true }), got 1' })
})
