// malloc and free: the arena's blocks on one thread, against a sequential
// model (fast-check), and under contention from real worker threads.

import test, { type ExecutionContext } from 'ava'
import fc from 'fast-check'
import type { Worker } from 'node:worker_threads'
import {
  FatalError, G_PAYLOAD, HEAP_ALLOCS, HEAP_FREES, HEAP_FREE_BYTES, HEAP_INUSE_BLOCKS, HEAP_INUSE_BYTES, HEAP_LOCK,
  MAX_ALLOC, MIN_BLOCK, MUTEX_UNLOCKED, SharedHeap, free, gbase, heapStats, heapw, malloc, mallocSize,
  HEAP_FREEGEN, HEAP_FREEWAITERS, neverFits, tryMalloc,
} from 'gort/internal'
import { seeded, startFixture, withWatchdog } from './helpers.js'
import type { MallocReport, MallocStressData } from './fixtures/malloc.js'

const heap = (arenaBytes: number): SharedHeap =>
  SharedHeap.create({ maxProcs: 1, runqSize: 4, maxMs: 1, maxGs: 8, arenaBytes })

/**
 * The block malloc(n) needs (malloc.ts): an 8-byte header and a 4-byte
 * footer around n bytes, rounded up to 8, at least MIN_BLOCK. A block may be
 * 8 bytes larger, when the remainder of a split could not stand as a block.
 */
const need = (n: number): number => Math.max(MIN_BLOCK, (n + 8 + 4 + 7) & ~7)

/** The one free block a fresh or fully freed arena is: both sentinels take 8 bytes. */
const whole = (h: SharedHeap): number => h.layout.arenaBytes - 16

function heapLockFree(h: SharedHeap): boolean {
  return Atomics.load(h.i32, heapw(h.layout, HEAP_LOCK)) === MUTEX_UNLOCKED
}

function assertOneFreeBlock(t: ExecutionContext, h: SharedHeap): void {
  const s = heapStats(h)
  t.is(s.inuseBytes, 0)
  t.is(s.inuseBlocks, 0)
  t.is(s.freeBlocks, 1, 'free blocks were not coalesced')
  t.is(s.freeBytes, whole(h))
  t.is(s.largestFree, whole(h))
}

test('malloc returns disjoint 8-byte aligned blocks in the arena; mallocSize is the request', (t) => {
  const h = heap(1 << 18)
  const l = h.layout
  const sizes = [...Array.from({ length: 100 }, (_, i) => i), 1000, 4095, 4096, 65536]
  const blocks = sizes.map((n) => ({ p: malloc(h, n), n }))
  for (const { p, n } of blocks) {
    t.is(p % 8, 0, `malloc(${n}) = ${p} is not 8-aligned`)
    t.true(p >= l.arenaStartBytes + 16 && p + n <= l.arenaEndBytes - 8, `malloc(${n}) = ${p} is outside the arena`)
    t.is(mallocSize(h, p), n)
  }
  const sorted = [...blocks].sort((a, b) => a.p - b.p)
  for (let i = 1; i < sorted.length; i++) {
    t.true(sorted[i - 1].p + need(sorted[i - 1].n) <= sorted[i].p, `blocks at ${sorted[i - 1].p} and ${sorted[i].p} overlap`)
  }
  const s = heapStats(h)
  const needed = sizes.reduce((a, n) => a + need(n), 0)
  t.is(s.inuseBlocks, sizes.length)
  t.true(s.inuseBytes >= needed && s.inuseBytes <= needed + 8 * sizes.length)
  t.is(s.inuseBytes + s.freeBytes, whole(h))
  t.is(s.allocs, sizes.length)
  t.is(s.frees, 0)
  for (const { p } of blocks) free(h, p)
  assertOneFreeBlock(t, h)
  t.is(heapStats(h).frees, sizes.length)
})

test('a freed block is handed out again for the same size', (t) => {
  const h = heap(1 << 16)
  const p = malloc(h, 100)
  free(h, p)
  t.is(malloc(h, 100), p, 'the first block, merged back into the arena')
  const a = malloc(h, 100)
  const b = malloc(h, 100)
  const c = malloc(h, 100)
  free(h, b)
  t.is(malloc(h, 100), b, 'a hole between two blocks in use')
  free(h, b)
  t.is(malloc(h, 90), b, 'a smaller request of the same block size')
  for (const q of [p, a, b, c]) free(h, q)
  assertOneFreeBlock(t, h)
})

