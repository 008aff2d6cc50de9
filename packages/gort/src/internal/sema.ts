// The sync package's shared records: a counter and a wait queue of sudogs
// under the record's own lock (layout.ts `sema`), with the same parking and
// waking as channels (chan.ts). WaitGroup is Go's: Add, Done, Wait, and
// "sync: negative WaitGroup counter".

import { acquireSudog, dequeue, enqueue, parkG, releaseSudog, waiterG, wakeQueue, wakeSudog, DONE, PARKED } from './chan.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, SEMA_BYTES, SEMA_COUNT, SEMA_KIND, SEMA_LOCK, SEMA_REFS, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL,
  SG_G, SG_NEXT, SG_PREV, SG_SLOT, SG_SUCCESS, G_WAITSINCE, SEMA_LIMIT,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { free, malloc } from './malloc.js'
import { throwFatal } from './throw.js'
import { goready } from './proc.js'
import { WaitReason } from './runtime2.js'
import { HandleKind } from './handlekind.js'
import { defineRefKind, release, retain } from './refs.js'

export const SemaKind = { WaitGroup: 1, Mutex: 2, Semaphore: 3, Once: 4, RWMutex: 5, Cond: 6 } as const

/** A new sema record of the given kind. Any thread. */
export function newsema(h: SharedHeap, kind: number): number {
  const p = malloc(h, SEMA_BYTES)
  const w = p >> 2
  h.i32.fill(0, w, w + (SEMA_BYTES >> 2))
  h.i32[w + SEMA_KIND] = kind
  Atomics.store(h.i32, w + SEMA_REFS, 1)
  return p
}

/** Frees a sync record whose last reference was dropped (refs.ts). Nothing can wait on it: a waiter holds a handle. */
export function freesema(h: SharedHeap, p: number): void {
  if (h.i32[(p >> 2) + SEMA_WAITQ_HEAD] !== 0) throwFatal('freesema', `sync record ${p} freed with goroutines waiting on it`)
  free(h, p)
}

/** After an operation returned PARKED: the sudog and the G parked on. */
export let semaSudog = 0
export let semaG = 0

/**
 * Queues gp (a host waiter record on the host) on the record at p with a
 * sudog whose slot holds `slot`, marks it waiting, and unlocks the record,
 * whose lock the caller holds. Returns PARKED (semaSudog, semaG set).
 */
function semapark(h: SharedHeap, p: number, gp: number, reason: number, what: string, slot = 0): number {
  const m = h.i32
  const w = p >> 2
  const wg = waiterG(h, gp)
  if (wg < 0) {
    unlock(m, w + SEMA_LOCK)
    throw new RangeError(`${what}: no free G record for the host to wait on; raise the maxGoroutines option`)
  }
  const sg = acquireSudog(h, p, wg)
  m[(sg >> 2) + SG_SLOT] = slot
  enqueue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, sg)
  parkG(h, wg, reason)
  unlock(m, w + SEMA_LOCK)
  semaSudog = sg
  semaG = wg
  return PARKED
}

/**
 * WaitGroup.Add: adds delta to the counter; at zero, releases every waiter.
 * Throws "sync: negative WaitGroup counter". Any thread.
 */
export function wgadd(h: SharedHeap, p: number, delta: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  const c = m[w + SEMA_COUNT] + delta
  if (c < 0) {
    unlock(m, w + SEMA_LOCK)
    throw new Error('sync: negative WaitGroup counter')
  }
  Atomics.store(m, w + SEMA_COUNT, c)
  const wake: number[] = []
  if (c === 0) wakeQueue(h, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, wake)
  unlock(m, w + SEMA_LOCK)
  for (const gp of wake) goready(h, gp)
}

/** WaitGroup.Wait: DONE if the counter is zero, else PARKED (semaSudog, semaG). gp: the caller's G, 0 on the host. */
export function wgwait(h: SharedHeap, p: number, gp: number): number {
  const m = h.i32
  const w = p >> 2
  if (Atomics.load(m, w + SEMA_COUNT) === 0) return DONE
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_COUNT] === 0) {
    unlock(m, w + SEMA_LOCK)
    return DONE
  }
  return semapark(h, p, gp, WaitReason.SyncWaitGroupWait, 'WaitGroup.wait')
}

