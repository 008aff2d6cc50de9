// Channels, sync objects and contexts that nothing references any more are
// freed from the shared heap (internal/refs.ts): handles on every thread,
// handles in flight in value blocks, records holding records.

import test from 'ava'
import { setImmediate as tick } from 'node:timers/promises'
import { Cond, Mutex, WaitGroup, background, chan, withCancel, withTimeout, type Chan, type Runtime } from 'gort'
import { heapStats, requestCollection, type SharedHeap } from 'gort/internal'
import { refs, gc } from './fixtures/refs.js'
import { seeded, withRuntime } from './helpers.js'

const heapOf = (o: object): SharedHeap => (o as { heap: SharedHeap }).heap

/** Collects on every thread until the arena's bytes in use come back to `want`, or `ms` pass; returns the last figure. */
async function settleTo(rt: Runtime, h: SharedHeap, want: number, ms: number): Promise<number> {
  const end = Date.now() + ms
  let inuse = heapStats(h).inuseBytes
  while (inuse !== want && Date.now() < end) {
    requestCollection(h) // every thread, idle Ms too, collects
    gc()
    await Promise.all(Array.from({ length: 4 }, () => rt.run(refs.settle)))
    await tick()
    inuse = heapStats(h).inuseBytes
  }
  return inuse
}

/** The bytes in use once collections on every thread stop changing it (three rounds alike). */
async function settled(rt: Runtime, h: SharedHeap): Promise<number> {
  let last = -1
  let same = 0
  for (let i = 0; i < 50 && same < 2; i++) {
    const now = await settleTo(rt, h, -1, 150)
    same = now === last ? same + 1 : 0
    last = now
  }
  return last
}

async function warmUp(rt: Runtime, seed1: number, seed2: number): Promise<void> {
  await hostChurn(2_000)
  await Promise.all([rt.run(refs.churn, 2_000, seed1), rt.run(refs.churn, 2_000, seed2)])
  const wg = new WaitGroup()
  wg.add(1)
  await rt.run(refs.pick, chan<number>(1), [], wg)
  await wg.wait()
}

/** The app's share of the churn: n channels (some holding values and other channels) and sync objects, dropped. */
async function hostChurn(n: number): Promise<number> {
  let made = 0
  for (let i = 0; i < n; i++) {
    const c = chan<unknown>(i % 3)
    made++
    if (i % 3 === 1) await c.send(i)
    else if (i % 3 === 2) {
      const inner = chan<string>(1)
      await inner.send('x')
      await c.send([inner, { deep: chan(0) }])
      made += 2
    }
    if (i % 64 === 0) {
      const mu = new Mutex()
      void new Cond(mu)
      const [ctx, cancel] = withCancel(background())
      const [child] = withTimeout(ctx, 60_000)
      void child.done()
      cancel() // cancels the child and its timer too
      made += 4
    }
    if (i % 10_000 === 0) await tick()
  }
  return made
}

test.serial('a million channels and sync objects made and dropped on the app\'s thread and the Ms: the heap\'s accounting returns to its start', async (t) => {
  const rand = seeded(t)
  await withRuntime(t, 2, 120_000, async (rt, state) => {
    const h = heapOf(chan(0))
    state.heap = () => heapStats(h)
    // Warm up every path once (function table entries, per-thread caches),
    // in a function of its own, so that nothing it made is still in scope.
    await warmUp(rt, rand.next(), rand.next())
    const start = await settled(rt, h)
    t.log(`in use at start: ${start} bytes`)

    let peak = 0
    const sample = setInterval(() => { peak = Math.max(peak, heapStats(h).inuseBytes) }, 5)
    const [hostMade, ...mMade] = await Promise.all([
      hostChurn(600_000),
      rt.run(refs.churn, 250_000, rand.next()),
      rt.run(refs.churn, 250_000, rand.next()),
    ])
    // Handles in flight: as goroutine arguments and results.
    for (let i = 0; i < 2_000; i++) {
      const wg = new WaitGroup()
      wg.add(1)
      const back: Chan<number> = await rt.run(refs.pick, chan<number>(1), [chan<number>(0), chan<number>(2)], wg)
      await back.send(i)
      await wg.wait()
    }
    clearInterval(sample)
    const made = hostMade + (mMade as number[]).reduce((a, b) => a + b, 0) + 2_000 * 4
    t.true(made >= 1_000_000, `made ${made}`)
    // Down to the start, or below it: garbage of the warm-up a busy machine
    // had not collected yet when the start was read is freed by now too.
    let end = await settleTo(rt, h, start, 20_000)
    if (end < start) end = await settled(rt, h)
    t.log(`made ${made} records; peak in use ${peak} bytes (a 64 MiB heap); at the end ${end}`)
    t.true(end <= start, `every record made was freed: ${end} bytes in use at the end, ${start} at the start`)
  })
})

