// gort/pool's transfers against piscina 5.3's (its post-task, move-test and
// test-is-buffer-transferred tests): the receiver gets the value's contents
// (a copy through the heap), and the sender's ArrayBuffers named in
// run()'s transferList, or wrapped by Piscina.move(), are detached, in
// both directions; an unmoved Transferable and a value with no transferList
// are copied and the sender keeps them; a SharedArrayBuffer is shared,
// never detached; what cannot be transferred is refused with Node's error
// classes before anything is sent or detached; a queued task detaches only
// when it is dispatched, and an aborted one never; arguments larger than
// the arena has room for (staged until it has) arrive whole.
//
// Every test runs its pool under a watchdog that destroys it and fails
// with the pool's counters, instead of hanging (the pool's runtime is its
// own: there is no rt.dump() to call from here).

import test, { type ExecutionContext } from 'ava'
import { fileURLToPath } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import Piscina from 'gort/pool'

const fx = (name: string): string => fileURLToPath(new URL(`../test/fixtures/pool/${name}`, import.meta.url))
const { move, transferableSymbol, valueSymbol } = Piscina

/** Runs fn with a one-thread pool on transfer.cjs; destroys it after, or after ms with the pool's state logged. */
async function withPool(t: ExecutionContext, fn: (pool: Piscina) => Promise<void>, opts: ConstructorParameters<typeof Piscina>[0] = {}, ms = 30_000): Promise<void> {
  const pool = new Piscina({ filename: fx('transfer.cjs'), maxThreads: 1, ...opts })
  let timer: ReturnType<typeof setTimeout> | undefined
  const fired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = `threads ${pool.threads.length}, idle ${pool.idleThreads}, queued ${pool.queueSize}, completed ${pool.completed}`
      t.log(`watchdog: no result after ${ms} ms; ${state}`)
      reject(new Error(`watchdog fired after ${ms} ms: ${state}`))
    }, ms)
  })
  try {
    await Promise.race([fn(pool), fired])
  } finally {
    clearTimeout(timer)
    await pool.destroy()
  }
}

const bytes = (n: number, b: number): ArrayBuffer => new Uint8Array(n).fill(b).buffer

/** What p rejects with (a DOMException too, which t.throwsAsync does not take); fails the test if p resolves. */
async function rejection(t: ExecutionContext, p: Promise<unknown>): Promise<Error & { name: string }> {
  return p.then((v) => {
    t.fail(`resolved with ${String(v)}`)
    return new Error('resolved') as Error & { name: string }
  }, (e: Error & { name: string }) => e)
}

test('transferList: the task gets the contents; the sender\'s ArrayBuffers are detached once the task is dispatched', async (t) => {
  await withPool(t, async (pool) => {
    const ab = bytes(4, 1)
    const other = bytes(2, 2)
    const view = new Uint16Array(other)
    const kept = bytes(3, 3)
    const p = pool.run({ ab, view, kept }, { name: 'describe', transferList: [ab, other] })
    // run() dispatches at once when a slot is free: the argument is in the heap, the buffers gone.
    t.is(ab.byteLength, 0)
    t.is(other.byteLength, 0)
    t.is(view.length, 0, 'a view over a transferred buffer sees it detached')
    t.is(kept.byteLength, 3, 'a buffer not in transferList stays the sender\'s')
    t.deepEqual(await p, { ab: { ArrayBuffer: [1, 1, 1, 1] }, view: { Uint16Array: [2, 2] }, kept: { ArrayBuffer: [3, 3, 3] } })
    // A buffer listed but not in the value is detached too, as postMessage detaches it.
    const unsent = bytes(8, 0)
    t.is(await pool.run(7, { name: 'describe', transferList: [unsent] }), 7)
    t.is(unsent.byteLength, 0)
    // Without transferList nothing is detached, and a Buffer arrives a Buffer (the heap's copy).
    const buf = Buffer.from([5, 6])
    const ab2 = bytes(2, 7)
    t.deepEqual(await pool.run({ buf, ab2 }, { name: 'describe' }), { buf: { Buffer: [5, 6] }, ab2: { ArrayBuffer: [7, 7] } })
    t.is(buf.length, 2)
    t.is(ab2.byteLength, 2)
    const ab3 = bytes(1, 1)
    t.deepEqual(await pool.run({ ab3 }, { name: 'describe', transferList: [] }), { ab3: { ArrayBuffer: [1] } })
    t.is(ab3.byteLength, 1, 'an empty transferList transfers nothing')
  })
})