test('freeing many blocks in a random order coalesces the arena into one block', (t) => {
  const rng = seeded(t)
  const h = heap(1 << 20)
  const ps: number[] = []
  for (let i = 0; i < 500; i++) ps.push(malloc(h, rng.n(4) === 0 ? rng.n(8000) : rng.n(200)))
  for (let i = ps.length - 1; i > 0; i--) {
    const j = rng.n(i + 1)
    ;[ps[i], ps[j]] = [ps[j], ps[i]]
  }
  for (let i = 0; i < ps.length; i++) {
    free(h, ps[i])
    if (i % 50 === 0) {
      const s = heapStats(h)
      t.is(s.inuseBlocks, ps.length - i - 1)
      t.is(s.inuseBytes + s.freeBytes, whole(h))
    }
  }
  assertOneFreeBlock(t, h)
  // One block indeed: the largest request there is fits.
  const all = malloc(h, whole(h) - 12)
  t.is(heapStats(h).freeBlocks, 0)
  free(h, all)
  assertOneFreeBlock(t, h)
})

test('an exhausted arena throws a RangeError naming heapSize and stays usable', (t) => {
  const h = heap(4096)
  t.throws(() => malloc(h, 5000), { instanceOf: RangeError, message: /heapSize/ })
  t.throws(() => malloc(h, MAX_ALLOC), { instanceOf: RangeError, message: /heapSize/ })
  t.true(heapLockFree(h), 'a failed malloc left heap.lock held')
  const ps: number[] = []
  let err: unknown
  for (;;) {
    try {
      ps.push(malloc(h, 200))
    } catch (e) {
      err = e
      break
    }
  }
  t.true(err instanceof RangeError)
  t.regex((err as Error).message, /^malloc: .*heapSize/)
  t.is(ps.length, Math.floor(whole(h) / need(200)))
  t.true(heapLockFree(h))
  t.is(heapStats(h).inuseBlocks, ps.length)
  // Free one and the next malloc fits again, in the same place.
  const last = ps.pop()!
  free(h, last)
  t.is(malloc(h, 200), last)
  ps.push(last)
  for (const p of ps) free(h, p)
  assertOneFreeBlock(t, h)
  free(h, malloc(h, whole(h) - 12))
  t.throws(() => malloc(h, whole(h) - 11), { instanceOf: RangeError, message: /heapSize/ })
  assertOneFreeBlock(t, h)
})

test('tryMalloc: 0 instead of a throw, headroom left free; neverFits; free bumps freegen only while someone waits', (t) => {
  const h = heap(4096)
  t.false(neverFits(h, whole(h) - 12))
  t.true(neverFits(h, whole(h) - 11))
  t.true(neverFits(h, MAX_ALLOC + 1))
  const a = tryMalloc(h, 1000, false)
  t.not(a, 0)
  const free0 = heapStats(h).freeBytes
  t.is(tryMalloc(h, 1000, false, free0), 0, 'it would not leave the headroom free')
  const b = tryMalloc(h, 1000, false, 1000)
  t.not(b, 0, 'it leaves 1000 free')
  t.is(tryMalloc(h, 5000, false), 0)
  t.true(heapLockFree(h))
  // An arena holding only this block qualifies, whatever the headroom asked for.
  free(h, a)
  free(h, b)
  const all = tryMalloc(h, whole(h) - 12, false, 1 << 20)
  t.not(all, 0)
  const gen = heapw(h.layout, HEAP_FREEGEN)
  free(h, all)
  t.is(Atomics.load(h.i32, gen), 0, 'no waiter: free does not touch freegen')
  Atomics.add(h.i32, heapw(h.layout, HEAP_FREEWAITERS), 1)
  free(h, malloc(h, 64))
  t.is(Atomics.load(h.i32, gen), 1, 'a waiter: free bumps freegen')
  Atomics.sub(h.i32, heapw(h.layout, HEAP_FREEWAITERS), 1)
  assertOneFreeBlock(t, h)
})

test('malloc rejects sizes that are not integers from 0 to MAX_ALLOC with a RangeError', (t) => {
  const h = heap(1 << 16)
  for (const n of [-1, 1.5, NaN, Infinity, MAX_ALLOC + 1, '8' as unknown as number]) {
    t.throws(() => malloc(h, n), { instanceOf: RangeError, message: /^malloc: / }, `malloc(${String(n)})`)
  }
  t.is(heapStats(h).allocs, 0)
  t.true(heapLockFree(h))
})

