// Stress: one owner thread putting and getting, several thieves stealing,
// across real worker threads; every item must be seen exactly once.

import test from 'ava'
import { SharedHeap, gbase, globrunqsize, pbase, schedw, P_RUNNEXT, P_RUNQHEAD, P_RUNQTAIL, SCHED_NGFREE, G_SCHEDLINK, SCHED_GFREE } from 'gort/internal'
import type { Worker } from 'node:worker_threads'
import { seeded, startFixture, withWatchdog } from './helpers.js'

interface Report { sum: number; count: number; steals: number; globs: number }

async function stress(t: import('ava').ExecutionContext, runqSize: number, items: number, thieves: number): Promise<void> {
  const rnd = seeded(t)
  const nprocs = thieves + 1
  const maxGs = 1 << 14
  const window = maxGs - 2 * 64 * nprocs - 8
  const h = SharedHeap.create({ maxProcs: nprocs, runqSize, maxMs: 1, maxGs, arenaBytes: 0 })
  const m = h.i32
  // All Gs start on the free list.
  for (let g = 1; g < maxGs - 1; g++) m[gbase(h.layout, g) + G_SCHEDLINK] = g + 1
  m[schedw(h.layout, SCHED_GFREE)] = 1
  m[schedw(h.layout, SCHED_NGFREE)] = maxGs - 1
  const seen = new SharedArrayBuffer(4 * (items + 1))
  const counters = new SharedArrayBuffer(16)
  const ctr = new Int32Array(counters)
  const workers: Worker[] = []
  const results: Array<Promise<Report>> = []
  for (let pp = 0; pp < nprocs; pp++) {
    const s = startFixture<Report>('runq-stress', {
      sab: h.sab, seen, counters, role: pp === 0 ? 'owner' : 'thief', pp, nprocs, items, window, seed: rnd.next(),
    })
    workers.push(s.worker)
    results.push(s.result)
  }
  const dump = (): string => {
    const lines = [`produced ${Atomics.load(ctr, 0)} consumed ${Atomics.load(ctr, 1)} of ${items}; global runq ${globrunqsize(h)}; free Gs ${Atomics.load(m, schedw(h.layout, SCHED_NGFREE))}`]
    for (let pp = 0; pp < nprocs; pp++) {
      const b = pbase(h.layout, pp)
      lines.push(`P${pp}: head ${Atomics.load(m, b + P_RUNQHEAD) >>> 0} tail ${Atomics.load(m, b + P_RUNQTAIL) >>> 0} runnext ${Atomics.load(m, b + P_RUNNEXT)}`)
    }
    return lines.join('\n')
  }
  const reports = await withWatchdog(t, 90_000, dump, () => workers, () => Promise.all(results))
  const count = reports.reduce((a, r) => a + r.count, 0)
  const sum = reports.reduce((a, r) => a + r.sum, 0)
  t.is(count, items, 'every item consumed once in total')
  t.is(sum, (items * (items + 1)) / 2, 'checksum of consumed items')
  const s = new Int32Array(seen)
  let bad = 0
  for (let i = 1; i <= items; i++) if (s[i] !== 1) bad++
  t.is(bad, 0, 'items not seen exactly once')
  t.true(reports.slice(1).some((r) => r.steals > 0), 'the thieves stole')
  t.log(`steals ${reports.map((r) => r.steals).join(' ')}; global gets ${reports.map((r) => r.globs).join(' ')}`)
  t.is(globrunqsize(h), 0)
}

test('1,000,000 items through a 256-slot ring: owner + 2 thieves, each seen exactly once', async (t) => {
  await stress(t, 256, 1_000_000, 2)
})

test('200,000 items through a 4-slot ring (constant overflow to the global queue): owner + 3 thieves', async (t) => {
  await stress(t, 4, 200_000, 3)
})
