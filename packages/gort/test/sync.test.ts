// sync: WaitGroup inside goroutines, across Ms and on the app's thread.

import test from 'ava'
import { Runtime, WaitGroup, chan } from 'gort'
import { syncs } from './fixtures/syncs.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('Go\'s TestWaitGroup', async (t) => {
  t.is(await rt.run(syncs.testWaitGroup, 16), '')
})

test.serial('Go\'s TestWaitGroupMisuse: "sync: negative WaitGroup counter"', async (t) => {
  t.is(await rt.run(syncs.misuse), 'sync: negative WaitGroup counter')
  const wg = new WaitGroup()
  t.throws(() => wg.done(), { message: 'sync: negative WaitGroup counter' })
  t.throws(() => wg.add(1.5), { instanceOf: TypeError })
})

test.serial('a WaitGroup made by the app, passed to goroutines on any M, awaited by the app', async (t) => {
  const n = 200
  const wg = new WaitGroup()
  const out = chan<number>(n)
  wg.add(n)
  for (let i = 0; i < n; i++) rt.go(syncs.part, wg, out, i)
  await wg.wait()
  t.is(wg.count(), 0)
  t.is(out.len(), n)
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) seen.add((await out.recv())!)
  t.is(seen.size, n)
  await wg.wait() // zero: returns at once
})

import { Mutex } from 'gort'
import { mutexes } from './fixtures/syncs.js'

test.serial('Go\'s TestMutex across Ms: 10 hammering goroutines, never two holders at once', async (t) => {
  const mu = new Mutex()
  const inside = chan<number>(1)
  const v = await Promise.all(Array.from({ length: 10 }, () => rt.run(mutexes.hammer, mu, inside, 1000)))
  t.deepEqual(v, Array(10).fill(0))
  t.false(mu.locked())
})

test.serial('Go\'s TestMutexFairness: a waiter gets the lock from a goroutine that keeps retaking it', async (t) => {
  t.is(await rt.run(mutexes.fairness), 10)
})

test.serial('Mutex misuse and the app\'s thread', async (t) => {
  t.is(await rt.run(mutexes.unlockMisuse), 'sync: unlock of unlocked mutex')
  const mu = new Mutex()
  t.true(mu.tryLock())
  t.false(mu.tryLock())
  let got = false
  const waiting = mu.lock().then(() => {
    got = true
  })
  await new Promise((r) => setTimeout(r, 10))
  t.false(got, 'lock waits while held')
  mu.unlock()
  await waiting
  t.true(got)
  mu.unlock()
  t.throws(() => mu.unlock(), { message: 'sync: unlock of unlocked mutex' })
})

import { Semaphore, Once } from 'gort'
import { more } from './fixtures/syncs.js'

test.serial('a weighted Semaphore bounds the holders across Ms; tryAcquire and misuse', async (t) => {
  const sem = new Semaphore(3)
  const inside = chan<number>(1)
  const maxSeen = chan<number>(1)
  await inside.send(0)
  await maxSeen.send(0)
  await Promise.all(Array.from({ length: 30 }, (_, i) => rt.run(more.semWorker, sem, inside, maxSeen, 1 + (i % 2))))
  const max = (await maxSeen.recv())!
  t.true(max >= 1 && max <= 3, `at most 3 permits held at once, saw ${max}`)
  t.is(await inside.recv(), 0)
  t.true(sem.tryAcquire(3))
  t.false(sem.tryAcquire(1))
  sem.release(3)
  t.deepEqual(await rt.run(more.semMisuse), ['semaphore: released more than held', 'RangeError'])
})

test.serial('Once runs its function once across Ms; the others wait for it', async (t) => {
  const once = new Once()
  const runs = chan<number>(10)
  const seen = await Promise.all(Array.from({ length: 10 }, () => rt.run(more.onceUser, once, runs)))
  t.deepEqual(seen, Array(10).fill(1), 'every caller returned after the one run')
  let hostRan = false
  await once.do(() => {
    hostRan = true
  })
  t.false(hostRan)
})

import { RWMutex } from 'gort'
import { rw } from './fixtures/syncs.js'

test.serial('RWMutex across Ms: readers share, a writer is alone; Go\'s misuse messages', async (t) => {
  const mu = new RWMutex()
  const cell = chan<number>(1)
  await cell.send(0)
  const bad = await Promise.all([
    ...Array.from({ length: 6 }, () => rt.run(rw.rwHammer, mu, cell, false, 300)),
    ...Array.from({ length: 2 }, () => rt.run(rw.rwHammer, mu, cell, true, 300)),
  ])
  t.deepEqual(bad, Array(8).fill(0))
  t.is(await cell.recv(), 0)
  t.deepEqual(await rt.run(rw.rwMisuse), ['sync: RUnlock of unlocked RWMutex', 'sync: Unlock of unlocked RWMutex'])
  t.true(mu.tryRLock())
  t.false(mu.tryLock())
  mu.runlock()
})

test.serial('Cond: signal wakes one waiter, broadcast wakes the rest', async (t) => {
  t.deepEqual(await rt.run(rw.cond, 8), [8, 8])
})
