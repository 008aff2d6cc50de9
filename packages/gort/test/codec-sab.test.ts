// SharedArrayBuffers in values (internal/codec/sabs.ts): they cross threads
// as the same memory, in arguments, results and channel values, bare or
// under views, nested anywhere; synchronously, while the app blocks on the
// memory it passed; a late M catches up from sysmon; and every thread's
// table stays bounded while 100,000 buffers go through a channel.

import test, { type ExecutionContext } from 'ava'
import { MessageChannel } from 'node:worker_threads'
import { Runtime, chan } from 'gort'
import {
  CodecTag, SharedHeap, decodeArgs, decodeValue, encodeArgs, encodeValue, freeValue, heapStats, runtimeHeap, sabStats,
} from 'gort/internal'
import { startFixture, withWatchdog } from './helpers.js'
import { sabs } from './fixtures/sabs.js'
import type { SabOrderData, SabOrderReport } from './fixtures/sab-order.js'
import type { SabFreeData, SabFreeReport } from './fixtures/sab-free.js'

/** Runs fn on a fresh runtime under a watchdog that dumps the scheduler; closes it, checking nothing was left. */
async function withRt(t: ExecutionContext, procs: number, ms: number, fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const rt = await Runtime.start({ procs })
  let ok = false
  try {
    await withWatchdog(t, ms, () => `${JSON.stringify(rt.stats())}\n${rt.dump()}`, () => [], () => fn(rt))
    ok = true
  } finally {
    if (ok) t.deepEqual(await rt.close(), { left: 0 }, 'no goroutine left behind')
    else await rt.destroy()
  }
}

/** Atomics.wait on the app's thread, which fails the test with the scheduler's dump instead of hanging. */
function waitOrDump(t: ExecutionContext, rt: Runtime, i32: Int32Array, at: number, v: number, ms: number): void {
  const r = Atomics.wait(i32, at, v, ms)
  if (r === 'timed-out') {
    t.log(rt.dump())
    t.fail(`the app waited ${ms} ms on word ${at} (still ${v}); scheduler dumped above`)
  }
}

test('one thread: every view kind keeps its class, offset and length over the same memory; one buffer is one object; freeing forgets it', (t) => {
  const h = SharedHeap.create({ maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 2, arenaBytes: 1 << 20 })
  const sab = new SharedArrayBuffer(64)
  const views: ArrayBufferView[] = [
    new Int8Array(sab, 1, 3), new Uint8Array(sab, 2, 5), new Uint8ClampedArray(sab, 3, 2), new Int16Array(sab, 4, 3),
    new Uint16Array(sab, 6, 2), new Int32Array(sab, 8, 2), new Uint32Array(sab, 12, 1), new Float32Array(sab, 16, 2),
    new Float64Array(sab, 24, 2), new BigInt64Array(sab, 40, 1), new BigUint64Array(sab, 48, 2), new DataView(sab, 5, 7),
    Buffer.from(sab, 9, 4),
  ]
  const before = sabStats(h).entries
  for (const v of views) {
    const p = encodeValue(h, { v, sab })
    const tagAt = h.i32[(p >> 2) + 2 + h.i32[(p >> 2) + 1] * 2] // after the prefix
    t.is(tagAt, CodecTag.OBJECT)
    const back = decodeValue(h, p) as { v: ArrayBufferView; sab: SharedArrayBuffer }
    freeValue(h, p)
    const name = Buffer.isBuffer(v) ? 'Buffer' : v.constructor.name
    t.is(Buffer.isBuffer(back.v) ? 'Buffer' : back.v.constructor.name, name)
    t.is(back.v.byteOffset, v.byteOffset, name)
    t.is(back.v.byteLength, v.byteLength, name)
    t.is(back.v.buffer, back.sab, `${name}: one buffer, one object`)
    // The same memory: a byte written through the copy shows in the original.
    new Uint8Array(back.v.buffer, back.v.byteOffset, 1)[0] ^= 0xff
    t.is(new Uint8Array(sab)[v.byteOffset], new Uint8Array(back.sab)[v.byteOffset])
  }
  t.is(sabStats(h).entries, before, 'each freed block took its id along')
  // A bare buffer is a SAB item; an argument list shares one id per buffer.
  const p = encodeValue(h, sab)
  t.is(h.i32[(p >> 2) + 4], CodecTag.SAB, 'a prefix of one id, then the item')
  t.is(decodeValue(h, p), decodeValue(h, p), 'decoding twice on one thread gives the one object for the id')
  freeValue(h, p)
  const a = encodeArgs(h, [sab, new Int32Array(sab, 4, 1), [sab]])
  const [x, y, [z]] = decodeArgs(h, a) as [SharedArrayBuffer, Int32Array, SharedArrayBuffer[]]
  t.is(x as unknown, y.buffer as unknown)
  t.is(x, z)
  t.is(h.i32[(a >> 2) + 1], 1, 'one id in the prefix')
  freeValue(h, a)
  // A value that goes to V8 whole is POSTED: copied when sent, the memory still shared.
  const m = new Map<string, Int32Array<ArrayBufferLike>>([['v', new Int32Array(sab, 0, 1)]])
  const q = encodeValue(h, m)
  t.is(h.i32[(q >> 2) + 4], CodecTag.POSTED)
  m.set('later', new Int32Array(1))
  const mb = decodeValue(h, q) as Map<string, Int32Array>
  const mb2 = decodeValue(h, q) as Map<string, Int32Array>
  freeValue(h, q)
  t.false(mb.has('later'), 'a copy from the time it was sent')
  t.not(mb, mb2, 'each decoding a fresh copy')
  Atomics.store(mb.get('v')!, 0, 1234)
  t.is(Atomics.load(new Int32Array(sab), 0), 1234)
  t.is(sabStats(h).entries, before)
  t.is(heapStats(h).inuseBytes, 0, 'no arena left in use')
})

