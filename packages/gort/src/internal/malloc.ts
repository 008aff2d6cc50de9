// malloc: variable-size blocks in the shared heap's arena, for every thread.
//
// Channel buffers and serialized values live here. The design is the classic
// boundary-tag allocator with segregated free lists, all under one lock
// (heap.lock, like Go's mheap_.lock); per-thread caches in front of it (Go's
// mcache) can come when a benchmark asks for them.
//
// A block is a multiple of 8 bytes, 8-byte aligned, at least MIN_BLOCK:
//
//	b+0          header: size | INUSE
//	b+4          in use: the size the caller asked for;  free: next free block
//	b+8          in use: the caller's bytes (8-aligned); free: previous free block
//	b+size-4     footer: size | INUSE (a copy of the header)
//
// The footer lets free find the block before it (the word at b-4) and merge
// with it in O(1); the header finds the one after (b+size). Free blocks sit on
// bin floor(log2(size)), a doubly linked list whose head is in the heap
// record; HEAP_BINMAP has bit b set while bin b is not empty. Two sentinels
// that look in use bracket the arena, so merging stops at its ends:
//
//	arena+4      a footer that says "in use"
//	end-8        a header of size 0 that says "in use"
//
// Allocation takes the first fit among a few blocks of the request's own bin,
// else the first block of the smallest larger non-empty bin (every block there
// fits), and splits off the remainder when it can stand as a block. Every
// field here is read and written under heap.lock, so plain accesses suffice:
// the lock's exchange orders them.
//
// Waiting for space. malloc fails at once when nothing fits; only the host
// waits and retries (arenawait.ts: a spawn whose arguments do not fit, which
// the app's thread queues without blocking). A waiter announces itself in
// heap.freewaiters and waits on heap.freegen, which free bumps and notifies
// only while someone waits (an Atomics.notify with nobody waiting would cost
// every free 34 ns). tryMalloc is the waiter's malloc: 0 instead of a throw.

