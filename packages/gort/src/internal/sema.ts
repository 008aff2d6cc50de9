// The sync package's shared records: a counter and a wait queue of sudogs
// under the record's own lock (layout.ts `sema`), with the same parking and
// waking as channels (chan.ts). WaitGroup is Go's: Add, Done, Wait, and
// "sync: negative WaitGroup counter".

import { acquireSudog, dequeue, enqueue, parkG, releaseSudog, waiterG, DONE, PARKED } from './chan.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, G_PARAM, SEMA_BYTES, SEMA_COUNT, SEMA_KIND, SEMA_LOCK, SEMA_REFS, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL,
  SG_G, SG_NEXT, SG_PREV, SG_SUCCESS, G_WAITSINCE,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { malloc } from './malloc.js'
import { goready } from './proc.js'
import { WaitReason } from './runtime2.js'

export const SemaKind = { WaitGroup: 1, Mutex: 2 } as const

/** A new sema record of the given kind. Any thread. */
export function newsema(h: SharedHeap, kind: number): number {
  const p = malloc(h, SEMA_BYTES)
  const w = p >> 2
  h.i32.fill(0, w, w + (SEMA_BYTES >> 2))
  h.i32[w + SEMA_KIND] = kind
  Atomics.store(h.i32, w + SEMA_REFS, 1)
  return p
}

/** After wgwait returned PARKED: the sudog and the G parked on. */
export let semaSudog = 0
export let semaG = 0

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
  if (c === 0) {
    for (let sg; (sg = dequeue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, h.layout)) !== 0; ) {
      const s = sg >> 2
      m[s + SG_SUCCESS] = 1
      m[gbase(h.layout, m[s + SG_G]) + G_PARAM] = sg
      wake.push(m[s + SG_G])
    }
  }
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
  const wg = waiterG(h, gp)
  if (wg < 0) {
    unlock(m, w + SEMA_LOCK)
    throw new RangeError('WaitGroup.wait: no free G record for the host to wait on; raise the maxGoroutines option')
  }
  const sg = acquireSudog(h, p, wg)
  enqueue(m, w, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL, sg)
  parkG(h, wg, WaitReason.SyncWaitGroupWait)
  unlock(m, w + SEMA_LOCK)
  semaSudog = sg
  semaG = wg
  return PARKED
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
  const s = sg >> 2
  const gp = m[s + SG_G]
  const gb = gbase(h.layout, gp)
  const waited = performance.timeOrigin + performance.now() - h.f64[(gb + G_WAITSINCE) >> 1]
  if (waited > STARVATION_MS) {
    m[s + SG_SUCCESS] = 1 // handoff: count stays 1, the waiter owns the lock
  } else {
    m[s + SG_SUCCESS] = 0
    Atomics.store(m, w + SEMA_COUNT, 0)
  }
  m[gb + G_PARAM] = sg
  unlock(m, w + SEMA_LOCK)
  goready(h, gp)
}

export function mutexlocked(h: SharedHeap, p: number): boolean {
  return Atomics.load(h.i32, (p >> 2) + SEMA_COUNT) !== 0
}