test('Piscina.move() as the task: its value arrives, its transferables are detached (ArrayBuffer, typed array, Transferable)', async (t) => {
  await withPool(t, async (pool) => {
    const ab = bytes(3, 1)
    t.deepEqual(await pool.run(move(ab), { name: 'describe' }), { ArrayBuffer: [1, 1, 1] })
    t.is(ab.byteLength, 0)

    const u8 = new Uint8Array(bytes(4, 2), 1, 2)
    t.deepEqual(await pool.run(move(u8), { name: 'describe', transferList: [] }), { Uint8Array: [2, 2] })
    t.is(u8.length, 0)
    t.is(u8.buffer.byteLength, 0)

    // piscina's Transferable: [transferableSymbol] (one item or an array) is transferred, [valueSymbol] sent in its place.
    const a = bytes(2, 3)
    const b = bytes(2, 4)
    const holder = {
      get [transferableSymbol]() { return [a, b] },
      get [valueSymbol]() { return { a, b: new Int8Array(b) } },
    }
    t.deepEqual(await pool.run(move(holder as never), { name: 'describe' }), { a: { ArrayBuffer: [3, 3] }, b: { Int8Array: [4, 4] } })
    t.is(a.byteLength, 0)
    t.is(b.byteLength, 0)

    // Both symbols, never passed to move(): an ordinary object, copied (its symbol keys are not), nothing detached.
    const c = bytes(2, 5)
    const unmoved = { c, get [transferableSymbol]() { return c }, get [valueSymbol]() { return 'no' } }
    t.deepEqual(await pool.run(unmoved, { name: 'describe', transferList: [] }), { c: { ArrayBuffer: [5, 5] } })
    t.is(c.byteLength, 2)
  })
})

test('Piscina.move() on a task\'s result: the app gets the value, the task\'s buffers are detached on its thread', async (t) => {
  await withPool(t, async (pool) => {
    const ab = await pool.run({ how: 'ab' }, { name: 'give' })
    t.true(ab instanceof ArrayBuffer)
    t.deepEqual([...new Uint8Array(ab)], [1, 1, 1, 1])
    // maxThreads 1: the next task runs on the thread that moved the buffer.
    t.deepEqual(await pool.run(null, { name: 'kept' }), [0])

    const u8 = await pool.run({ how: 'view' }, { name: 'give' })
    t.true(u8 instanceof Uint8Array)
    t.deepEqual([...u8], [2, 2, 2])
    t.deepEqual(await pool.run(null, { name: 'kept' }), [0])

    const pair = await pool.run({ how: 'holder' }, { name: 'give' })
    t.is(pair.name, 'pair')
    t.deepEqual([...new Uint8Array(pair.a)], [3, 3])
    t.true(pair.b instanceof Uint8Array)
    t.deepEqual([...pair.b], [4, 4])
    t.deepEqual(await pool.run(null, { name: 'kept' }), [0, 0])

    const gen = await pool.run(null, { name: 'giveGen' })
    t.deepEqual([...new Uint8Array(gen)], [9, 9, 9, 9, 9])
    t.deepEqual(await pool.run(null, { name: 'kept' }), [0], 'a generator task\'s moved result too')

    const unmoved = await pool.run({ how: 'unmoved' }, { name: 'give' })
    t.deepEqual([...new Uint8Array(unmoved.a)], [5, 5])
    t.deepEqual(await pool.run(null, { name: 'kept' }), [2], 'an unmoved Transferable is copied; the task keeps its buffer')
  })
})

test('SharedArrayBuffers are shared, never detached, in transferList or in a moved value', async (t) => {
  await withPool(t, async (pool) => {
    const sab = new SharedArrayBuffer(8)
    // Node's postMessage refuses a SharedArrayBuffer in a transfer list; piscina's tests list one: accepted as the no-op it is.
    t.deepEqual(await pool.run({ sab }, { name: 'shared', transferList: [sab] }), { sab: { SharedArrayBuffer: 8 } })
    t.is(sab.byteLength, 8)
    t.is(Atomics.load(new Int32Array(sab), 0), 42, 'the task wrote into the app\'s memory')

    const sab2 = new SharedArrayBuffer(2)
    new Uint8Array(sab2).fill(6)
    t.deepEqual(await pool.run(move(new Uint8Array(sab2)), { name: 'describe' }), { Uint8Array: [6, 6] })
    t.is(sab2.byteLength, 2)

    const back = await pool.run({ how: 'shared' }, { name: 'give' })
    t.true(back.sab instanceof SharedArrayBuffer)
    t.deepEqual(await pool.run(null, { name: 'kept' }), [8])
  })
})

