// codec: values in the shared heap. Round trips of every kind, the block
// format's fast-path decisions, errors, uncloneable values, heap exhaustion,
// shared handles, a property test against structuredClone, and a real second
// thread.

import test, { type ExecutionContext } from 'ava'
import fc from 'fast-check'
import { isDeepStrictEqual, types } from 'node:util'
import vm from 'node:vm'
import { MessageChannel } from 'node:worker_threads'
import {
  CodecTag, FatalError, SharedHeap, decodeArgs, decodeValue, encodeArgs, encodeValue, freeValue, heapStats, malloc, free,
  kHandle, registerHandleKind, registerError,
} from 'gort/internal'
import { startFixture, withWatchdog } from './helpers.js'
import {
  TEST_HANDLE_KIND, TestHandle, agrees, decodedHandles, describeError, registerTestHandle, sampleErrors, sampleValues,
} from './fixtures/codec-values.js'
import type { CodecWorkerReport } from './fixtures/codec-worker.js'

registerTestHandle()

const heap = (arenaBytes = 1 << 22): SharedHeap =>
  SharedHeap.create({ maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 2, arenaBytes })

/** encode, decode, free. */
function roundTrip<T>(h: SharedHeap, v: T): T {
  const p = encodeValue(h, v)
  try {
    return decodeValue(h, p) as T
  } finally {
    freeValue(h, p)
  }
}

/** The tag of the item a block starts with. */
function tagOf(h: SharedHeap, v: unknown): number {
  const p = encodeValue(h, v)
  const tag = h.i32[p >> 2]
  freeValue(h, p)
  return tag
}

/** encodeArgs, decodeArgs, free. */
function decodeArgsOnce(h: SharedHeap, args: readonly unknown[]): unknown[] {
  const p = encodeArgs(h, args)
  try {
    return decodeArgs(h, p)
  } finally {
    freeValue(h, p)
  }
}

function noLeak(t: ExecutionContext, h: SharedHeap): void {
  const s = heapStats(h)
  t.is(s.inuseBytes, 0, 'arena bytes still in use')
  t.is(s.inuseBlocks, 0, 'arena blocks still in use')
}

/** The reference semantics: what structuredClone makes of v (see agrees). */
function sameAsClone(t: ExecutionContext, got: unknown, v: unknown, label = ''): void {
  t.true(agrees(got, v), `${label} came back as ${String(got)}`)
}

/** A DOMException is not a native error in Node 20, so t.throws needs `any`. */
function throwsDataCloneError(t: ExecutionContext, fn: () => unknown): DOMException {
  const e = t.throws(fn, { any: true, instanceOf: DOMException, name: 'DataCloneError' }) as DOMException
  t.is(e?.code, 25)
  return e ?? new DOMException('none')
}

test('numbers: int32, float64, -0, NaN, infinities', (t) => {
  const h = heap()
  const nums = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 0.1, -1.5, 2 ** 53, Number.EPSILON,
    Number.MIN_VALUE, Number.MAX_VALUE, NaN, Infinity, -Infinity]
  for (const n of nums) {
    t.true(Object.is(roundTrip(h, n), n), `${Object.is(n, -0) ? '-0' : n}`)
    t.true(Object.is(decodeArgsOnce(h, [n])[0], n))
  }
  t.is(tagOf(h, 5), CodecTag.INT32)
  t.is(tagOf(h, -0), CodecTag.FLOAT64)
  t.is(tagOf(h, 2 ** 31), CodecTag.FLOAT64)
  noLeak(t, h)
})

test('booleans, null, undefined (pointer 0)', (t) => {
  const h = heap()
  t.is(encodeValue(h, undefined), 0)
  t.is(decodeValue(h, 0), undefined)
  freeValue(h, 0)
  for (const v of [true, false, null]) t.is(roundTrip(h, v), v)
  t.deepEqual(decodeArgsOnce(h, [undefined]), [undefined])
  t.deepEqual(decodeArgsOnce(h, [undefined, null, true, false]), [undefined, null, true, false])
  noLeak(t, h)
})

test('bigints of any size and sign', (t) => {
  const h = heap()
  const bigs = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n - 1n, 2n ** 64n,
    -(2n ** 64n), 0xffffffffn, 0x100000000n, 2n ** 96n + 5n, 3n ** 5000n, -(7n ** 2000n) - 1n]
  for (const b of bigs) t.is(roundTrip(h, b), b, `${b}`)
  t.is(tagOf(h, 2n ** 63n - 1n), CodecTag.BIGINT64)
  t.is(tagOf(h, 2n ** 63n), CodecTag.BIGPOS)
  t.is(tagOf(h, -(2n ** 63n) - 1n), CodecTag.BIGNEG)
  noLeak(t, h)
})

test('strings: empty, lone surrogates, emoji, every length around the short/long thresholds, long', (t) => {
  const h = heap()
  const strs = ['', 'a', 'abc', '\uD800', '\uDFFF', 'a\uD800b\uDC00c', '\uDC00\uD800', '😀', '👍🏽', 'naïve café', '\u0000\uFFFF',
    'x'.repeat(1 << 16), '\uD83D'.repeat(10000)]
  for (let n = 0; n <= 40; n++) strs.push('é😀'.repeat(n).slice(0, n), 'q'.repeat(n) + '\uD800')
  for (const s of strs) {
    const back = roundTrip(h, s)
    t.is(back, s)
    t.is(back.length, s.length)
  }
  t.is(tagOf(h, 'abc'), CodecTag.STRING)
  noLeak(t, h)
})

test('argument lists: one block, 0 for none', (t) => {
  const h = heap()
  t.is(encodeArgs(h, []), 0)
  t.deepEqual(decodeArgs(h, 0), [])
  const args = [20, 'abc', true, null, undefined, 2n ** 70n, -0, { a: [1, 'b'] }, new Map([[1, 2]]), new Date(5)]
  const p = encodeArgs(h, args)
  t.is(h.i32[p >> 2], CodecTag.ARGS)
  t.is(h.i32[(p >> 2) + 1], args.length)
  t.is(heapStats(h).inuseBlocks, 1)
  const back = decodeArgs(h, p)
  t.true(isDeepStrictEqual(back, args))
  t.deepEqual(decodeArgs(h, p), back, 'decoding does not consume the block')
  freeValue(h, p)
  // Each argument is a clone of its own.
  const shared = { s: 1 }
  const [a, b] = decodeArgsOnce(h, [shared, shared]) as object[]
  t.deepEqual(a, shared)
  t.not(a, b)
  noLeak(t, h)
})