/** After a parked wait was woken. */
export function wgwaitdone(h: SharedHeap, sg: number): void {
  releaseSudog(h, sg)
}

/** The counter, for tests and dumps. */
export function wgcount(h: SharedHeap, p: number): number {
  return Atomics.load(h.i32, (p >> 2) + SEMA_COUNT)
}

// ---------------------------------------------------------------------------
// Mutex: Go's sync.Mutex, with its two modes.
//
// count is the lock word: 0 free, 1 held. Lock's fast path is a CAS from 0
// to 1 with no other shared access; everything that decides about waiters
// happens under the record's lock, so an Unlock never misses a Lock that is
// about to queue. Normal mode: Unlock frees the lock and wakes the first
// waiter, which competes again with newcomers (barging keeps throughput
// high) and, losing, queues again at the front. Starvation mode: when the
// first waiter has waited more than 1 ms (Go's starvationThresholdNs),
// Unlock hands the lock over directly: count stays 1 and the waiter owns it.

const STARVATION_MS = 1

/** After mutexlock returned PARKED: the sudog and G parked on. */
export let mutexSudog = 0
export let mutexG = 0

/** Mutex.TryLock. Any thread. */
export function mutextrylock(h: SharedHeap, p: number): boolean {
  return Atomics.compareExchange(h.i32, (p >> 2) + SEMA_COUNT, 0, 1) === 0
}

/**
 * Mutex.Lock: DONE if taken, else PARKED (mutexSudog, mutexG). front puts a
 * waiter that lost a race after being woken back at the head (Go's LIFO
 * requeue). Any thread; gp is the caller's G, 0 on the host.
 */
export function mutexlock(h: SharedHeap, p: number, gp: number, front: boolean): number {
  const m = h.i32
  const w = p >> 2
  if (Atomics.compareExchange(m, w + SEMA_COUNT, 0, 1) === 0) return DONE
  // A short spin: the holder is often about to unlock.
  for (let i = 0; i < 64; i++) {
    if (m[w + SEMA_COUNT] === 0 && Atomics.compareExchange(m, w + SEMA_COUNT, 0, 1) === 0) return DONE
  }
  lock(m, w + SEMA_LOCK)
  if (Atomics.compareExchange(m, w + SEMA_COUNT, 0, 1) === 0) {
    unlock(m, w + SEMA_LOCK)
    return DONE
  }
  const wg = waiterG(h, gp)
  if (wg < 0) {
    unlock(m, w + SEMA_LOCK)
    throw new RangeError('Mutex.lock: no free G record for the host to wait on; raise the maxGoroutines option')
  }
  const sg = acquireSudog(h, p, wg)
  const gb = gbase(h.layout, wg)
  if (!front || m[w + SEMA_WAITQ_HEAD] === 0) enqueue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, sg)
  else {
    // Go queues a waiter that was woken and lost at the front (LIFO).
    const head = m[w + SEMA_WAITQ_HEAD]
    m[(sg >> 2) + SG_NEXT] = head
    m[(head >> 2) + SG_PREV] = sg
    m[w + SEMA_WAITQ_HEAD] = sg
  }
  // A goroutine requeued at the front keeps its first wait time (Go's waitStartTime);
  // a host waiter is a fresh record each time, so it starts again.
  if (!front || gp === 0) h.f64[(gb + G_WAITSINCE) >> 1] = performance.timeOrigin + performance.now()
  parkG(h, wg, WaitReason.SyncMutexLock)
  unlock(m, w + SEMA_LOCK)
  mutexSudog = sg
  mutexG = wg
  return PARKED
}

/**
 * After a parked Lock was woken: true if the lock was handed over (the
 * caller owns it), false if it must compete again (normal mode).
 */