test.serial('a channel sent over a channel outlives the sender\'s handle; a context lives while its children do', async (t) => {
  await withRuntime(t, 2, 30_000, async (rt) => {
    const h = heapOf(chan(0))
    const start = await settled(rt, h)
    const outer = chan<Chan<string>>(1)
    {
      const inner = chan<string>(1)
      await inner.send('kept')
      await outer.send(inner)
    } // the only handle to inner is gone: the block in outer's buffer holds it
    await settleTo(rt, h, start, 300) // collects; inner must survive
    const got = (await outer.recv())!
    t.is(await got.recv(), 'kept')
    const [parent, cancelParent] = withCancel(background())
    const [child, cancelChild] = withCancel(parent)
    const done = child.done()
    cancelParent()
    t.deepEqual(await done.recvOk(), [undefined, false], 'the child was cancelled through its parent')
    cancelChild()
    t.is(child.err()?.message, 'context canceled')
  })
  t.pass()
})

test.serial('decodings of one record on a thread share a handle object; a lone handle argument in the G record holds the record until the goroutine has it', async (t) => {
  await withRuntime(t, 2, 60_000, async (rt) => {
    const h = heapOf(chan(0))
    const mu = new Mutex()
    const cond = new Cond(mu)
    const c = chan<number>(0)
    t.deepEqual(await rt.run(refs.same, c, c, mu, mu, cond), [true, true, true], 'one Chan, one Mutex (and the Cond\'s L) per record on the M')
    // 10,000 goroutines parked on 2,000 channels that only their arguments
    // hold (the app drops its handles), on each channel 3 spawned by the app
    // and 2 by a goroutine. Twice: the first round fills the threads' caches.
    const round = async (): Promise<void> => {
      const chans = Array.from({ length: 2_000 }, () => chan<number>(0))
      const gs = chans.flatMap((ch) => [rt.go(refs.recvOnce, ch), rt.go(refs.recvOnce, ch), rt.go(refs.recvOnce, ch)])
      await Promise.all(chans.map((ch) => rt.run(refs.spawnRecvOnce, ch, 2)))
      while (rt.numGoroutine() < 10_000) await tick()
      for (const [i, ch] of chans.entries()) for (let k = 0; k < 5; k++) await ch.send(i * 5 + k)
      const got = await Promise.all(gs.map((g) => g.result))
      t.is(new Set(got).size, 6_000, 'every app-spawned receiver got a value of its own')
      while (rt.numGoroutine() > 0) await tick()
    }
    await round()
    const start = await settled(rt, h)
    await round()
    const end = await settleTo(rt, h, start, 20_000)
    // A leaked reference per channel would keep 2,000 records (128 KB); a
    // new M's sudog cache can hold 7 KB.
    t.true(end - start < 64 * 1024, `the channels were freed once their goroutines ended: ${end} bytes in use, ${start} at the start`)
  })
})

test.serial('rt.go makes the result promise only when asked: before or after the goroutine ends, and a failure still rejects', async (t) => {
  await withRuntime(t, 2, 30_000, async (rt) => {
    const c = chan<number>(0)
    const early = rt.go(refs.recvOnce, c)
    const late = rt.go(refs.recvOnce, c)
    const p = early.result
    await c.send(1)
    await c.send(2)
    const a = await p
    while (rt.numGoroutine() > 0) await tick()
    const b = await late.result // asked for only after it ended
    t.deepEqual([a, b].sort(), [1, 2])
    t.true(Number.isInteger(early.id) && early.id !== late.id)
    const failing = rt.go(refs.pick, 42 as unknown as Chan<number>, [], undefined as unknown as WaitGroup)
    while (rt.numGoroutine() > 0) await tick()
    await t.throwsAsync(failing.result, { instanceOf: TypeError }, 'the failure rejects the promise asked for afterwards')
  })
})