test('free of a pointer malloc did not return is a FatalError that leaves the heap usable', (t) => {
  const h = heap(1 << 16)
  const l = h.layout
  const p = malloc(h, 64)
  h.u8.fill(0, p, p + 64)
  const garbage = [p + 4, p + 16, p + 1.5, 0, -8, l.arenaStartBytes, l.arenaEndBytes, l.arenaEndBytes + 64, NaN]
  for (const g of garbage) {
    t.throws(() => free(h, g), { instanceOf: FatalError, message: /^free: / }, `free(${g})`)
    t.true(heapLockFree(h), `free(${g}) left heap.lock held`)
  }
  t.is(heapStats(h).inuseBlocks, 1)
  free(h, p)
  assertOneFreeBlock(t, h)
})

test('a double free is a FatalError, whichever neighbours the block merged with', (t) => {
  // Blocks a b c d in a row, then the rest of the arena: free some neighbours
  // of b first, free b (merging with them), free b again.
  const cases: Array<[string, string[]]> = [
    ['no free neighbour', []],
    ['free block before', ['a']],
    ['free block after', ['c']],
    ['free blocks on both sides', ['a', 'c']],
  ]
  for (const [name, first] of cases) {
    const h = heap(1 << 16)
    const bl: Record<string, number> = {}
    for (const k of ['a', 'b', 'c', 'd']) bl[k] = malloc(h, 40)
    for (const k of first) free(h, bl[k])
    free(h, bl.b)
    const before = heapStats(h)
    t.throws(() => free(h, bl.b), { instanceOf: FatalError, message: /^free: / }, name)
    t.true(heapLockFree(h))
    t.deepEqual(heapStats(h), before, `${name}: the failed free changed the heap`)
    for (const k of ['a', 'c', 'd']) if (!first.includes(k)) free(h, bl[k])
    assertOneFreeBlock(t, h)
  }
  // The last block of the arena, merged back into the tail.
  const h = heap(1 << 16)
  const p = malloc(h, 8)
  free(h, p)
  t.throws(() => free(h, p), { instanceOf: FatalError, message: /^free: / })
  assertOneFreeBlock(t, h)
})

test('random malloc/free sequences match a model: disjoint, intact, accounted, coalesced', (t) => {
  const rng = seeded(t)
  // Small enough that the large requests sometimes find it full.
  const arenaBytes = 1 << 18
  const size = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 64 }), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: 2048 }), weight: 3 },
    { arbitrary: fc.integer({ min: 2049, max: 60_000 }), weight: 1 },
  )
  const op = fc.oneof(
    { arbitrary: size.map((n) => ({ kind: 'malloc' as const, n })), weight: 3 },
    { arbitrary: fc.nat().map((i) => ({ kind: 'free' as const, i })), weight: 2 },
  )
  const binOf = (s: number): number => 31 - Math.clz32(s)
  let exhausted = 0
  let opsRun = 0
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 200, size: 'max' }), fc.nat(), (ops, freeSeed) => {
      const h = heap(arenaBytes)
      const u8 = h.u8
      const live: Array<{ p: number; n: number; tag: number }> = []
      let tags = 0
      opsRun += ops.length
      const byte = (tag: number, i: number): number => (tag * 13 + i * 7 + 1) & 0xff
      const intact = (b: { p: number; n: number; tag: number }, full: boolean): boolean => {
        const check = (i: number): boolean => u8[b.p + i] === byte(b.tag, i)
        if (!full) return b.n === 0 || (check(0) && check(b.n - 1))
        for (let i = 0; i < b.n; i++) if (!check(i)) return false
        return true
      }
      const check = (): void => {
        const sorted = [...live].sort((a, b) => a.p - b.p)
        for (let i = 0; i < sorted.length; i++) {
          const b = sorted[i]
          if (b.p % 8 !== 0 || b.p < h.layout.arenaStartBytes + 16 || b.p + b.n > h.layout.arenaEndBytes - 8) {
            throw new Error(`block ${b.p} (${b.n}) misplaced`)
          }
          if (i > 0 && sorted[i - 1].p + need(sorted[i - 1].n) > b.p) throw new Error(`blocks ${sorted[i - 1].p} and ${b.p} overlap`)
          if (!intact(b, false)) throw new Error(`block ${b.p} (${b.n}) was overwritten`)
          if (mallocSize(h, b.p) !== b.n) throw new Error(`mallocSize(${b.p}) = ${mallocSize(h, b.p)}, want ${b.n}`)
        }
        const s = heapStats(h)
        const needed = live.reduce((a, b) => a + need(b.n), 0)
        if (s.inuseBlocks !== live.length) throw new Error(`inuseBlocks ${s.inuseBlocks}, model ${live.length}`)
        if (s.inuseBytes < needed || s.inuseBytes > needed + 8 * live.length) throw new Error(`inuseBytes ${s.inuseBytes}, model ${needed}`)
        if (s.inuseBytes + s.freeBytes !== whole(h)) throw new Error(`inuse ${s.inuseBytes} + free ${s.freeBytes} != ${whole(h)}`)
        if (s.allocs - s.frees !== live.length) throw new Error(`allocs ${s.allocs} - frees ${s.frees} != ${live.length}`)
      }
      for (const o of ops) {
        if (o.kind === 'malloc') {
          let p: number
          try {
            p = malloc(h, o.n)
          } catch (e) {
            if (!(e instanceof RangeError) || !/heapSize/.test(e.message)) throw e
            // Allowed only if no free block fits, or the one that does sits
            // in the request's own bin beyond the first-fit scan.
            const s = heapStats(h)
            if (s.largestFree >= need(o.n) && binOf(s.largestFree) !== binOf(need(o.n))) {
              throw new Error(`malloc(${o.n}) failed with a ${s.largestFree}-byte block free`)
            }
            exhausted++
            check()
            continue
          }
          const b = { p, n: o.n, tag: tags++ }
          for (let i = 0; i < b.n; i++) u8[p + i] = byte(b.tag, i)
          live.push(b)
        } else {
          if (live.length === 0) continue
          const [b] = live.splice(o.i % live.length, 1)
          if (!intact(b, true)) throw new Error(`block ${b.p} (${b.n}) was overwritten before its free`)
          free(h, b.p)
        }
        check()
      }
      for (const b of live) if (!intact(b, true)) throw new Error(`block ${b.p} (${b.n}) was overwritten`)
      // Free the rest in a random order; the arena must be one block again.
      let k = freeSeed
      while (live.length > 0) {
        const [b] = live.splice(k++ % live.length, 1)
        free(h, b.p)
      }
      const s = heapStats(h)
      if (s.inuseBytes !== 0 || s.inuseBlocks !== 0 || s.freeBlocks !== 1 || s.largestFree !== whole(h) || s.freeBytes !== whole(h)) {
        throw new Error(`after freeing everything: ${JSON.stringify(s)}`)
      }
    }),
    { seed: rng.seed | 0, numRuns: 150 },
  )
  t.log(`${opsRun} operations; ${exhausted} mallocs found the arena full`)
  t.pass()
})