export function mutexwoken(h: SharedHeap, sg: number): boolean {
  const owned = h.i32[(sg >> 2) + SG_SUCCESS] !== 0
  releaseSudog(h, sg)
  return owned
}

/** Mutex.Unlock. Throws "sync: unlock of unlocked mutex". Any thread. */
export function mutexunlock(h: SharedHeap, p: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_COUNT] === 0) {
    unlock(m, w + SEMA_LOCK)
    throw new Error('sync: unlock of unlocked mutex')
  }
  const sg = dequeue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, h.layout)
  if (sg === 0) {
    Atomics.store(m, w + SEMA_COUNT, 0)
    unlock(m, w + SEMA_LOCK)
    return
  }
  const gb = gbase(h.layout, m[(sg >> 2) + SG_G])
  const waited = performance.timeOrigin + performance.now() - h.f64[(gb + G_WAITSINCE) >> 1]
  // Starving: hand over (the count stays 1 and the waiter owns the lock);
  // else free the lock and let the waiter compete.
  const handoff = waited > STARVATION_MS
  if (!handoff) Atomics.store(m, w + SEMA_COUNT, 0)
  const gp = wakeSudog(h, sg, handoff ? 1 : 0)
  unlock(m, w + SEMA_LOCK)
  goready(h, gp)
}

export function mutexlocked(h: SharedHeap, p: number): boolean {
  return Atomics.load(h.i32, (p >> 2) + SEMA_COUNT) !== 0
}

// ---------------------------------------------------------------------------
// Semaphore: a weighted semaphore (golang.org/x/sync/semaphore). count is
// the permits available, limit the size. Waiters are served in FIFO order;
// a waiter at the head that needs more than is free blocks those behind it,
// so a large request is not starved by small ones. A waiter's weight sits
// in its sudog's value slot.

/** A new Semaphore record of size n. */
export function newsemaphore(h: SharedHeap, n: number): number {
  const p = newsema(h, SemaKind.Semaphore)
  h.i32[(p >> 2) + SEMA_LIMIT] = n
  Atomics.store(h.i32, (p >> 2) + SEMA_COUNT, n)
  return p
}

/**
 * A new Cond record on the Mutex record mu: the Mutex travels with the
 * Cond, kept in its limit word, and the Cond holds a reference on it
 * (dropped when the Cond is freed). The caller holds a reference on mu.
 */
export function newcond(h: SharedHeap, mu: number): number {
  const p = newsema(h, SemaKind.Cond)
  retain(h, HandleKind.Mutex, mu)
  Atomics.store(h.i32, (p >> 2) + SEMA_LIMIT, mu)
  return p
}

/** The Mutex record of the Cond record at p. */
export function condmutex(h: SharedHeap, p: number): number {
  return Atomics.load(h.i32, (p >> 2) + SEMA_LIMIT)
}

/** Acquire n: DONE, or PARKED (semaSudog, semaG) until release hands the permits over. */
export function semacquire(h: SharedHeap, p: number, n: number, gp: number): number {
  const m = h.i32
  const w = p >> 2
  if (n > m[w + SEMA_LIMIT]) throw new RangeError(`Semaphore.acquire: ${n} is more than the semaphore's size ${m[w + SEMA_LIMIT]}; it would never succeed`)
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_WAITQ_HEAD] === 0 && m[w + SEMA_COUNT] >= n) {
    Atomics.store(m, w + SEMA_COUNT, m[w + SEMA_COUNT] - n)
    unlock(m, w + SEMA_LOCK)
    return DONE
  }
  return semapark(h, p, gp, WaitReason.SyncSemacquire, 'Semaphore.acquire', n)
}

/** TryAcquire n: takes the permits only if they are free and nobody waits. */
export function semtryacquire(h: SharedHeap, p: number, n: number): boolean {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  const ok = m[w + SEMA_WAITQ_HEAD] === 0 && m[w + SEMA_COUNT] >= n
  if (ok) Atomics.store(m, w + SEMA_COUNT, m[w + SEMA_COUNT] - n)
  unlock(m, w + SEMA_LOCK)
  return ok
}