test('a thread that frees blocks it never decoded keeps nothing of them', async (t) => {
  // Its drop must not come before it reads the buffers' NEWs, which it never hears back.
  const h = SharedHeap.create({ maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 2, arenaBytes: 1 << 20 })
  const n = 500
  const ctl = new Int32Array(new SharedArrayBuffer(8))
  const slots = new Int32Array(new SharedArrayBuffer(4 * n))
  const data: SabFreeData = { heap: h.sab, ctl: ctl.buffer as SharedArrayBuffer, slots: slots.buffer as SharedArrayBuffer, n }
  const f = startFixture<SabFreeReport>('sab-free', data)
  for (let i = 0; i < 1000 && Atomics.load(ctl, 0) === 0; i++) await new Promise((r) => setTimeout(r, 10))
  t.is(Atomics.load(ctl, 0), 1, 'the other thread subscribed')
  for (let i = 0; i < n; i++) slots[i] = encodeValue(h, { i, buf: new Int32Array(new SharedArrayBuffer(4)) })
  Atomics.store(ctl, 1, 1)
  Atomics.notify(ctl, 1)
  const r = await withWatchdog(t, 30_000, () => JSON.stringify([...ctl]), () => [f.worker], () => f.result)
  t.is(r.error, undefined)
  t.is(r.entries, 0)
  t.is(heapStats(h).inuseBytes, 0)
})

for (const block of [false, true]) {
  test(`ordering: a post is in the reader's queue before the store that publishes its id (${block ? 'the poster blocks after each' : 'free-running'})`, async (t) => {
    // Bare heap: no runtime, only the channel (both threads read ids from
    // shared words, and the reader never turns its event loop).
    const h = SharedHeap.create({ maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 2, arenaBytes: 1 << 16 })
    const n = block ? 2000 : 20_000
    const data = (role: 'poster' | 'reader'): SabOrderData => ({
      role, heap: h.sab, ctl: ctl.buffer as SharedArrayBuffer, slots: slots.buffer as SharedArrayBuffer, n, block,
    })
    const ctl = new Int32Array(new SharedArrayBuffer(16))
    const slots = new Int32Array(new SharedArrayBuffer(4 * (n + 1)))
    const reader = startFixture<SabOrderReport>('sab-order', data('reader'))
    const poster = startFixture<SabOrderReport>('sab-order', data('poster'))
    const [r, p] = await withWatchdog(t, 60_000, () => JSON.stringify({ ctl: [...ctl] }), () => [reader.worker, poster.worker],
      () => Promise.all([reader.result, poster.result]))
    t.is(r.error, undefined)
    t.is(p.error, undefined)
    t.is(r.got, n, 'the reader found every buffer, each at once')
    t.is(r.bad, 0)
    t.is(p.got, n)
    t.is(p.bad, 0, 'the poster sees the reader\'s writes')
  })
}

