// One P of the foundation demo (runq-demo.ts).

import { parentPort, workerData } from 'node:worker_threads'
import {
  FastRand, SharedHeap, gbase, globrunqget, lock, runqget, runqput, runqsteal, schedw, unlock,
  G_PAYLOAD, G_SCHEDLINK, SCHED_GFLOCK, SCHED_GFREE, SCHED_LOCK, SCHED_NGFREE,
} from 'gort/internal'

const { sab, counters, pp, nprocs, items, window } = workerData as {
  sab: SharedArrayBuffer; counters: SharedArrayBuffer; pp: number; nprocs: number; items: number; window: number
}
const h = SharedHeap.attach(sab)
const m = h.i32
const l = h.layout
const ctr = new Int32Array(counters) // [0] items processed
const schedLock = schedw(l, SCHED_LOCK)
const gfLock = schedw(l, SCHED_GFLOCK) // the free G list's own lock
const rnd = new FastRand(pp * 7919 + 1)
const report = { pp, own: 0, stolen: 0, global: 0, steals: 0, checksum: 0 }
const freed: number[] = []

// The work: count the divisors of the item's number.
function work(gp: number): void {
  const n = m[gbase(l, gp) + G_PAYLOAD]
  let d = 0
  for (let i = 1; i * i <= n; i++) if (n % i === 0) d += i * i === n ? 1 : 2
  report.checksum += n + (d < 0 ? 1 : 0)
  freed.push(gp)
  if (freed.length === 64) giveBack()
  Atomics.add(ctr, 0, 1)
}

// Return finished Gs to the shared free list, 64 at a time.
function giveBack(): void {
  if (freed.length === 0) return
  for (let i = 0; i < freed.length - 1; i++) m[gbase(l, freed[i]) + G_SCHEDLINK] = freed[i + 1]
  lock(m, gfLock)
  m[gbase(l, freed[freed.length - 1]) + G_SCHEDLINK] = m[schedw(l, SCHED_GFREE)]
  m[schedw(l, SCHED_GFREE)] = freed[0]
  m[schedw(l, SCHED_NGFREE)] += freed.length
  unlock(m, gfLock)
  freed.length = 0
}

function fromGlobal(): number {
  lock(m, schedLock)
  const gp = globrunqget(h, pp, 0)
  unlock(m, schedLock)
  return gp
}

// One round of Go's findRunnable, without the parking: local, global, steal.
function findWork(): boolean {
  let gp = runqget(h, pp)
  if (gp !== 0) {
    report.own++
    work(gp)
    return true
  }
  gp = fromGlobal()
  if (gp !== 0) {
    report.global++
    work(gp)
    return true
  }
  let victim = rnd.n(nprocs - 1)
  if (victim >= pp) victim++
  gp = runqsteal(h, pp, victim, true)
  if (gp !== 0) {
    // The steal moved half of the victim's ring: one G to run now, the rest
    // onto our own ring (counted as 'own' when we run them).
    report.steals++
    report.stolen++
    work(gp)
    return true
  }
  giveBack()
  return false
}

if (pp === 0) {
  let cache = 0
  for (let i = 1; i <= items; i++) {
    while (i - 1 - Atomics.load(ctr, 0) >= window) findWork()
    while (cache === 0) {
      lock(m, gfLock)
      cache = m[schedw(l, SCHED_GFREE)]
      m[schedw(l, SCHED_GFREE)] = 0
      m[schedw(l, SCHED_NGFREE)] = 0
      unlock(m, gfLock)
      if (cache === 0) findWork()
    }
    const gp = cache
    cache = m[gbase(l, gp) + G_SCHEDLINK]
    m[gbase(l, gp) + G_PAYLOAD] = i
    runqput(h, pp, gp, false)
  }
  while (cache !== 0) {
    freed.push(cache)
    cache = m[gbase(l, cache) + G_SCHEDLINK]
  }
  giveBack()
}
while (Atomics.load(ctr, 0) < items) findWork()
giveBack()
parentPort!.postMessage(report)