/** Release n, serving waiters in order. Throws if more is released than is held. */
export function semrelease(h: SharedHeap, p: number, n: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  const c = m[w + SEMA_COUNT] + n
  if (c > m[w + SEMA_LIMIT]) {
    unlock(m, w + SEMA_LOCK)
    throw new Error('semaphore: released more than held')
  }
  let free = c
  const wake: number[] = []
  for (;;) {
    const head = m[w + SEMA_WAITQ_HEAD]
    if (head === 0 || m[(head >> 2) + SG_SLOT] > free) break
    const sg = dequeue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, h.layout)
    free -= m[(sg >> 2) + SG_SLOT]
    m[(sg >> 2) + SG_SLOT] = 0
    wake.push(wakeSudog(h, sg, 1))
  }
  Atomics.store(m, w + SEMA_COUNT, free)
  unlock(m, w + SEMA_LOCK)
  for (const gp of wake) goready(h, gp)
}

// ---------------------------------------------------------------------------
// Once: count 0 not done, 1 running, 2 done. The first caller runs the
// function; the others wait until it returns (or throws: Go's Once counts a
// panicking function as done).

/** Once.Do's start: 'run' (the caller must run f, then oncedone), 'done', or PARKED until the runner finishes. */
export function oncebegin(h: SharedHeap, p: number, gp: number): 'run' | 'done' | 'parked' {
  const m = h.i32
  const w = p >> 2
  if (Atomics.load(m, w + SEMA_COUNT) === 2) return 'done'
  lock(m, w + SEMA_LOCK)
  const state = m[w + SEMA_COUNT]
  if (state === 0) {
    Atomics.store(m, w + SEMA_COUNT, 1)
    unlock(m, w + SEMA_LOCK)
    return 'run'
  }
  if (state === 2) {
    unlock(m, w + SEMA_LOCK)
    return 'done'
  }
  semapark(h, p, gp, WaitReason.SyncOnce, 'Once.do')
  return 'parked'
}

/** Once.Do's end: marks it done and releases the waiters. */
export function oncedone(h: SharedHeap, p: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  Atomics.store(m, w + SEMA_COUNT, 2)
  const wake: number[] = []
  wakeQueue(h, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, wake)
  unlock(m, w + SEMA_LOCK)
  for (const gp of wake) goready(h, gp)
}

// ---------------------------------------------------------------------------
// RWMutex: count is the readers holding it (> 0), -1 for a writer, 0 free.
// Waiters queue FIFO (a reader arriving while anyone waits queues too, so a
// waiting writer is not starved by a stream of readers, as in Go); the
// waiter's kind sits in its sudog's slot (1 reader, 2 writer). Releases hand
// the lock over: a writer at the head gets it alone, readers at the head all
// get it together.

const RW_READER = 1
const RW_WRITER = 2

/** RLock: DONE or PARKED (the lock is handed over on wake). */
export function rwrlock(h: SharedHeap, p: number, gp: number): number {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_COUNT] >= 0 && m[w + SEMA_WAITQ_HEAD] === 0) {
    Atomics.store(m, w + SEMA_COUNT, m[w + SEMA_COUNT] + 1)
    unlock(m, w + SEMA_LOCK)
    return DONE
  }
  return semapark(h, p, gp, WaitReason.SyncRWMutexRLock, 'RWMutex.rlock', RW_READER)
}

/** Lock (writer): DONE or PARKED. */
export function rwlock(h: SharedHeap, p: number, gp: number): number {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_COUNT] === 0 && m[w + SEMA_WAITQ_HEAD] === 0) {
    Atomics.store(m, w + SEMA_COUNT, -1)
    unlock(m, w + SEMA_LOCK)
    return DONE
  }
  return semapark(h, p, gp, WaitReason.SyncRWMutexLock, 'RWMutex.lock', RW_WRITER)
}