import type { SharedHeap } from './heap.js'
import {
  heapw, HEAP_ALLOCS, HEAP_BIN0, HEAP_BINMAP, HEAP_FREE_BYTES, HEAP_FREES, HEAP_INUSE_BLOCKS,
  HEAP_INUSE_BYTES, HEAP_LOCK, MALLOC_BINS, HEAP_GCGEN, HEAP_GCLOW, HEAP_GCTRIGGER, HEAP_FREEGEN, HEAP_FREEWAITERS,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { throwFatal } from './throw.js'

const INUSE = 1
const HEADER_BYTES = 8
const FOOTER_BYTES = 4
export const MIN_BLOCK = 16
/** Blocks of the request's own bin examined before a larger bin is used. */
const FIT_SCAN = 8
/** The largest request: keeps every size an int32. */
export const MAX_ALLOC = 2 ** 30

const binOf = (size: number): number => 31 - Math.clz32(size)

/** Sets up the arena as one free block. Called by SharedHeap.create before any other thread sees the heap. */
export function mallocinit(h: SharedHeap): void {
  const { arenaStartBytes: a, arenaEndBytes: e } = h.layout
  const m = h.i32
  if (e - a < 2 * MIN_BLOCK) return // no arena: every malloc fails
  m[(a + 4) >> 2] = INUSE // sentinel footer
  m[(e - 8) >> 2] = INUSE // sentinel header of size 0
  const size = e - a - 16
  setFree(m, a + 8, size)
  binInsert(h, a + 8, size)
  m[heapw(h.layout, HEAP_FREE_BYTES)] = size
  m[heapw(h.layout, HEAP_GCTRIGGER)] = gcMinTrigger(h)
}

/**
 * The pacer's floor: no collection is asked for below this many bytes in
 * use. A quarter of the arena, at most 4 MiB.
 */
function gcMinTrigger(h: SharedHeap): number {
  return Math.min(4 << 20, (h.layout.arenaEndBytes - h.layout.arenaStartBytes) >> 2)
}

/**
 * The collection pacer (Go's GOGC=100, roughly). Handle objects that die on
 * some thread free their shared records only when that thread's collector
 * runs, and V8 does not see the shared heap fill. So when the bytes in use
 * pass the trigger, malloc asks every thread to collect (gcGen). The
 * trigger is twice the fewest bytes in use since the last request (gcLow,
 * lowered by free as the collections free records): twice what survived.
 * heap.lock is held.
 */
function gcRequest(h: SharedHeap, inuse: number): void {
  const m = h.i32
  const l = h.layout
  m[heapw(l, HEAP_GCLOW)] = inuse
  m[heapw(l, HEAP_GCTRIGGER)] = gcTriggerFor(h, inuse)
  Atomics.add(m, heapw(l, HEAP_GCGEN), 1)
  Atomics.notify(m, heapw(l, HEAP_GCGEN))
}

/** Asks every thread to collect now (Go's runtime.GC, without waiting for it). Any thread. */
export function requestCollection(h: SharedHeap): void {
  const m = h.i32
  lock(m, heapw(h.layout, HEAP_LOCK))
  gcRequest(h, m[heapw(h.layout, HEAP_INUSE_BYTES)])
  unlock(m, heapw(h.layout, HEAP_LOCK))
}

function gcTriggerFor(h: SharedHeap, live: number): number {
  return Math.min(2 ** 31 - 1, Math.max(gcMinTrigger(h), 2 * live))
}

function setFree(m: Int32Array, b: number, size: number): void {
  m[b >> 2] = size
  m[(b + size - FOOTER_BYTES) >> 2] = size
}

function binInsert(h: SharedHeap, b: number, size: number): void {
  const m = h.i32
  const bin = binOf(size)
  const headw = heapw(h.layout, HEAP_BIN0 + bin)
  const first = m[headw]
  m[(b + 4) >> 2] = first // next
  m[(b + 8) >> 2] = 0 // prev
  if (first !== 0) m[(first + 8) >> 2] = b
  m[headw] = b
  m[heapw(h.layout, HEAP_BINMAP)] |= 1 << bin
}

function binRemove(h: SharedHeap, b: number, size: number): void {
  const m = h.i32
  const next = m[(b + 4) >> 2]
  const prev = m[(b + 8) >> 2]
  if (next !== 0) m[(next + 8) >> 2] = prev
  if (prev !== 0) {
    m[(prev + 4) >> 2] = next
  } else {
    const bin = binOf(size)
    m[heapw(h.layout, HEAP_BIN0 + bin)] = next
    if (next === 0) m[heapw(h.layout, HEAP_BINMAP)] &= ~(1 << bin)
  }
}

function blockSize(n: number): number {
  return Math.max(MIN_BLOCK, (n + HEADER_BYTES + FOOTER_BYTES + 7) & ~7)
}

/** Finds a free block of at least `need` bytes and takes it off its bin; 0 if none. heap.lock held. */
function findFit(h: SharedHeap, need: number): number {
  const m = h.i32
  const bin = binOf(need)
  let b = m[heapw(h.layout, HEAP_BIN0 + bin)]
  for (let i = 0; b !== 0 && i < FIT_SCAN; i++) {
    if (m[b >> 2] >= need) {
      binRemove(h, b, m[b >> 2])
      return b
    }
    b = m[(b + 4) >> 2]
  }
  const larger = bin >= 31 ? 0 : m[heapw(h.layout, HEAP_BINMAP)] & ~((2 << bin) - 1)
  if (larger === 0) return 0
  const lbin = 31 - Math.clz32(larger & -larger)
  b = m[heapw(h.layout, HEAP_BIN0 + lbin)]
  binRemove(h, b, m[b >> 2])
  return b
}

/**
 * Allocates n bytes in the arena and returns the byte offset of the first
 * (8-byte aligned). The bytes are not zeroed. Any thread. Throws a RangeError
 * when the arena cannot hold the block.
 */
export function malloc(h: SharedHeap, n: number): number {
  checkSize(n)
  const m = h.i32
  const l = h.layout
  lock(m, heapw(l, HEAP_LOCK))
  const p = mallocLocked(h, blockSize(n), n)
  if (p === 0) noFit(h, n)
  unlock(m, heapw(l, HEAP_LOCK))
  return p
}

/**
 * malloc that returns 0 when the arena cannot hold the block now, instead
 * of throwing; with askCollection, it asks every thread to collect too
 * (garbage may be what holds the arena). With headroom, it also returns 0
 * unless that many bytes stay free after the block (as many as an empty
 * arena could leave): a caller that can wait leaves room for those that
 * cannot. Any thread.
 */
export function tryMalloc(h: SharedHeap, n: number, askCollection: boolean, headroom = 0): number {
  checkSize(n)
  const m = h.i32
  const l = h.layout
  const need = blockSize(n)
  const room = Math.min(headroom, l.arenaBytes - 16 - need)
  lock(m, heapw(l, HEAP_LOCK))
  const p = room > 0 && m[heapw(l, HEAP_FREE_BYTES)] - need < room ? 0 : mallocLocked(h, need, n)
  if (p === 0 && askCollection) gcRequest(h, m[heapw(l, HEAP_INUSE_BYTES)])
  unlock(m, heapw(l, HEAP_LOCK))
  return p
}

/** Whether a block of n bytes could not fit even in an empty arena: waiting for space would never end. */
export function neverFits(h: SharedHeap, n: number): boolean {
  return n > MAX_ALLOC || blockSize(n) > h.layout.arenaBytes - 16
}

/**
 * Allocates up to count blocks of n bytes under one lock and pushes them on
 * out; returns how many it got (fewer only when the arena is full). For
 * per-thread caches of small records (sudogs): one heap.lock round trip per
 * batch instead of one per record.
 */
export function mallocBatch(h: SharedHeap, n: number, count: number, out: number[]): number {
  checkSize(n)
  const m = h.i32
  const l = h.layout
  const need = blockSize(n)
  lock(m, heapw(l, HEAP_LOCK))
  let got = 0
  for (; got < count; got++) {
    const p = mallocLocked(h, need, n)
    if (p === 0) break
    out.push(p)
  }
  if (got === 0) noFit(h, n)
  unlock(m, heapw(l, HEAP_LOCK))
  return got
}

function checkSize(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ALLOC) {
    throw new RangeError(`malloc: size must be an integer from 0 to ${MAX_ALLOC}, got ${String(n)}`)
  }
}