test('what cannot be transferred is refused at run() with Node\'s error classes, naming the item; nothing is sent or detached', async (t) => {
  await withPool(t, async (pool) => {
    const ab = bytes(4, 1)
    const u8 = new Uint8Array(4)
    const view = await t.throwsAsync(pool.run({ ab, u8 }, { name: 'describe', transferList: [ab, u8] }), { instanceOf: TypeError })
    t.is(view?.message, 'Found invalid object in transferList: transferList[1] is a Uint8Array; list its .buffer (an ArrayBuffer is transferred, not a view of one)')
    const plain = await t.throwsAsync(pool.run(1, { name: 'describe', transferList: [ab, { x: 1 }] }), { instanceOf: TypeError })
    t.is(plain?.message, 'Found invalid object in transferList: transferList[1] is an Object; gort/pool transfers ArrayBuffers (a SharedArrayBuffer is shared)')
    const dup = await rejection(t, pool.run(1, { name: 'describe', transferList: [ab, ab] }))
    t.true(dup instanceof DOMException)
    t.is(dup.name, 'DataCloneError')
    t.is(dup.message, 'Transfer list contains duplicate ArrayBuffer (transferList[1])')
    // A moved task's transferables join transferList, as in piscina: the same buffer in both is a duplicate.
    const both = await rejection(t, pool.run(move(ab), { name: 'describe', transferList: [ab] }))
    t.is(both.message, 'Transfer list contains duplicate ArrayBuffer (Piscina.move()\'s transferable)')
    const moved = await t.throwsAsync(pool.run(move({ x: 1 } as never), { name: 'describe' }), { instanceOf: TypeError })
    t.regex(moved?.message ?? '', /^Found invalid object in transferList: Piscina\.move\(\)'s transferable is an Object/)

    const { port1, port2 } = new MessageChannel()
    try {
      const port = await rejection(t, pool.run({ port1 }, { name: 'describe', transferList: [port1] }))
      t.true(port instanceof DOMException)
      t.is(port.name, 'DataCloneError')
      t.is(port.message, 'transferList[0] is a MessagePort, which gort/pool cannot pass between the app and a task: a task may run on any of the pool\'s threads, and a port goes to one')
      // The port is still the app's: it works.
      const got = new Promise((resolve) => port2.once('message', resolve))
      port1.postMessage('still mine')
      t.is(await got, 'still mine')
    } finally {
      port1.close()
    }
    t.is(ab.byteLength, 4, 'nothing was detached')
    t.is(pool.completed, 0, 'no task ran')
  })
})

test('a moved result that cannot be passed rejects the task with a clear error; nothing is detached', async (t) => {
  await withPool(t, async (pool) => {
    const port = await rejection(t, pool.run({ how: 'port' }, { name: 'give' }))
    t.true(port instanceof DOMException)
    t.is(port.name, 'DataCloneError')
    t.is(port.message, 'the moved value\'s [Piscina.transferableSymbol] is a MessagePort, which gort/pool cannot pass between the app and a task: a task may run on any of the pool\'s threads, and a port goes to one')
    const plain = await t.throwsAsync(pool.run({ how: 'plain' }, { name: 'give' }), { instanceOf: TypeError })
    t.regex(plain?.message ?? '', /^Found invalid object in transferList: the moved value's \[Piscina\.transferableSymbol\] is an Object/)
    const fn = await rejection(t, pool.run({ how: 'uncloneable' }, { name: 'give' }))
    t.is(fn.name, 'DataCloneError')
    t.regex(fn.message, /could not be cloned/)
    t.deepEqual(await pool.run(null, { name: 'kept' }), [2], 'the failed move left the task\'s buffer attached')
  })
})

test('a queued task detaches its buffers only when dispatched; an aborted queued task never does', async (t) => {
  await withPool(t, async (pool) => {
    // maxThreads 1, one task at a time: a running task keeps the next ones queued.
    const busy = pool.run({ how: 'ab' }, { name: 'give' })
    const a = bytes(2, 1)
    const queued = pool.run({ a }, { name: 'describe', transferList: [a] })
    const b = bytes(2, 2)
    const ac = new AbortController()
    const aborted = pool.run({ b }, { name: 'describe', transferList: [b], signal: ac.signal })
    t.is(pool.queueSize, 2)
    t.is(a.byteLength, 2, 'still queued: not sent yet')
    ac.abort('changed my mind')
    await t.throwsAsync(aborted, { name: 'AbortError' })
    await busy
    t.deepEqual(await queued, { a: { ArrayBuffer: [1, 1] } })
    t.is(a.byteLength, 0)
    t.is(b.byteLength, 2, 'the aborted task was never sent: its buffer is still the app\'s')
  })
})

test('transferred arguments that wait for arena space (staged in the app\'s memory) arrive whole', async (t) => {
  await withPool(t, async (pool) => {
    // The pool's heap is 64 MiB, and its one thread is blocked by a task
    // until the app releases it, so nothing frees arena space meanwhile: of
    // four 24 MiB arguments, those after the second do not fit and are
    // staged, then detached, then copied in once the first tasks have run.
    const MB = 1 << 20
    const sab = new SharedArrayBuffer(4)
    const held = pool.run({ sab }, { name: 'hold' })
    const abs = Array.from({ length: 4 }, (_, i) => new Uint8Array(24 * MB).fill(i + 1).buffer)
    const runs = abs.map((ab, i) => pool.run({ ab, b: i + 1 }, { name: 'check', transferList: [ab] }))
    t.deepEqual(abs.map((ab) => ab.byteLength), [0, 0, 0, 0], 'all four dispatched at once, and detached')
    Atomics.store(new Int32Array(sab), 0, 1)
    Atomics.notify(new Int32Array(sab), 0)
    t.is(await held, 'released')
    t.deepEqual(await Promise.all(runs), abs.map(() => ({ length: 24 * MB, same: true })))
  }, { concurrentTasksPerWorker: 5 }, 60_000)
})