test.serial('a goroutine writes into a SharedArrayBuffer argument (sent twice, viewed at offsets) and the app sees it', async (t) => {
  await withRt(t, 2, 30_000, async (rt) => {
    const i32 = new Int32Array(new SharedArrayBuffer(8))
    const tid = await rt.run(sabs.writeAndNotify, i32, 5)
    t.is(Atomics.load(i32, 0), 5)
    t.not(tid, 0, 'it ran on an M')
    // The same buffer sent again, and under another view: still the app's memory.
    await rt.run(sabs.writeAndNotify, i32, 6)
    t.is(Atomics.load(i32, 0), 6)
    await rt.run(sabs.writeAndNotify, new Int32Array(i32.buffer as SharedArrayBuffer, 4, 1), 8)
    t.is(Atomics.load(i32, 1), 8)
    // A view at an offset into a bigger buffer: the same memory, at the same place.
    const big = new SharedArrayBuffer(64)
    await rt.run(sabs.writeAndNotify, new Int32Array(big, 16, 2), 9)
    t.is(new Int32Array(big)[4], 9)
  })
})

test.serial('the app blocks in Atomics.wait right after rt.run; the goroutine wakes it (piscina\'s notify-then-sleep)', async (t) => {
  await withRt(t, 2, 60_000, async (rt) => {
    for (let i = 0; i < 20; i++) {
      const i32 = new Int32Array(new SharedArrayBuffer(4))
      const done = rt.run(sabs.notifyThenSleep, i32)
      // No await between: the app's event loop does not turn until the M has run the goroutine.
      waitOrDump(t, rt, i32, 0, 0, 10_000)
      t.is(Atomics.load(i32, 0), 1, `round ${i}: the goroutine saw the app's memory`)
      Atomics.store(i32, 0, 2)
      Atomics.notify(i32, 0)
      t.is(await done, 2, `round ${i}: the goroutine saw the app's store`)
    }
  })
})

test.serial('a SharedArrayBuffer sent the moment the runtime is created, before any of its threads is up, arrives (sysmon is started for it and subscribes first)', async (t) => {
  const rt = Runtime.create({ procs: 2, modules: [new URL('./fixtures/sabs.js', import.meta.url).href] })
  try {
    const i32 = new Int32Array(new SharedArrayBuffer(4))
    const done = rt.run(sabs.writeAndNotify, i32, 7)
    waitOrDump(t, rt, i32, 0, 0, 30_000)
    t.is(Atomics.load(i32, 0), 7)
    t.is(typeof (await done), 'number')
    await rt.ready
  } finally {
    await rt.close()
  }
})

test.serial('a SharedArrayBuffer goes through a channel between goroutines on two Ms', async (t) => {
  await withRt(t, 2, 60_000, async (rt) => {
    for (let i = 0; i < 5; i++) {
      // The sender blocks its thread on the buffer: the receiver must run on another M.
      const r = await rt.run(sabs.sendAndWait, chan<Int32Array>(1))
      t.not(r.wait, 'timed-out')
      t.is(r.v, 42)
      t.not(r.b, 0)
      t.not(r.a, r.b, 'two threads')
    }
  })
})