/** The arena is full: ask for a collection (garbage may be holding it: the next try may fit), unlock, throw. */
function noFit(h: SharedHeap, n: number): never {
  const m = h.i32
  const l = h.layout
  const inuse = m[heapw(l, HEAP_INUSE_BYTES)]
  gcRequest(h, inuse)
  unlock(m, heapw(l, HEAP_LOCK))
  throw new RangeError(
    `malloc: the shared heap cannot fit ${n} more bytes (heapSize is ${l.arenaBytes} bytes, ${inuse} in use); raise the heapSize option`,
  )
}

/** A block of need bytes (for a request of n), or 0 if none fits. heap.lock is held. */
function mallocLocked(h: SharedHeap, need: number, n: number): number {
  const m = h.i32
  const l = h.layout
  const b = findFit(h, need)
  if (b === 0) return 0
  let size = m[b >> 2]
  if (size - need >= MIN_BLOCK) {
    setFree(m, b + need, size - need)
    binInsert(h, b + need, size - need)
    size = need
  }
  m[b >> 2] = size | INUSE
  m[(b + size - FOOTER_BYTES) >> 2] = size | INUSE
  m[(b + 4) >> 2] = n
  m[heapw(l, HEAP_INUSE_BYTES)] += size
  m[heapw(l, HEAP_INUSE_BLOCKS)] += 1
  m[heapw(l, HEAP_FREE_BYTES)] -= size
  m[heapw(l, HEAP_ALLOCS)] += 1
  const inuse = m[heapw(l, HEAP_INUSE_BYTES)]
  if (inuse > m[heapw(l, HEAP_GCTRIGGER)]) gcRequest(h, inuse)
  return b + HEADER_BYTES
}

/** Frees a block returned by malloc. Any thread. A fatal error for a pointer that is not an allocated block. */
export function free(h: SharedHeap, p: number): void {
  const l = h.layout
  const m = h.i32
  lock(m, heapw(l, HEAP_LOCK))
  freeLocked(h, p)
  unlock(m, heapw(l, HEAP_LOCK))
  // Dekker pair with arenawait.ts: the waiter adds to freewaiters, then retries under heap.lock.
  if (Atomics.load(m, heapw(l, HEAP_FREEWAITERS)) !== 0) freewake(h)
}

/** Tells the threads waiting for arena space that a block was freed. */
function freewake(h: SharedHeap): void {
  const w = heapw(h.layout, HEAP_FREEGEN)
  Atomics.add(h.i32, w, 1) // pairs with the waiter's Atomics.load before its retry
  Atomics.notify(h.i32, w)
}