test.serial('4 workers x 20,000 rounds of malloc, fill, verify, free keep every block intact', async (t) => {
  const rng = seeded(t)
  const workers = 4
  const rounds = 20_000
  const h = heap(1 << 20)
  const l = h.layout
  const arrivew = gbase(l, 1) + G_PAYLOAD
  const progress = (i: number): number => gbase(l, 2 + i) + G_PAYLOAD // G payload words are left to tests
  const dump = (): string => {
    const hw = { lock: HEAP_LOCK, inuseBytes: HEAP_INUSE_BYTES, inuseBlocks: HEAP_INUSE_BLOCKS, freeBytes: HEAP_FREE_BYTES, allocs: HEAP_ALLOCS, frees: HEAP_FREES }
    const lines = Object.entries(hw).map(([k, f]) => `heap.${k} = ${Atomics.load(h.i32, heapw(l, f))}`)
    lines.push(`arrived = ${Atomics.load(h.i32, arrivew)}`)
    for (let i = 0; i < workers; i++) lines.push(`worker ${i} rounds done = ${Atomics.load(h.i32, progress(i))}`)
    return lines.join('\n')
  }
  const started: Worker[] = []
  const reports = await withWatchdog(t, 40_000, dump, () => started, () => {
    const rs: Array<Promise<MallocReport>> = []
    for (let id = 0; id < workers; id++) {
      const data: MallocStressData = { sab: h.sab, id, seed: rng.next(), rounds, arrivew, workers, progressw: progress(id) }
      const f = startFixture<MallocReport>('malloc', data)
      started.push(f.worker)
      rs.push(f.result)
    }
    return Promise.all(rs)
  })
  for (const [id, r] of reports.entries()) {
    t.deepEqual(r.errors, [], `worker ${id}`)
    t.is(r.bad, 0)
    t.true(r.allocs >= rounds)
  }
  const allocs = reports.reduce((a, r) => a + r.allocs, 0)
  const frees = reports.reduce((a, r) => a + r.frees, 0)
  t.is(allocs, frees)
  const s = heapStats(h)
  t.is(s.allocs, allocs)
  t.is(s.frees, frees)
  assertOneFreeBlock(t, h)
  t.log(`${allocs} blocks, ${reports.reduce((a, r) => a + r.bytes, 0)} bytes written and verified`)
})