test.serial('shared memory nested in objects, arrays, Maps, Sets and views with offsets, as arguments and back as a result', async (t) => {
  await withRt(t, 2, 30_000, async (rt) => {
    const sab = new SharedArrayBuffer(32)
    const other = new SharedArrayBuffer(16)
    // p: plain objects and arrays (the fast path); q: a Map and a Set (V8's path).
    const p = {
      a: { sab, i16: new Int16Array(sab, 2, 3), again: sab },
      list: [new DataView(sab, 12, 4), Buffer.from(sab, 16, 3), new Float64Array(other)],
    }
    const q = { m: new Map([['i32', new Int32Array(sab, 8, 1)]]), set: new Set([sab]) }
    const { seen, back } = await rt.run(sabs.touchNested, p, q)
    t.deepEqual(seen.errors, [])
    // The goroutine's writes, through every view, are in the app's memory.
    t.is(new Int16Array(sab, 2, 3)[2], -7)
    t.is(new Int32Array(sab, 8, 1)[0], 99)
    t.is(new DataView(sab).getUint32(12), 0xdeadbeef)
    t.is(Buffer.from(sab, 16, 3).toString(), 'abc')
    t.is(new Float64Array(other)[1], 2.5)
    // The result holds the same memory, with one object per buffer within it.
    const [bp, bq] = back as [typeof p, typeof q]
    t.true(bp.a.sab instanceof SharedArrayBuffer)
    t.is(bp.a.again, bp.a.sab)
    t.is(bp.a.i16.buffer, bp.a.sab)
    t.is((bp.list[0] as DataView).buffer, bp.a.sab)
    bp.a.i16[0] = 11
    t.is(new Int16Array(sab, 2, 3)[0], 11, 'a write through the result reaches the app\'s buffer')
    ;(bp.list[2] as Float64Array)[0] = 1.25
    t.is(new Float64Array(other)[0], 1.25)
    const bi = bq.m.get('i32')!
    t.is(bi.byteOffset, 8)
    t.is([...bq.set][0], bi.buffer)
    Atomics.store(bi, 0, -1)
    t.is(new Int32Array(sab, 8, 1)[0], -1)
  })
})

test.serial('a growable SharedArrayBuffer stays growable, and a length-tracking view keeps tracking', async (t) => {
  await withRt(t, 1, 30_000, async (rt) => {
    const g = new SharedArrayBuffer(8, { maxByteLength: 64 } as never) as SharedArrayBuffer & { growable: boolean }
    t.true(g.growable, 'Node grows SharedArrayBuffers')
    const view = new Uint8Array(g) // no length: it tracks the buffer's
    const r = await rt.run(sabs.grow, g, view, 32)
    t.deepEqual(r, { growable: true, viewLength: 32, byteLength: 32 })
    t.is(g.byteLength, 32, 'grown for the app too')
    t.is(new Uint8Array(g)[31], 5)
  })
})

test.serial('100,000 distinct SharedArrayBuffers through a channel: every one arrives once, and no thread\'s table grows with them', async (t) => {
  const n = 100_000
  const every = 1000
  await withRt(t, 2, 180_000, async (rt) => {
    const h = runtimeHeap(rt)
    let hostMax = 0
    const sample = setInterval(() => {
      hostMax = Math.max(hostMax, sabStats(h).entries)
    }, 5)
    const ch = chan<Int32Array>(64)
    const t0 = performance.now()
    let f, s
    try {
      ;[f, s] = await Promise.all([rt.run(sabs.flood, ch, n, every), rt.run(sabs.sink, ch, n, every)])
    } finally {
      clearInterval(sample)
    }
    const ms = performance.now() - t0
    t.is(s.count, n)
    t.is(s.bad, 0, 'each buffer arrived with its own index, in order')
    // The tables hold live blocks plus what a thread has not read yet: at
    // most a few hundred here; without drops they would reach n.
    const bound = n / 5
    t.log(`${n} buffers in ${ms.toFixed(0)} ms (${(ms * 1000 / n).toFixed(1)} µs each); table peaks: sender M ${f.max}, receiver M ${s.max}, host ${hostMax}`)
    t.true(f.max < bound, `sender's table peaked at ${f.max}`)
    t.true(s.max < bound, `receiver's table peaked at ${s.max}`)
    t.true(hostMax < bound, `host's table peaked at ${hostMax}`)
    t.is(f.last.posted, n)
    // Once quiet, every thread forgets them: the host, sysmon, and the Ms (sampled by goroutines).
    const settled = async (what: string, get: () => Promise<number>): Promise<number> => {
      let v = await get()
      for (let i = 0; i < 100 && v > 0; i++) {
        await new Promise((r) => setTimeout(r, 20))
        v = await get()
      }
      t.is(v, 0, `${what} still holds ${v} ids`)
      return v
    }
    await settled('the host', async () => sabStats(h).entries)
    await settled('sysmon', async () => (await rt.sysmonView()).sabEntries)
    const seenThreads = new Set<number>()
    await settled('the Ms', async () => {
      const rs = await Promise.all(Array.from({ length: 8 }, () => rt.run(sabs.stats)))
      for (const r of rs) seenThreads.add(r.threadId)
      return Math.max(...rs.map((r) => r.stats.entries))
    })
    t.log(`Ms sampled at the end: ${seenThreads.size}`)
  })
})

