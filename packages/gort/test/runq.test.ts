// Go's RunSchedLocalQueueTest and RunSchedLocalQueueStealTest (export_test.go),
// at ring capacity 4 and 256, plus the global queue's batch rule.

import test from 'ava'
import {
  SharedHeap, globrunqget, globrunqput, globrunqsize, lock, runqempty, runqget, runqput, runqsteal,
  runqlen, runqspillhead, schedw, unlock, SCHED_LOCK, SCHED_GOMAXPROCS,
} from 'gort/internal'
import * as internal from 'gort/internal'

function heap(runqSize: number, maxProcs = 2): SharedHeap {
  return SharedHeap.create({ maxProcs, runqSize, maxMs: 1, maxGs: 4 * runqSize + 8, arenaBytes: 0 })
}

for (const size of [4, 256]) {
  test(`RunSchedLocalQueueTest at capacity ${size}: FIFO for 0 to ${size - 1} items`, (t) => {
    const h = heap(size)
    for (let i = 0; i < size; i++) {
      t.is(runqget(h, 0), 0, 'runq is not empty initially')
      t.true(runqempty(h, 0))
      for (let j = 0; j < i; j++) runqput(h, 0, j + 1, false)
      t.is(runqlen(h, 0), i)
      for (let j = 0; j < i; j++) {
        const g = runqget(h, 0)
        if (g !== j + 1) return t.fail(`bad element at iter ${i}/${j}: got ${g}`)
        t.false(internal.runqgetInheritTime)
      }
      t.is(runqget(h, 0), 0, 'runq is not empty afterwards')
    }
  })

  test(`RunSchedLocalQueueStealTest at capacity ${size}: a steal takes i/2 or i/2+1, nothing lost or duplicated`, (t) => {
    const h = heap(size)
    for (let i = 0; i < size; i++) {
      const sig = new Int32Array(i + 1)
      for (let j = 0; j < i; j++) runqput(h, 0, j + 1, false)
      let s = 0
      let gp = runqsteal(h, 1, 0, true)
      if (gp !== 0) {
        s++
        sig[gp - 1]++
      }
      while ((gp = runqget(h, 1)) !== 0) {
        s++
        sig[gp - 1]++
      }
      while ((gp = runqget(h, 0)) !== 0) sig[gp - 1]++
      for (let j = 0; j < i; j++) if (sig[j] !== 1) return t.fail(`bad element ${j} (${sig[j]}) at iter ${i}`)
      t.true(s === i >> 1 || s === (i >> 1) + 1, `bad steal ${s}, want ${i >> 1} or ${(i >> 1) + 1}, iter ${i}`)
    }
  })
}

test('runnext: runqput(next) runs before the ring, inherits the time slice, and kicks the old runnext to the tail', (t) => {
  const h = heap(4)
  runqput(h, 0, 1, false)
  runqput(h, 0, 2, true)
  runqput(h, 0, 3, true) // 2 goes to the ring's tail
  t.is(runqlen(h, 0), 3)
  t.is(runqget(h, 0), 3)
  t.true(internal.runqgetInheritTime)
  t.is(runqget(h, 0), 1)
  t.false(internal.runqgetInheritTime)
  t.is(runqget(h, 0), 2)
  t.true(runqempty(h, 0))
})

test('a thief takes runnext only when asked and the ring is empty', (t) => {
  const h = heap(4)
  runqput(h, 0, 7, true)
  t.false(runqempty(h, 0))
  t.is(runqsteal(h, 1, 0, false), 0)
  t.is(runqsteal(h, 1, 0, true), 7)
  t.true(runqempty(h, 0))
})

test('a full ring spills half of itself plus the new G to the global queue, in order', (t) => {
  const h = heap(4)
  for (let g = 1; g <= 5; g++) runqput(h, 0, g, false)
  // The ring held 1..4; runqputslow moved 1, 2 and the new 5 out.
  t.is(runqlen(h, 0), 2)
  t.is(globrunqsize(h), 3)
  const m = h.i32
  m[schedw(h.layout, SCHED_GOMAXPROCS)] = 1
  lock(m, schedw(h.layout, SCHED_LOCK))
  const gp = globrunqget(h, 1, 0)
  unlock(m, schedw(h.layout, SCHED_LOCK))
  t.is(gp, 1)
  // The batch is min(size, size/gomaxprocs + 1, ring/2) = 2: G 2 went to P1's ring.
  t.is(runqget(h, 1), 2)
  t.is(globrunqsize(h), 1)
  t.deepEqual([runqget(h, 0), runqget(h, 0), runqget(h, 0)], [3, 4, 0])
})