test('plain arrays and objects, nested, take the fast path', (t) => {
  const h = heap()
  const vals: unknown[] = [[], {}, [1, 'a', [2, [3n]], { x: null }], { a: 1, b: [1, 2], c: { d: undefined, e: -0 } },
    { 0: 'zero', 10: 'ten', z: 1, a: 2 }, { constructor: 1, toString: 'x', hasOwnProperty: null },
    { 'key with 😀': '\uD800' }, Array.from({ length: 300 }, (_, i) => i % 3 === 0 ? i : `s${i}`)]
  for (const v of vals) {
    const back = roundTrip(h, v)
    t.true(isDeepStrictEqual(back, v))
    t.deepEqual(Object.keys(back as object), Object.keys(v as object), 'key order')
  }
  t.is(tagOf(h, { a: 1, b: [1, 2] }), CodecTag.OBJECT)
  t.is(tagOf(h, [1, [2]]), CodecTag.ARRAY)
  t.is(tagOf(h, new Date(0)), CodecTag.DATE)
  t.is(tagOf(h, new Uint8Array(2)), CodecTag.VIEW)
  noLeak(t, h)
})

test('what the fast path leaves to V8: holes, extra properties, __proto__, sharing, cycles, classes, proxies', (t) => {
  const h = heap()
  const holes = [1, , 3]
  const extra = Object.assign([1, 2], { extra: 'x' })
  const match = 'abc'.match(/b/)!
  const proto = JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as object
  const shared = { s: [1] }
  const sharing = { a: shared, b: shared }
  const cycle: Record<string, unknown> = { name: 'c' }
  cycle.self = cycle
  class Point { constructor(readonly x: number, readonly y: number) {} }
  const nullProto = Object.assign(Object.create(null) as object, { a: 1 })
  const many = Array.from({ length: 64 }, () => Array.from({ length: 1024 }, (_, i) => [i])) // 2^16 + 65 objects
  const nest = (levels: number): unknown[] => {
    let a: unknown[] = [1]
    for (let i = 1; i < levels; i++) a = [a]
    return a
  }
  const deep = nest(257)
  const sharedDate = new Date(7)
  for (const v of [holes, extra, match, proto, sharing, cycle, new Point(1, 2), nullProto, many, new Map([[1, { m: 1 }]]),
    [sharedDate, sharedDate], Array.from({ length: 1025 }, (_, i) => i), deep]) {
    t.is(tagOf(h, v), CodecTag.V8)
    sameAsClone(t, roundTrip(h, v), v)
  }
  const back = roundTrip(h, holes)
  t.false(1 in back)
  const s = roundTrip(h, sharing)
  t.is(s.a, s.b)
  t.is(tagOf(h, many.slice(1)), CodecTag.ARRAY, 'a Set takes over the identity check past 32 objects')
  t.is(tagOf(h, Array.from({ length: 1024 }, (_, i) => i)), CodecTag.ARRAY)
  t.is(tagOf(h, nest(256)), CodecTag.ARRAY, '256 levels are still the fast path')
  t.deepEqual(roundTrip(h, nest(256)), nest(256))
  const forty = Array.from({ length: 40 }, (_, i) => ({ i }))
  forty.push(forty[3])
  t.is(tagOf(h, forty), CodecTag.V8)
  const f = roundTrip(h, forty)
  t.is(f[40], f[3])
  const dates = roundTrip(h, [sharedDate, sharedDate])
  t.is(dates[0], dates[1])
  const c = roundTrip(h, cycle)
  t.is(c.self, c)
  const pr = roundTrip(h, proto)
  t.deepEqual(Object.keys(pr), ['__proto__', 'b'])
  t.is(Object.getPrototypeOf(pr), Object.prototype)
  t.is(tagOf(h, [new Map()]), CodecTag.V8, 'a container holding a V8-only value goes whole')
  noLeak(t, h)
})

test('getters run once, re-entrant encoding works, a getter\'s exception propagates and leaks nothing', (t) => {
  const h = heap()
  let calls = 0
  let n = 1
  const mk = () => ({
    get s(): string {
      calls++
      return 'x'.repeat(n++ * 100) // longer at every read: a second read would overrun the block
    },
  })
  const back = roundTrip(h, { o: mk(), list: [mk()] })
  t.is(calls, 2)
  t.is(back.o.s.length, 100)
  t.is(back.list[0].s.length, 200)
  t.deepEqual(Object.getOwnPropertyDescriptor(back.o, 's'), { value: back.o.s, writable: true, enumerable: true, configurable: true })
  // A value the fast path gives up on (here: o reached twice) is read again,
  // by the search for handles and by V8.
  calls = 0
  const o = mk()
  const shared = roundTrip(h, { o, again: o })
  t.is(shared.o, shared.again)
  t.is(calls, 3)

  let inner: unknown
  const reentrant = {
    get x(): string {
      const p = encodeArgs(h, [1, 'inner', { deep: [2] }])
      inner = decodeArgs(h, p)
      freeValue(h, p)
      return 'outer'
    },
  }
  t.deepEqual(decodeArgsOnce(h, [reentrant, 'after']), [{ x: 'outer' }, 'after'])
  t.deepEqual(inner, [1, 'inner', { deep: [2] }])

  const throwing = { ok: 1, get bad(): never { throw new TypeError('getter failed') } }
  t.throws(() => encodeValue(h, throwing), { instanceOf: TypeError, message: 'getter failed' })
  t.throws(() => encodeArgs(h, ['a', new Map([[1, throwing]])]), { instanceOf: TypeError, message: 'getter failed' })
  t.deepEqual(roundTrip(h, [1, 'still works']), [1, 'still works'])
  noLeak(t, h)
})