test.serial('an M started after a buffer was posted catches up from sysmon', async (t) => {
  await withRt(t, 1, 60_000, async (rt) => {
    const s = new Int32Array(new SharedArrayBuffer(4))
    const ch = chan<Int32Array>(1)
    // Posted now, while the runtime has its first two Ms only.
    await ch.send(s)
    // Block both Ms' threads: the receiver then needs a new M, which subscribes after the post.
    const ctl = new Int32Array(new SharedArrayBuffer(8))
    const blockers = [rt.run(sabs.block, ctl), rt.run(sabs.block, ctl)]
    for (let i = 0; i < 1000 && Atomics.load(ctl, 0) < 2; i++) await new Promise((r) => setTimeout(r, 10))
    t.is(Atomics.load(ctl, 0), 2, 'both Ms block')
    const r = await rt.run(sabs.recvAndWrite, ch)
    t.is(Atomics.load(s, 0), 7, 'the late M wrote into the app\'s buffer')
    t.is(r.stats.catchups, 1, 'it caught up once, from sysmon')
    Atomics.store(ctl, 1, 1)
    Atomics.notify(ctl, 1)
    const tids = await Promise.all(blockers)
    t.false(tids.includes(r.threadId), 'the receiver ran on neither blocked M')
  })
})

test.serial('bad input still fails clearly, and posts nothing', async (t) => {
  await withRt(t, 1, 30_000, async (rt) => {
    const h = runtimeHeap(rt)
    const { port1 } = new MessageChannel()
    const sab = new SharedArrayBuffer(4)
    const rejection = async (args: unknown[]): Promise<{ name: string; message: string }> => {
      try {
        await rt.run(sabs.writeAndNotify, ...(args as [Int32Array, number]))
      } catch (e) {
        return e as DOMException
      }
      return { name: 'none', message: 'it did not reject' }
    }
    // The first failed spawn leaves the host's own blocks (not the codec's): count from after one.
    t.is((await rejection([() => 1, 1])).name, 'DataCloneError')
    const before = sabStats(h)
    const inuse = heapStats(h).inuseBytes
    try {
      // A non-transferable host object next to shared memory.
      const a = await rejection([{ sab, port: port1 }, 1])
      t.is(a.name, 'DataCloneError')
      t.regex(a.message, /^argument 0: .*MessagePort/)
      // A function next to a view over shared memory.
      const b = await rejection([[new Int32Array(sab), () => 1], 1])
      t.is(b.name, 'DataCloneError')
      t.regex(b.message, /^argument 0: .*could not be cloned/)
      // A symbol in a Map (V8's path) beside a SharedArrayBuffer.
      const c = await rejection([new Map<unknown, unknown>([[sab, Symbol('s')]]), 1])
      t.is(c.name, 'DataCloneError')
      t.regex(c.message, /Symbol\(s\)/)
    } finally {
      port1.close()
    }
    const after = sabStats(h)
    t.is(after.posted, before.posted, 'nothing was posted')
    t.is(after.entries, before.entries)
    t.is(heapStats(h).inuseBytes, inuse, 'nothing allocated')
  })
})
