// Go's chan_test.go tests, ported: each asserts what the original asserts.

import test from 'ava'
import { Runtime, WaitGroup, chan } from 'gort'
import { gotests } from './fixtures/changot.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('TestNonblockRecvRace: a receive from a closed or non-empty channel is always ready', async (t) => {
  const results: Array<Promise<boolean>> = []
  for (let i = 0; i < 2000; i++) {
    const c = chan<number>(1)
    await c.send(1)
    results.push(rt.run(gotests.nonblockRecv, c))
    c.close()
    await c.recv()
  }
  const ok = await Promise.all(results)
  t.is(ok.filter((x) => !x).length, 0, 'chan is not ready')
})

test.serial('TestNonblockSelectRace: a select over a full channel and one being filled never takes its default', async (t) => {
  // Go's loop, with the main goroutine's part on an M too (nonblockSelectMain)
  // so that the two race on two threads.
  let notReady = 0
  for (let batch = 0; batch < 20; batch++) {
    const runs: Array<Promise<boolean>> = []
    for (let i = 0; i < 100; i++) {
      const c1 = chan<number>(1)
      const c2 = chan<number>(1)
      await c1.send(1)
      runs.push(rt.run(gotests.nonblockSelect, c1, c2))
      runs.push(rt.run(gotests.nonblockSelectMain, c1, c2).then(() => true))
    }
    notReady += (await Promise.all(runs)).filter((ok) => !ok).length
  }
  t.is(notReady, 0, 'no chan is ready')
})

test.serial('TestSelfSelect: a goroutine never receives its own send on an unbuffered channel', async (t) => {
  for (const chanCap of [0, 10]) {
    const c = chan<number>(chanCap)
    const selfs = await Promise.all([0, 1].map((p) => rt.run(gotests.selfSelect, c, p, chanCap)))
    t.deepEqual(selfs, [0, 0], `self receive at cap ${chanCap}`)
  }
})

test.serial('TestMultiConsumer: 23 workers, every value exactly once, sums match', async (t) => {
  const nwork = 23
  const niter = 20_000
  const pn = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31]
  const q = chan<number>(nwork * 3)
  const r = chan<number>(nwork * 3)
  const wg = new WaitGroup()
  for (let i = 0; i < nwork; i++) {
    wg.add(1)
    rt.go(gotests.consumer, q, r, i, wg)
  }
  let expect = 0
  const feeder = (async () => {
    for (let i = 0; i < niter; i++) {
      const v = pn[i % pn.length]
      expect += v
      await q.send(v)
    }
    q.close()
  })()
  rt.go(gotests.closer, wg, r)
  let n = 0
  let s = 0
  for await (const v of r) {
    n++
    s += v
  }
  await feeder
  t.is(n, niter)
  t.is(s, expect)
})

test.serial('TestPseudoRandomSend: select picks both of two ready send cases', async (t) => {
  const n = 100
  const [a0, a1, b0, b1] = await rt.run(gotests.pseudoRandomSend, n)
  for (const [n0, n1] of [[a0, a1], [b0, b1]]) {
    t.true(n0 > n / 10 && n1 > n / 10, `Want pseudorandom, got ${n0} zeros and ${n1} ones`)
  }
})

test.serial('TestSelectStress (scaled): senders and receivers mixing select and plain operations all finish', async (t) => {
  const n = 2000
  t.is(await rt.run(gotests.selectStress, n), 8 * n)
})
