// The sync package's shared records: a counter and a wait queue of sudogs
// under the record's own lock (layout.ts `sema`), with the same parking and
// waking as channels (chan.ts). WaitGroup is Go's: Add, Done, Wait, and
// "sync: negative WaitGroup counter".

import { acquireSudog, dequeue, enqueue, parkG, releaseSudog, waiterG, DONE, PARKED } from './chan.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, G_PARAM, SEMA_BYTES, SEMA_COUNT, SEMA_KIND, SEMA_LOCK, SEMA_REFS, SEMA_WAITQ_HEAD, SEMA_WAITQ_TAIL,
  SG_G, SG_SUCCESS,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { malloc } from './malloc.js'
import { goready } from './proc.js'
import { WaitReason } from './runtime2.js'

export const SemaKind = { WaitGroup: 1 } as const

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