/** TryLock / TryRLock. */
export function rwtrylock(h: SharedHeap, p: number, reader: boolean): boolean {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  const c = m[w + SEMA_COUNT]
  const ok = m[w + SEMA_WAITQ_HEAD] === 0 && (reader ? c >= 0 : c === 0)
  if (ok) Atomics.store(m, w + SEMA_COUNT, reader ? c + 1 : -1)
  unlock(m, w + SEMA_LOCK)
  return ok
}

/** Hands the free lock to the waiters at the head. The record's lock held; returns the Gs to ready. */
function rwhandoff(h: SharedHeap, w: number): number[] {
  const m = h.i32
  const wake: number[] = []
  for (;;) {
    const head = m[w + SEMA_WAITQ_HEAD]
    if (head === 0) break
    const kind = m[(head >> 2) + SG_SLOT]
    const c = m[w + SEMA_COUNT]
    if (kind === RW_WRITER ? c !== 0 : c < 0) break
    const sg = dequeue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, h.layout)
    m[(sg >> 2) + SG_SLOT] = 0
    wake.push(wakeSudog(h, sg, 1))
    Atomics.store(m, w + SEMA_COUNT, kind === RW_WRITER ? -1 : c + 1)
    if (kind === RW_WRITER) break
  }
  return wake
}

/** RUnlock. Throws "sync: RUnlock of unlocked RWMutex". */
export function rwrunlock(h: SharedHeap, p: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_COUNT] <= 0) {
    unlock(m, w + SEMA_LOCK)
    throw new Error('sync: RUnlock of unlocked RWMutex')
  }
  Atomics.store(m, w + SEMA_COUNT, m[w + SEMA_COUNT] - 1)
  const wake = m[w + SEMA_COUNT] === 0 ? rwhandoff(h, w) : []
  unlock(m, w + SEMA_LOCK)
  for (const gp of wake) goready(h, gp)
}

/** Unlock (writer). Throws "sync: Unlock of unlocked RWMutex". */
export function rwunlock(h: SharedHeap, p: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  if (m[w + SEMA_COUNT] !== -1) {
    unlock(m, w + SEMA_LOCK)
    throw new Error('sync: Unlock of unlocked RWMutex')
  }
  Atomics.store(m, w + SEMA_COUNT, 0)
  const wake = rwhandoff(h, w)
  unlock(m, w + SEMA_LOCK)
  for (const gp of wake) goready(h, gp)
}

// ---------------------------------------------------------------------------
// Cond: a queue of waiters; Wait queues the caller before it unlocks its
// Mutex, so a Signal that follows the unlock always finds it.

/** Cond.Wait's first half: queue gp and mark it waiting. The caller then unlocks L and parks. */
export function condenqueue(h: SharedHeap, p: number, gp: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + SEMA_LOCK)
  semapark(h, p, gp, WaitReason.SyncCondWait, 'Cond.wait')
}

/** Signal (all = false) or Broadcast (all = true). */
export function condwake(h: SharedHeap, p: number, all: boolean): void {
  const m = h.i32
  const w = p >> 2
  if (Atomics.load(m, w + SEMA_WAITQ_HEAD) === 0) return
  lock(m, w + SEMA_LOCK)
  const wake: number[] = []
  wakeQueue(h, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, wake, !all)
  unlock(m, w + SEMA_LOCK)
  for (const gp of wake) goready(h, gp)
}

// Sync objects are counted (refs.ts): freed with their last reference, on
// any thread that loads this module (every M does, through mworker.ts). A
// Cond holds a reference on its Mutex (limit word), dropped when it is freed.
for (const kind of [HandleKind.WaitGroup, HandleKind.Mutex, HandleKind.Semaphore, HandleKind.Once, HandleKind.RWMutex]) {
  defineRefKind(kind, { refsWord: SEMA_REFS, free: freesema })
}
defineRefKind(HandleKind.Cond, {
  refsWord: SEMA_REFS,
  free: (h, p) => {
    const mu = h.i32[(p >> 2) + SEMA_LIMIT]
    freesema(h, p)
    release(h, HandleKind.Mutex, mu)
  },
})