/** Frees the blocks ps[from..to) under one lock (mallocBatch's other half). */
export function freeBatch(h: SharedHeap, ps: readonly number[], from: number, to: number): void {
  const l = h.layout
  const m = h.i32
  lock(m, heapw(l, HEAP_LOCK))
  for (let i = from; i < to; i++) freeLocked(h, ps[i])
  unlock(m, heapw(l, HEAP_LOCK))
  if (Atomics.load(m, heapw(l, HEAP_FREEWAITERS)) !== 0) freewake(h) // as in free
}

/** free with heap.lock held; on a bad pointer, unlocks and throws a FatalError. */
function freeLocked(h: SharedHeap, p: number): void {
  const l = h.layout
  const m = h.i32
  if (!Number.isInteger(p) || p % 8 !== 0 || p < l.arenaStartBytes + 16 || p >= l.arenaEndBytes - 8) {
    unlock(m, heapw(l, HEAP_LOCK))
    throwFatal('free', `${String(p)} is not a pointer into the shared heap's arena`)
  }
  let b = p - HEADER_BYTES
  const hdr = m[b >> 2]
  let size = hdr & ~7
  if ((hdr & INUSE) === 0 || size < MIN_BLOCK || b + size > l.arenaEndBytes - 8 || m[(b + size - FOOTER_BYTES) >> 2] !== hdr) {
    unlock(m, heapw(l, HEAP_LOCK))
    throwFatal('free', `${p} was not allocated, or was freed already`)
  }
  m[heapw(l, HEAP_INUSE_BYTES)] -= size
  m[heapw(l, HEAP_INUSE_BLOCKS)] -= 1
  m[heapw(l, HEAP_FREE_BYTES)] += size
  m[heapw(l, HEAP_FREES)] += 1
  const inuse = m[heapw(l, HEAP_INUSE_BYTES)]
  if (inuse < m[heapw(l, HEAP_GCLOW)]) {
    m[heapw(l, HEAP_GCLOW)] = inuse
    m[heapw(l, HEAP_GCTRIGGER)] = gcTriggerFor(h, inuse)
  }
  // Drop the block's own INUSE tag first. When it merges with both
  // neighbours, setFree below rewrites only the merged block's ends, and a
  // header still saying "in use" (with its matching footer) inside the free
  // block would let a second free(p) pass the check above and corrupt the
  // free lists.
  m[b >> 2] = size
  // Merge with the block after.
  const nh = m[(b + size) >> 2]
  if ((nh & INUSE) === 0) {
    binRemove(h, b + size, nh)
    size += nh
  }
  // Merge with the block before.
  const pf = m[(b - FOOTER_BYTES) >> 2]
  if ((pf & INUSE) === 0) {
    b -= pf
    binRemove(h, b, pf)
    size += pf
  }
  setFree(m, b, size)
  binInsert(h, b, size)
}

/** The size that was asked for when the block at p was allocated. */
export function mallocSize(h: SharedHeap, p: number): number {
  return h.i32[(p - 4) >> 2]
}

export interface HeapStats {
  /** Arena bytes in allocated blocks, headers included. */
  inuseBytes: number
  inuseBlocks: number
  freeBytes: number
  /** Free blocks, and the largest one (what the next big malloc can get). */
  freeBlocks: number
  largestFree: number
  allocs: number
  frees: number
  arenaBytes: number
}

/** A consistent snapshot of the arena's accounting, walking the free lists under heap.lock. */
export function heapStats(h: SharedHeap): HeapStats {
  const m = h.i32
  const l = h.layout
  lock(m, heapw(l, HEAP_LOCK))
  let freeBlocks = 0
  let largestFree = 0
  for (let bin = 0; bin < MALLOC_BINS; bin++) {
    for (let b = m[heapw(l, HEAP_BIN0 + bin)]; b !== 0; b = m[(b + 4) >> 2]) {
      freeBlocks++
      largestFree = Math.max(largestFree, m[b >> 2])
    }
  }
  const s: HeapStats = {
    inuseBytes: m[heapw(l, HEAP_INUSE_BYTES)],
    inuseBlocks: m[heapw(l, HEAP_INUSE_BLOCKS)],
    freeBytes: m[heapw(l, HEAP_FREE_BYTES)],
    freeBlocks,
    largestFree,
    allocs: m[heapw(l, HEAP_ALLOCS)] >>> 0,
    frees: m[heapw(l, HEAP_FREES)] >>> 0,
    arenaBytes: l.arenaBytes,
  }
  unlock(m, heapw(l, HEAP_LOCK))
  return s
}