test('runqspillhead moves runnext and the ring, in runqget\'s order, ahead of what the global queue held', (t) => {
  const h = heap(4)
  const m = h.i32
  lock(m, schedw(h.layout, SCHED_LOCK))
  globrunqput(h, 10)
  globrunqput(h, 11)
  unlock(m, schedw(h.layout, SCHED_LOCK))
  for (let g = 1; g <= 3; g++) runqput(h, 0, g, false)
  runqput(h, 0, 4, true) // runnext
  lock(m, schedw(h.layout, SCHED_LOCK))
  t.is(runqspillhead(h, 0), 4)
  t.true(runqempty(h, 0))
  t.is(globrunqsize(h), 6)
  const order: number[] = []
  for (let gp; (gp = globrunqget(h, 1, 1)) !== 0; ) order.push(gp)
  t.is(runqspillhead(h, 0), 0, 'an empty P moves nothing')
  unlock(m, schedw(h.layout, SCHED_LOCK))
  t.deepEqual(order, [4, 1, 2, 3, 10, 11])
})

test('globrunqget takes a fair share: size/gomaxprocs + 1, capped by max and by half the ring', (t) => {
  const h = heap(256, 4)
  const m = h.i32
  m[schedw(h.layout, SCHED_GOMAXPROCS)] = 4
  lock(m, schedw(h.layout, SCHED_LOCK))
  for (let g = 1; g <= 400; g++) globrunqput(h, g)
  t.is(globrunqget(h, 0, 0), 1) // n = 400/4 + 1 = 101: one returned, 100 on the ring
  t.is(runqlen(h, 0), 100)
  t.is(globrunqget(h, 1, 10), 102) // max caps it at 10
  t.is(runqlen(h, 1), 9)
  unlock(m, schedw(h.layout, SCHED_LOCK))
  t.is(globrunqsize(h), 400 - 101 - 10)
  const order: number[] = []
  for (let g; (g = runqget(h, 0)) !== 0; ) order.push(g)
  t.deepEqual(order, Array.from({ length: 100 }, (_, i) => i + 2))
})

test('globrunqget never spills into a full ring while sched.lock is held (the batch is capped by free slots)', (t) => {
  const h = heap(4)
  const m = h.i32
  m[schedw(h.layout, SCHED_GOMAXPROCS)] = 1
  for (let g = 1; g <= 3; g++) runqput(h, 0, g, false) // one free slot left
  lock(m, schedw(h.layout, SCHED_LOCK))
  for (let g = 10; g < 20; g++) globrunqput(h, g)
  // Go's rule would give min(10, 10/1 + 1, 4/2) = 2, one onto the ring; one free slot allows exactly that.
  t.is(globrunqget(h, 0, 0), 10)
  t.is(runqlen(h, 0), 4)
  // Now the ring is full: only the returned G may be taken.
  t.is(globrunqget(h, 0, 0), 12)
  t.is(runqlen(h, 0), 4)
  unlock(m, schedw(h.layout, SCHED_LOCK))
  t.is(globrunqsize(h), 7)
})

test('the inject stack: batches pushed without sched.lock come out of the global queue oldest first, each in its own order; globrunqsize counts them meanwhile', (t) => {
  const h = heap(256)
  const m = h.i32
  const l = h.layout
  const link = (gs: number[]): [number, number] => {
    for (let i = 0; i + 1 < gs.length; i++) m[internal.gbase(l, gs[i]) + internal.G_SCHEDLINK] = gs[i + 1]
    return [gs[0], gs[gs.length - 1]]
  }
  globrunqput(h, 1) // already queued: stays first
  const batches = [[2, 3, 4], [5], [6, 7, 8, 9, 10]]
  for (const b of batches) {
    const [head, tail] = link(b)
    internal.globrunqinject(h, head, tail, b.length)
  }
  t.is(globrunqsize(h), 10)
  const got: number[] = []
  lock(m, schedw(l, SCHED_LOCK))
  for (let gp; (gp = globrunqget(h, 0, 1)) !== 0; ) got.push(gp)
  unlock(m, schedw(l, SCHED_LOCK))
  t.deepEqual(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.is(globrunqsize(h), 0)
})