test('typed arrays, DataView, Buffer, ArrayBuffer: copies of their own, not views of the shared heap', (t) => {
  const h = heap()
  const big = new ArrayBuffer(64)
  new Uint8Array(big).forEach((_, i, a) => { a[i] = i })
  const views: ArrayBufferView[] = [
    new Int8Array([-1, 2]), new Uint8Array([1, 2, 3]), new Uint8ClampedArray([255]), new Int16Array([-300]),
    new Uint16Array([65535]), new Int32Array([-(2 ** 31)]), new Uint32Array([2 ** 32 - 1]), new Float32Array([1.5]),
    new Float64Array([-0, NaN, Infinity]), new BigInt64Array([-(2n ** 63n)]), new BigUint64Array([2n ** 64n - 1n]),
    new DataView(big, 3, 5), Buffer.from('buffer'), new Int16Array(big, 6, 4), new Uint8Array(0),
  ]
  for (const wrap of [(v: unknown) => v, (v: unknown) => ({ v }), (v: unknown) => new Map([[0, v]])]) {
    for (const v of views) {
      const p = encodeValue(h, wrap(v))
      const got = decodeValue(h, p) as unknown
      const back = (got instanceof Map ? got.get(0) : (got as { v?: unknown }).v ?? got) as ArrayBufferView
      freeValue(h, p)
      // Overwrite the freed block: a view of the heap would change.
      const junk = encodeValue(h, 'J'.repeat(200))
      t.is(back.constructor, v.constructor, `${v.constructor.name}`)
      t.is(back.byteLength, v.byteLength)
      t.true(back.buffer instanceof ArrayBuffer && !(back.buffer instanceof SharedArrayBuffer))
      t.is(back.buffer.byteLength, v.byteLength, 'a buffer exactly its size')
      t.deepEqual(new Uint8Array(back.buffer, back.byteOffset, back.byteLength), new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      freeValue(h, junk)
    }
  }
  const ab = roundTrip(h, big)
  t.true(ab instanceof ArrayBuffer)
  t.deepEqual(new Uint8Array(ab), new Uint8Array(big))
  // One view reached twice stays one view (V8 keeps the sharing).
  const u = new Uint8Array([1])
  const twice = roundTrip(h, [u, u])
  t.is(twice[0], twice[1])
  noLeak(t, h)
})

test('Map, Set, Date, RegExp, boxed primitives go through V8', (t) => {
  const h = heap()
  const vals: unknown[] = [new Map<unknown, unknown>([[1, 'a'], [{ k: 1 }, [2n]]]), new Set([1, 'x', null]), new Date(1234567890123),
    new Date(NaN), /x+y/gimsuy, Object(1), Object('s'), Object(false), Object(2n), [new Set([new Map()])]]
  for (const v of vals) sameAsClone(t, roundTrip(h, v), v)
  noLeak(t, h)
})

test('errors keep their class, message, stack, name, code and own properties', (t) => {
  const h = heap()
  for (const C of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    const e = Object.assign(new C(`a ${C.name}`), { code: 'E_CODE', goid: 42, detail: { at: [1, 2] } })
    for (const back of [roundTrip(h, e), decodeArgsOnce(h, [1, e])[1] as Error, roundTrip(h, { wrapped: [e] }).wrapped[0]]) {
      t.is(back.constructor, C)
      t.true(back instanceof C)
      t.is(back.name, C.name)
      t.is(back.message, e.message)
      t.is(back.stack, e.stack)
      t.deepEqual(Object.keys(back), ['code', 'goid', 'detail'])
      t.is((back as typeof e).code, 'E_CODE')
      t.is((back as typeof e).goid, 42)
      t.deepEqual((back as typeof e).detail, { at: [1, 2] })
      t.false(Object.prototype.propertyIsEnumerable.call(back, 'message'))
      t.false(Object.prototype.propertyIsEnumerable.call(back, 'stack'))
      t.false('cause' in back)
    }
  }
  // A message-less error has no own message; a non-enumerable code still travels.
  const bare = new Error()
  Object.defineProperty(bare, 'code', { value: 'HIDDEN', enumerable: false })
  const b = roundTrip(h, bare)
  t.false(Object.prototype.hasOwnProperty.call(b, 'message'))
  t.is((b as Error & { code: string }).code, 'HIDDEN')
  noLeak(t, h)
})

test('error subclasses, custom names, AggregateError, DOMException, cross-realm errors', (t) => {
  const h = heap()
  class NotFound extends RangeError {
    status = 404
    constructor(m: string) {
      super(m)
      this.name = 'NotFound'
    }
  }
  const nf = roundTrip(h, new NotFound('missing'))
  t.true(nf instanceof RangeError)
  t.is(nf.name, 'NotFound')
  t.is(nf.status, 404)
  t.deepEqual(Object.keys(nf), ['status', 'name'])
  t.regex(nf.stack!, /^NotFound: missing/)

  class Quiet extends TypeError {}
  Object.defineProperty(Quiet.prototype, 'name', { value: 'Quiet' })
  const q = roundTrip(h, new Quiet('q'))
  t.true(q instanceof TypeError)
  t.is(q.name, 'Quiet')
  t.deepEqual(Object.keys(q), [])

  const agg = new AggregateError([new SyntaxError('one'), 'two', Object.assign(new Error('three'), { goid: 3 })], 'many')
  const a = roundTrip(h, agg)
  t.true(a instanceof AggregateError)
  t.is(a.message, 'many')
  t.is(a.errors.length, 3)
  t.true(a.errors[0] instanceof SyntaxError)
  t.is(a.errors[1], 'two')
  t.is(a.errors[2].goid, 3)
  t.false(Object.prototype.propertyIsEnumerable.call(a, 'errors'))

  for (const [m, name, code] of [['stopped', 'AbortError', 20], ['no', 'DataCloneError', 25], ['x', 'NotARealName', 0]] as const) {
    const d = new DOMException(m, name)
    const back = roundTrip(h, d)
    t.true(back instanceof DOMException)
    t.is(back.name, name)
    t.is(back.message, m)
    t.is(back.code, code)
    t.is(back.stack, d.stack)
  }

  const foreign = vm.runInNewContext('const e = new TypeError("from vm"); e.code = 7; e') as Error
  const f = roundTrip(h, foreign)
  t.true(f instanceof TypeError, 'the class by name, in this realm')
  t.is(f.message, 'from vm')
  t.is((f as Error & { code: number }).code, 7)
  noLeak(t, h)
})

test('error causes: errors, values, undefined, cycles; uncloneable parts are left out', (t) => {
  const h = heap()
  const inner = Object.assign(new TypeError('inner'), { goid: 1 })
  const e = new Error('outer', { cause: inner })
  const back = roundTrip(h, e)
  t.true(back.cause instanceof TypeError)
  t.is((back.cause as typeof inner).goid, 1)
  t.is((back.cause as Error).stack, inner.stack)
  t.false(Object.prototype.propertyIsEnumerable.call(back, 'cause'))

  t.deepEqual(roundTrip(h, new Error('v', { cause: { why: [1] } })).cause, { why: [1] })
  const u = roundTrip(h, new Error('u', { cause: undefined }))
  t.true('cause' in u)
  t.is(u.cause, undefined)

  const self = new Error('self')
  Object.assign(self, { again: self })
  self.cause = self
  const s = roundTrip(h, self) as Error & { again: Error }
  t.is(s.cause, s)
  t.is(s.again, s)

  const chain = Array.from({ length: 50 }, (_, i) => new Error(`e${i}`))
  for (let i = 0; i < 49; i++) chain[i].cause = chain[i + 1]
  let c = roundTrip(h, chain[0]) as Error
  for (let i = 0; i < 49; i++) c = c.cause as Error
  t.is(c.message, 'e49', 'a long cause chain arrives whole')

  const messy = Object.assign(new RangeError('messy', { cause: () => 1 }), { fn: () => 2, ok: 'kept', sym: Symbol('s') })
  const m = roundTrip(h, messy)
  t.is(m.message, 'messy')
  t.is(m.ok, 'kept')
  t.false('fn' in m)
  t.false('sym' in m)
  t.false('cause' in m)
  t.is(m.stack, messy.stack)
  noLeak(t, h)
})

test('registered error classes decode as instances of the class, without running its constructor', (t) => {
  const h = heap()
  let made = 0
  class StoreError extends TypeError {
    constructor(readonly shard: number, message: string) {
      super(message)
      made++
      this.name = 'StoreError'
    }

    where(): string {
      return `shard ${this.shard}`
    }
  }
  class ShardDown extends StoreError {}
  t.is(registerError(StoreError, { name: 'codec-test.StoreError' }), StoreError)
  const e = new StoreError(3, 'shard down')
  made = 0
  for (const back of [roundTrip(h, e), roundTrip(h, { in: [e] }).in[0], roundTrip(h, new Error('outer', { cause: e })).cause as StoreError]) {
    t.true(back instanceof StoreError)
    t.true(back instanceof TypeError)
    t.true(types.isNativeError(back), 'a real error object (it has V8\'s error internals)')
    t.is(back.where(), 'shard 3')
    t.is(back.name, 'StoreError')
    t.is(back.message, 'shard down')
    t.is(back.stack, e.stack)
  }
  t.is(made, 0, 'decoding does not run the constructor')
  // An unregistered subclass comes back as its nearest registered class.
  const sub = roundTrip(h, new ShardDown(4, 'down'))
  t.true(sub instanceof StoreError)
  t.false(sub instanceof ShardDown)
  t.is(sub.shard, 4)
  noLeak(t, h)
})

test('registered error values decode to this thread\'s object, also as causes and aggregated errors, with back references intact', (t) => {
  const h = heap()
  const inner = new Error('inner')
  const sentinel = new Error('sentinel', { cause: inner })
  inner.cause = sentinel // a cycle through the registered value
  t.is(registerError(sentinel, { name: 'codec-test.ErrSentinel' }), sentinel)
  t.true(Object.isFrozen(sentinel), 'a registered value is frozen')
  t.is(roundTrip(h, sentinel), sentinel)
  const agg = roundTrip(h, new AggregateError([sentinel, inner, sentinel], 'all'))
  t.is(agg.errors[0], sentinel)
  t.is(agg.errors[2], sentinel)
  t.not(agg.errors[1], inner, 'an unregistered error is a copy')
  t.is((agg.errors[1] as Error).message, 'inner')
  t.is((agg.errors[1] as Error).cause, sentinel, 'its back reference to the registered value is the value')
  t.is(roundTrip(h, new Error('wrap', { cause: sentinel })).cause, sentinel)
  noLeak(t, h)
})

test('registerError: bad registrations are TypeErrors naming what was wrong; registering again is a no-op', (t) => {
  class A extends Error {}
  class B extends Error {}
  registerError(A, { name: 'codec-test.A' })
  t.is(registerError(A, { name: 'codec-test.A' }), A)
  t.throws(() => registerError(A, { name: 'codec-test.A2' }), { instanceOf: TypeError, message: /class A is registered as 'codec-test\.A'/ })
  t.throws(() => registerError(B, { name: 'codec-test.A' }), { instanceOf: TypeError, message: /the name 'codec-test\.A' is taken on this thread by another class/ })
  t.throws(() => registerError(RangeError), { instanceOf: TypeError, message: /RangeError is a built-in class/ })
  t.throws(() => registerError(class {} as never), { instanceOf: TypeError, message: /is not an Error class/ })
  t.throws(() => registerError((() => class extends Error {})()), { instanceOf: TypeError, message: /anonymous class needs \{ name \}/ })
  t.throws(() => registerError(new Error('x') as never), { instanceOf: TypeError, message: /a value needs \{ name \}/ })
  t.throws(() => registerError(new Error('x'), { name: 'codec-test.A' }), { instanceOf: TypeError, message: /taken on this thread by another class/ })
  t.throws(() => registerError({ message: 'x' } as never, { name: 'n' }), { instanceOf: TypeError, message: /expected an Error class or an Error value, got object/ })
  t.throws(() => registerError(B, { name: '' }), { instanceOf: TypeError, message: /name must be a non-empty string/ })
  const v = registerError(new Error('v'), { name: 'codec-test.v' })
  t.is(registerError(v, { name: 'codec-test.v' }), v)
  t.throws(() => registerError(v, { name: 'codec-test.v2' }), { instanceOf: TypeError, message: /registered as 'codec-test\.v'/ })
})

test('errors inside values that go to V8 whole get V8\'s treatment', (t) => {
  const h = heap()
  const e = Object.assign(new TypeError('in a map'), { code: 'LOST' })
  const back = roundTrip(h, new Map([[1, e]])).get(1)!
  t.true(back instanceof TypeError)
  t.is(back.message, 'in a map')
  t.is(back.stack, e.stack)
  t.false('code' in back)
  noLeak(t, h)
})

/** An empty WebAssembly module (the lib in tsconfig has no WebAssembly types). */
function wasmModule(): object {
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly
  return new wasm.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
}

test('uncloneable values throw a DataCloneError that names them, and leak nothing', (t) => {
  const h = heap()
  const port = new MessageChannel()
  t.teardown(() => port.port1.close())
  function namedFunction(): number {
    return 1
  }
  const cases: Array<[unknown, RegExp]> = [
    [() => 1, /\(\) => 1 could not be cloned/],
    [namedFunction, /namedFunction.*could not be cloned/s],
    [Symbol('sym'), /Symbol\(sym\) could not be cloned/],
    [{ f() {} }, /f\(\) \{ ?\} could not be cloned/],
    [new WeakMap(), /WeakMap/],
    [new WeakSet(), /WeakSet/],
    [Promise.resolve(1), /Promise/],
    [new Proxy({}, {}), /could not be cloned/],
    [[1, 'ok', Symbol('deep')], /Symbol\(deep\)/],
    [{ a: { b: [1, { c: class Hidden {} }] } }, /Hidden/],
    [new Map([[1, () => 3]]), /=> 3/],
    [new WeakRef({}), /WeakRef/],
    [(function* gen() {})(), /Generator/],
    [wasmModule(), /Module/],
    [port.port1, /^(argument 2: )?Unserializable host object: MessagePort/],
  ]
  for (const [v, message] of cases) {
    const e = throwsDataCloneError(t, () => encodeValue(h, v))
    t.regex(e.message, message)
    t.false(e.message.includes('\n'), 'one line')
    noLeak(t, h)
    const a = throwsDataCloneError(t, () => encodeArgs(h, [1, 'two', v]))
    t.regex(a.message, /^argument 2: /)
    t.regex(a.message, message)
    noLeak(t, h)
  }
  // The message of a long function's source is cut short.
  const long = new Function(`return ${'1 + '.repeat(300)}1`)
  const e = throwsDataCloneError(t, () => encodeValue(h, long))
  t.true(e.message.length < 200)
  t.regex(e.message, /\.\.\. could not be cloned\.$/)
  // The same class as structuredClone's.
  let sc: unknown
  try {
    structuredClone(() => 1)
  } catch (x) {
    sc = x
  }
  t.is((sc as object).constructor, e.constructor)
  noLeak(t, h)
})

test('a full arena is a RangeError that names heapSize, and leaks nothing', (t) => {
  const h = heap(4096)
  t.throws(() => encodeValue(h, 'x'.repeat(5000)), { instanceOf: RangeError, message: /heapSize/ })
  t.throws(() => encodeArgs(h, [1, 'a', new Uint8Array(5000)]), { instanceOf: RangeError, message: /heapSize/ })
  noLeak(t, h)
  const held: number[] = []
  let err: unknown
  try {
    for (let i = 0; i < 10000; i++) held.push(encodeArgs(h, [i, { i, s: 'abcdefgh' }]))
  } catch (e) {
    err = e
  }
  t.true(err instanceof RangeError && /heapSize/.test(err.message), String(err))
  t.true(held.length > 10)
  for (let i = 0; i < held.length; i++) t.deepEqual(decodeArgs(h, held[i]), [i, { i, s: 'abcdefgh' }])
  for (const p of held) freeValue(h, p)
  noLeak(t, h)
  t.is(heapStats(h).freeBlocks, 1, 'everything merged back')
})

test('stray pointers are fatal errors, not garbage', (t) => {
  const h = heap()
  const p = malloc(h, 16)
  h.i32[p >> 2] = 0
  t.throws(() => decodeValue(h, p), { instanceOf: FatalError, message: /^decodeValue: / })
  free(h, p)
  const v = encodeValue(h, [1, 2])
  t.throws(() => decodeArgs(h, v), { instanceOf: FatalError, message: /^decodeArgs: .* not an argument list/ })
  freeValue(h, v)
  t.throws(() => freeValue(h, v), { instanceOf: FatalError, message: /^free: / })
  noLeak(t, h)
})

/** A handle of TEST_HANDLE_KIND at ptr, as this thread decodes it. */
function isTestHandle(t: ExecutionContext, v: unknown, ptr: number, label = ''): void {
  t.true(v instanceof TestHandle, `${label}: ${String(v)} is not a TestHandle`)
  t.is((v as TestHandle).ptr, ptr, label)
}

test('shared handles: alone, in arrays, objects, argument lists, nested deeply', (t) => {
  const h = heap()
  t.is(kHandle as symbol, Symbol.for('gort.handle'))
  const float = encodeValue(h, 1.5)
  const sixteen = heapStats(h).inuseBytes // a block for one 16-byte item
  freeValue(h, float)
  for (const ptr of [0, 8, 4096, -8, 2 ** 31 - 1, -(2 ** 31)]) {
    const x = new TestHandle(ptr)
    isTestHandle(t, roundTrip(h, x), ptr, `alone ${ptr}`)
    const p = encodeValue(h, x)
    t.deepEqual([...h.i32.subarray(p >> 2, (p >> 2) + 4)], [CodecTag.HANDLE, TEST_HANDLE_KIND, ptr, 0], 'the item')
    t.is(heapStats(h).inuseBytes, sixteen, 'one 16-byte item')
    freeValue(h, p)
  }
  const a = new TestHandle(64)
  const b = new TestHandle(128)
  const arr = roundTrip(h, [1, a, 'x', [b, null]])
  t.is(arr.length, 4)
  isTestHandle(t, arr[1], 64, 'in an array')
  isTestHandle(t, (arr[3] as unknown[])[0], 128, 'in a nested array')
  t.deepEqual([arr[0], arr[2], (arr[3] as unknown[])[1]], [1, 'x', null])
  t.is(tagOf(h, [1, a]), CodecTag.ARRAY, 'the fast path')

  const obj = roundTrip(h, { chan: a, meta: { wg: b, n: 2 }, s: 'y' })
  isTestHandle(t, obj.chan, 64, 'in an object')
  isTestHandle(t, obj.meta.wg, 128, 'in a nested object')
  t.deepEqual(Object.keys(obj), ['chan', 'meta', 's'])
  t.is(tagOf(h, { chan: a }), CodecTag.OBJECT)

  const args = decodeArgsOnce(h, [a, 7, { b }, [a], undefined])
  t.is(args.length, 5)
  isTestHandle(t, args[0], 64, 'argument 0')
  t.is(args[1], 7)
  isTestHandle(t, (args[2] as { b: unknown }).b, 128, 'argument 2')
  isTestHandle(t, (args[3] as unknown[])[0], 64, 'argument 3')
  t.is(args[4], undefined)

  // 200 levels of arrays and objects, a handle at the bottom and at every tenth level.
  let deep: unknown = a
  for (let i = 0; i < 200; i++) deep = i % 2 === 0 ? [deep, i % 10 === 0 ? b : i] : { d: deep }
  t.is(tagOf(h, deep), CodecTag.OBJECT)
  let back = roundTrip(h, deep)
  for (let i = 199; i >= 0; i--) {
    if (i % 2 === 0) {
      const [inner, x] = back as [unknown, unknown]
      if (i % 10 === 0) isTestHandle(t, x, 128, `level ${i}`)
      back = inner
    } else {
      back = (back as { d: unknown }).d
    }
  }
  isTestHandle(t, back, 64, 'the bottom')
  noLeak(t, h)
})

test('shared handles: any object with a kHandle method, own or inherited, checked before anything else', (t) => {
  const h = heap()
  // An own method on a plain object: a handle, not an object with no string keys.
  const own = { [kHandle]: () => ({ kind: TEST_HANDLE_KIND, ptr: 40 }), visible: 1 }
  isTestHandle(t, roundTrip(h, own), 40, 'own')
  // Inherited, from a subclass and from a plain prototype.
  class Sub extends TestHandle {
    extra = 'not sent'
  }
  isTestHandle(t, roundTrip(h, new Sub(48)), 48, 'subclass')
  isTestHandle(t, roundTrip(h, Object.create(new TestHandle(56)) as object), 56, 'prototype')
  // A handle that is also an array, an Error, a Date: the handle wins.
  const arr = Object.assign([1, 2], { [kHandle]: () => ({ kind: TEST_HANDLE_KIND, ptr: 72 }) })
  isTestHandle(t, roundTrip(h, arr), 72, 'array')
  class HandleError extends Error {
    [kHandle](): { kind: number; ptr: number } {
      return { kind: TEST_HANDLE_KIND, ptr: 80 }
    }
  }
  isTestHandle(t, roundTrip(h, new HandleError('e')), 80, 'error')
  // `this` is the object.
  let self: unknown
  const probe = {
    [kHandle](): { kind: number; ptr: number } {
      self = this // eslint-disable-line @typescript-eslint/no-this-alias
      return { kind: TEST_HANDLE_KIND, ptr: 88 }
    },
  }
  roundTrip(h, probe)
  t.is(self, probe)
  // Not a function: not a handle (the symbol key is dropped, as structuredClone drops it).
  t.deepEqual(roundTrip(h, { [kHandle]: 5, a: 1 }), { a: 1 })
  // A proxy's traps do not run: V8 refuses it.
  let trapped = false
  const proxy = new Proxy(new TestHandle(1), { get: (o, k) => { trapped = true; return Reflect.get(o, k) } })
  throwsDataCloneError(t, () => encodeValue(h, proxy))
  t.false(trapped)
  noLeak(t, h)
})

test('shared handles: the same handle twice is two items and stays on the fast path', (t) => {
  const h = heap()
  let calls = 0
  class Counted extends TestHandle {
    override [kHandle](): { kind: number; ptr: number } {
      calls++
      return super[kHandle]()
    }
  }
  const x = new Counted(200)
  const v = [x, x, { again: x }, [x]]
  t.is(tagOf(h, v), CodecTag.ARRAY, 'not "an object reached twice"')
  calls = 0
  const back = roundTrip(h, v)
  t.is(calls, 4, 'asked once per occurrence')
  for (const y of [back[0], back[1], (back[2] as { again: unknown }).again, (back[3] as unknown[])[0]]) isTestHandle(t, y, 200)
  const before = decodedHandles.n
  const [a, b] = decodeArgsOnce(h, [x, x])
  t.is(decodedHandles.n - before, 2, 'decoded once per occurrence')
  isTestHandle(t, a, 200)
  isTestHandle(t, b, 200)
  noLeak(t, h)
})

test('shared handles: the fast path\'s size limits do not apply to a value with handles', (t) => {
  const h = heap(1 << 23)
  const many = Array.from({ length: 5000 }, (_, i) => new TestHandle(i * 8))
  t.is(tagOf(h, many), CodecTag.ARRAY)
  const back = roundTrip(h, many)
  t.is(back.length, 5000)
  for (let i = 0; i < 5000; i += 499) isTestHandle(t, back[i], i * 8)
  const mixed = [...Array.from({ length: 3000 }, (_, i) => i), new TestHandle(8)]
  t.is(tagOf(h, mixed), CodecTag.ARRAY)
  isTestHandle(t, roundTrip(h, mixed)[3000], 8)
  // More than FAST_CONTAINERS (2^16) objects.
  const objects = [Array.from({ length: 70000 }, (_, i) => ({ i })), new TestHandle(16)]
  t.is(tagOf(h, objects), CodecTag.ARRAY)
  const o = roundTrip(h, objects)
  t.deepEqual((o[0] as unknown[])[69999], { i: 69999 })
  isTestHandle(t, o[1], 16)
  // Without handles, still V8.
  t.is(tagOf(h, Array.from({ length: 3000 }, (_, i) => i)), CodecTag.V8)
  noLeak(t, h)
})

test('shared handles: inside a Map, Set, class instance, or any value that goes to V8 whole, a DataCloneError that leaks nothing', (t) => {
  const h = heap()
  const held = encodeValue(h, { already: 'here' }) // the arena is not empty
  const start = heapStats(h)
  const x = new TestHandle(8)
  class Box {
    constructor(readonly inside: unknown) {}
  }
  const shared = { s: 1 }
  const cycle: Record<string, unknown> = { x }
  cycle.self = cycle
  let nest: unknown = [x]
  for (let i = 0; i < 300; i++) nest = [nest]
  const cases: unknown[] = [
    new Map([[1, x]]), new Map([[x, 1]]), new Set([x]), new Box(x), [1, new Map([['k', [{ x }]]])],
    [x, new Map()], // the handle is in a plain array, but the Map sends the whole value to V8
    [x, shared, shared], cycle, [x, , 1], nest, Object.assign(Object.create(null) as object, { x }),
    new Map([[1, new Error('e', { cause: x })]]), new Set([new Box({ deeper: [x] })]),
  ]
  const message = /^#<TestHandle> could not be cloned: gort handles \(channels, sync objects\) cannot be nested inside a Map\/Set\/class instance yet/
  for (const v of cases) {
    const e = throwsDataCloneError(t, () => encodeValue(h, v))
    t.regex(e.message, message)
    t.false(e.message.includes('\n'))
    const a = throwsDataCloneError(t, () => encodeArgs(h, [1, x, v]))
    t.regex(a.message, /^argument 2: #<TestHandle> could not be cloned: gort handles/)
    t.is(heapStats(h).inuseBytes, start.inuseBytes, 'nothing leaked')
    t.is(heapStats(h).inuseBlocks, start.inuseBlocks)
  }
  // The same values without the handle are fine.
  t.true(roundTrip(h, new Map([[1, new Box(2)]])).get(1) !== undefined)
  freeValue(h, held)
  noLeak(t, h)
})

test('shared handles: in an error\'s properties or cause, left out as an uncloneable part is', (t) => {
  const h = heap()
  const x = new TestHandle(8)
  const e = Object.assign(new TypeError('with a handle', { cause: x }), { chan: x, detail: { x }, code: 'E_CHAN', n: 1 })
  for (const back of [roundTrip(h, e), roundTrip(h, [e])[0] as typeof e]) {
    t.true(back instanceof TypeError)
    t.is(back.message, 'with a handle')
    t.is(back.stack, e.stack)
    t.is(back.code, 'E_CHAN')
    t.is(back.n, 1)
    t.false('chan' in back)
    t.false('detail' in back)
    t.false('cause' in back)
  }
  const agg = roundTrip(h, new AggregateError([x, new RangeError('inner', { cause: [x] }), 'kept'], 'many'))
  t.is(agg.errors.length, 2)
  t.true(agg.errors[0] instanceof RangeError)
  t.false('cause' in agg.errors[0])
  t.is(agg.errors[1], 'kept')
  noLeak(t, h)
})

test('shared handles: a bad kHandle method is a TypeError, its exception propagates; neither leaks', (t) => {
  const h = heap()
  const bad = (r: unknown): object => ({ [kHandle]: () => r })
  for (const r of [undefined, null, 5, {}, { kind: 1 }, { ptr: 8 }, { kind: -1, ptr: 8 }, { kind: 1.5, ptr: 8 },
    { kind: 2 ** 31, ptr: 8 }, { kind: 1, ptr: 2 ** 31 }, { kind: 1, ptr: 0.5 }, { kind: '1', ptr: 8 }, { kind: 1, ptr: 8n }]) {
    t.throws(() => encodeValue(h, bad(r)), { instanceOf: TypeError, message: /^#<Object>\[Symbol\(gort\.handle\)\]\(\) returned kind .*a gort handle needs/ })
    t.throws(() => encodeArgs(h, ['a', [bad(r)]]), { instanceOf: TypeError })
    noLeak(t, h)
  }
  t.throws(() => encodeValue(h, new (class Chan extends TestHandle {
    override [kHandle](): never {
      throw new RangeError('closed')
    }
  })(8)), { instanceOf: RangeError, message: 'closed' })
  noLeak(t, h)
})

test('shared handles: decoding an unregistered kind is a FatalError naming it; registering again replaces', (t) => {
  const h = heap()
  const kind = 999
  const x = { [kHandle]: () => ({ kind, ptr: 16 }) }
  const p = encodeArgs(h, ['a', [x]]) // encoding needs no registration
  t.throws(() => decodeArgs(h, p), { instanceOf: FatalError, message: /^decodeValue: handle kind 999 at \d+ is not registered on this thread/ })
  registerHandleKind(kind, (_h, ptr) => ({ first: ptr }))
  t.deepEqual(decodeArgs(h, p), ['a', [{ first: 16 }]])
  let heapSeen: unknown
  registerHandleKind(kind, (hh, ptr) => {
    heapSeen = hh
    return { second: ptr }
  })
  t.deepEqual(decodeArgs(h, p), ['a', [{ second: 16 }]])
  t.is(heapSeen, h, 'decode gets the heap')
  freeValue(h, p)
  t.throws(() => registerHandleKind(-1, () => ({})), { instanceOf: RangeError })
  t.throws(() => registerHandleKind(1.5, () => ({})), { instanceOf: RangeError })
  t.throws(() => registerHandleKind(2 ** 31, () => ({})), { instanceOf: RangeError })
  t.throws(() => registerHandleKind(3, 'no' as unknown as () => object), { instanceOf: TypeError })
  // gort's own kinds register when gort's index loads, which this test file does not.
  const cp = encodeValue(h, { [kHandle]: () => ({ kind: 1, ptr: 16 }) })
  t.throws(() => decodeValue(h, cp), {
    instanceOf: FatalError, message: /^decodeValue: handle kind 1 \(Chan\) at \d+ is not registered on this thread: gort's Chan class registers when gort is imported/,
  })
  freeValue(h, cp)
  noLeak(t, h)
})

test('shared handles: a decode function may decode values itself', (t) => {
  const h = heap()
  const kind = 1000
  // A handle whose record is an encoded value: decoding it decodes that value, mid-block.
  registerHandleKind(kind, (hh, ptr) => ({ record: decodeValue(hh, ptr) }))
  const inner = encodeValue(h, ['inner', { deep: 'x'.repeat(40) }])
  const x = { [kHandle]: () => ({ kind, ptr: inner }) }
  t.deepEqual(roundTrip(h, [x, 'after', { k: x, s: 'y'.repeat(30) }, 3]), [
    { record: ['inner', { deep: 'x'.repeat(40) }] }, 'after', { k: { record: ['inner', { deep: 'x'.repeat(40) }] }, s: 'y'.repeat(30) }, 3,
  ])
  freeValue(h, inner)
  noLeak(t, h)
})

// Everything fast-check makes that structuredClone accepts (fc.anything
// makes no functions or symbols): the codec must agree with structuredClone.
// Dates come from `values`, valid only: isDeepStrictEqual finds two invalid
// Dates different (their NaN times compare with ===); the sample values test
// them.
const cloneable = fc.anything({
  withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true,
  withObjectString: true, withSparseArray: true, withTypedArray: true, stringUnit: 'binary', maxDepth: 4,
  values: [
    fc.boolean(), fc.integer(), fc.double(), fc.bigInt(), fc.constantFrom(null, undefined, -0, NaN, 2 ** 31, -(2 ** 31)),
    fc.date({ noInvalidDate: true }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  ],
})

test('property: encodeValue/decodeValue agree with structuredClone', (t) => {
  const h = heap()
  t.notThrows(() => fc.assert(fc.property(cloneable, (v) => {
    const back = roundTrip(h, v)
    if (!agrees(back, v)) return false
    return heapStats(h).inuseBytes === 0
  }), { numRuns: 2000 }))
})

test('property: argument lists agree with structuredClone, argument by argument', (t) => {
  const h = heap()
  t.notThrows(() => fc.assert(fc.property(fc.array(cloneable, { maxLength: 6 }), (args) => {
    const p = encodeArgs(h, args)
    const back = decodeArgs(h, p)
    freeValue(h, p)
    if (back.length !== args.length) return false
    for (let i = 0; i < args.length; i++) if (!agrees(back[i], args[i])) return false
    return heapStats(h).inuseBytes === 0
  }), { numRuns: 1000 }))
})

test('a worker thread decodes what this thread encoded, and the other way round, shared handles too', async (t) => {
  const h = heap(1 << 22)
  const ctl = new Int32Array(new SharedArrayBuffer(4))
  const errs = sampleErrors()
  const churn = 20000
  // Three records, labelled, and handles to them.
  const records = [1111, 2222, 3333].map((label) => {
    const r = malloc(h, 16)
    h.i32[r >> 2] = label
    return r
  })
  const [r1, r2, r3] = records
  const handles = encodeArgs(h, [new TestHandle(r1), [new TestHandle(r2), { h: new TestHandle(r3) }]])
  const f = startFixture<CodecWorkerReport>('codec-worker', {
    sab: h.sab, ctl: ctl.buffer, values: encodeArgs(h, sampleValues()), errors: encodeValue(h, errs), churn, handles,
  })
  const report = await withWatchdog(t, 60_000, () => JSON.stringify(heapStats(h)), () => [f.worker], async () => {
    // Barrier: both threads then encode, decode and free at the same time.
    Atomics.add(ctl, 0, 1)
    Atomics.notify(ctl, 0)
    while (Atomics.load(ctl, 0) < 2) await Atomics.waitAsync(ctl, 0, 1, 100).value
    const kinds: unknown[] = [8, 'main', [2, 'b', { c: 3n }], new Set([1]), 'm'.repeat(500)]
    let failures = 0
    for (let i = 0; i < churn; i++) {
      const v = kinds[i % kinds.length]
      const p = encodeArgs(h, [i, v])
      if (!isDeepStrictEqual(decodeArgs(h, p), [i, v])) failures++
      freeValue(h, p)
    }
    t.is(failures, 0)
    return f.result
  })
  t.is(report.decoded, sampleValues().length)
  t.deepEqual(report.mismatches, [], `values the worker decoded differently: ${report.mismatches.join(', ')}`)
  t.is(report.churnFailures, 0)
  t.deepEqual(report.errors, errs.map(describeError))

  const [reply, n, s] = decodeArgs(h, report.replyValues)
  freeValue(h, report.replyValues)
  t.deepEqual(reply, { from: 'worker', big: -(2n ** 200n), lone: '\uD800', bytes: new Uint8Array([4, 5, 6]), list: [1, 'two', null] })
  t.is(n, 42)
  t.is(s, 'x'.repeat(40))
  const err = decodeValue(h, report.replyErrors) as RangeError & { goid: number }
  freeValue(h, report.replyErrors)
  t.true(err instanceof RangeError)
  t.is(err.message, 'from the worker')
  t.is(err.goid, 99)
  t.true(err.cause instanceof TypeError)
  t.regex(err.stack ?? '', /codec-worker/)

  t.deepEqual(report.handles, [
    { testHandle: true, ptr: r1, kind: TEST_HANDLE_KIND, label: 1111 },
    { testHandle: true, ptr: r2, kind: TEST_HANDLE_KIND, label: 2222 },
    { testHandle: true, ptr: r3, kind: TEST_HANDLE_KIND, label: 3333 },
  ], 'the worker decoded handles of its own TestHandle class for the same records')
  const hs = decodeValue(h, report.replyHandles) as { chan: TestHandle; again: TestHandle[] }
  freeValue(h, report.replyHandles)
  t.deepEqual(Object.keys(hs), ['chan', 'again'])
  for (const x of [hs.chan, hs.again[0]]) {
    t.true(x instanceof TestHandle)
    t.is(x[kHandle]().kind, TEST_HANDLE_KIND)
    t.is(x.label(h), 777, 'the worker\'s record')
  }
  t.is(hs.chan.ptr, hs.again[0].ptr)
  free(h, hs.chan.ptr)
  for (const r of records) free(h, r)
  noLeak(t, h)
})
