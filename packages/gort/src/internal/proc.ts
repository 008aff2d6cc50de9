// The shared half of the scheduler: Ps, Ms and Gs as records in the shared
// heap, and the functions any thread (an M or the host) may call on them.
// Ports of proc.go's pidleput/pidleget, mput/mget, startm, wakep, handoffp,
// injectglist, gfput/gfget and newproc's bookkeeping. The M's own loop
// (schedule, findRunnable, execute, stopm) is in mloop.ts.
//
// Idle Ps are on sched.pidle, idle Ms on sched.midle, both under sched.lock.
// A third list, sched.mwant, holds Ms that have goroutines of their own
// runnable (started goroutines cannot move, scheduler.md) but no P: every place
// that frees a P offers it to sched.mwant first (releasep_locked). This is
// this project's version of Go's startlockedm: a G locked to an M is run by
// handing a P to that M.
//
// Waking an M. An M parks on its note M.park. Several threads may want to
// wake it at once (startm giving it a P, a channel readying one of its Gs,
// one of its own promise callbacks), and a note may be woken only once per
// clear. So the M first stores Mparked into M.sleep and re-checks its ready
// stack, and a waker that wants it awake CASes M.sleep from Mparked to
// Mwoken: only the winner calls notewakeup (wakem). Store-then-load on both
// sides (the M: sleep, then readyq; the waker: readyq, then sleep) with
// sequentially consistent atomics means at least one of them sees the other.

import type { SharedHeap } from './heap.js'
import {
  gbase, mbase, pbase, schedw,
  G_CANCEL, G_FLAGS, G_FN, G_GOID, G_M, G_PREEMPT, G_STARTED, G_RESULT, G_STATUS, G_WAITREASON,
  G_SCHEDLINK, M_NEXTP, M_PARK, M_READYQ, M_TRWAKES, M_SCHEDLINK, M_SLEEP, M_SPINNING, M_WANTP, P_LINK, P_M, P_STATUS,
  P_RUNNEXT, P_RUNQ, P_RUNQHEAD, P_RUNQTAIL,
  SCHED_GCOUNT, SCHED_GFREE, SCHED_GNEXT, SCHED_LOCK, SCHED_MIDLE, SCHED_MWANT, SCHED_MWANTTAIL,
  SCHED_NEEDSPINNING, SCHED_NGFREE, SCHED_NMIDLE, SCHED_NMSPINNING, SCHED_NMWANT, SCHED_NPIDLE, SCHED_PIDLE,
  SCHED_GOMAXPROCS, SCHED_SYSMONNOTE, SCHED_SYSMONWAIT, SCHED_GOIDGEN, SCHED_GFLOCK, SCHED_DONEHEAD, SCHED_HOSTWAITING,
} from './layout.js'
import { putArgs } from './gvalue.js'
import { lock, notewakeup, unlock } from './lock_futex.js'
import { funcid, type Meta } from './registry.js'
import { globrunqinject, globrunqputbatch, globrunqsize, runqempty } from './runq.js'
import { Gflags, Gstatus, Msleep, Pstatus } from './runtime2.js'
import { throwFatal } from './throw.js'
import { Ev } from './trace/buffer.js'

// ---------------------------------------------------------------------------
// Idle P list. sched.lock must be held.

/** Go's pidleput: puts pp on the idle list. sched.lock must be held; pp's run queue must be empty. */
export function pidleput(h: SharedHeap, pp: number): void {
  const m = h.i32
  const l = h.layout
  const b = pbase(l, pp)
  if (!runqempty(h, pp)) throwFatal('pidleput', `P${pp} has a non-empty run queue`)
  Atomics.store(m, b + P_STATUS, Pstatus.Pidle)
  m[b + P_M] = 0
  m[b + P_LINK] = m[schedw(l, SCHED_PIDLE)]
  m[schedw(l, SCHED_PIDLE)] = pp + 1
  Atomics.store(m, schedw(l, SCHED_NPIDLE), m[schedw(l, SCHED_NPIDLE)] + 1)
}

/** Go's pidleget: takes a P off the idle list, or returns -1. sched.lock must be held. */
export function pidleget(h: SharedHeap): number {
  const m = h.i32
  const l = h.layout
  const head = m[schedw(l, SCHED_PIDLE)]
  if (head === 0) return -1
  const pp = head - 1
  m[schedw(l, SCHED_PIDLE)] = m[pbase(l, pp) + P_LINK]
  Atomics.store(m, schedw(l, SCHED_NPIDLE), m[schedw(l, SCHED_NPIDLE)] - 1)
  return pp
}

/** Go's pidlegetSpinning (1.21): pidleget that asks for a spinning M when none is idle. sched.lock must be held. */
export function pidlegetSpinning(h: SharedHeap): number {
  const pp = pidleget(h)
  if (pp < 0) Atomics.store(h.i32, schedw(h.layout, SCHED_NEEDSPINNING), 1)
  return pp
}

// ---------------------------------------------------------------------------
// Idle M list and the list of Ms that want a P. sched.lock must be held.

/** Go's mput: puts mp on the idle M list. sched.lock must be held. */
export function mput(h: SharedHeap, mp: number): void {
  const m = h.i32
  const l = h.layout
  // Go's stopm throws on a spinning M too: its count in nmspinning would
  // outlive its search and keep every wakep from waking anyone.
  if (m[mbase(l, mp) + M_SPINNING] !== 0) throwFatal('mput', `M${mp} is spinning`)
  m[mbase(l, mp) + M_SCHEDLINK] = m[schedw(l, SCHED_MIDLE)]
  m[schedw(l, SCHED_MIDLE)] = mp + 1
  m[schedw(l, SCHED_NMIDLE)]++
}

/** Go's mget: takes an idle M, or returns -1. sched.lock must be held. */
export function mget(h: SharedHeap): number {
  const m = h.i32
  const l = h.layout
  const head = m[schedw(l, SCHED_MIDLE)]
  if (head === 0) return -1
  const mp = head - 1
  m[schedw(l, SCHED_MIDLE)] = m[mbase(l, mp) + M_SCHEDLINK]
  m[schedw(l, SCHED_NMIDLE)]--
  return mp
}

/** Takes mp off the idle M list if it is there; returns whether it was. sched.lock must be held. */
export function mremove(h: SharedHeap, mp: number): boolean {
  const m = h.i32
  const l = h.layout
  let prev = -1
  for (let cur = m[schedw(l, SCHED_MIDLE)]; cur !== 0; cur = m[mbase(l, cur - 1) + M_SCHEDLINK]) {
    if (cur - 1 === mp) {
      const next = m[mbase(l, mp) + M_SCHEDLINK]
      if (prev < 0) m[schedw(l, SCHED_MIDLE)] = next
      else m[mbase(l, prev) + M_SCHEDLINK] = next
      m[schedw(l, SCHED_NMIDLE)]--
      return true
    }
    prev = cur - 1
  }
  return false
}

/** Appends mp to sched.mwant (FIFO, so Ms take turns). sched.lock must be held. */
export function mwantput(h: SharedHeap, mp: number): void {
  const m = h.i32
  const l = h.layout
  const mb = mbase(l, mp)
  if (m[mb + M_WANTP] !== 0) return
  if (m[mb + M_SPINNING] !== 0) throwFatal('mwantput', `M${mp} is spinning`)
  m[mb + M_WANTP] = 1
  m[mb + M_SCHEDLINK] = 0
  const tail = m[schedw(l, SCHED_MWANTTAIL)]
  if (tail === 0) m[schedw(l, SCHED_MWANT)] = mp + 1
  else m[mbase(l, tail - 1) + M_SCHEDLINK] = mp + 1
  m[schedw(l, SCHED_MWANTTAIL)] = mp + 1
  Atomics.store(m, schedw(l, SCHED_NMWANT), m[schedw(l, SCHED_NMWANT)] + 1)
}

/** Takes the first M off sched.mwant, or returns -1. sched.lock must be held. */
export function mwantget(h: SharedHeap): number {
  const m = h.i32
  const l = h.layout
  const head = m[schedw(l, SCHED_MWANT)]
  if (head === 0) return -1
  const mp = head - 1
  const next = m[mbase(l, mp) + M_SCHEDLINK]
  m[schedw(l, SCHED_MWANT)] = next
  if (next === 0) m[schedw(l, SCHED_MWANTTAIL)] = 0
  m[mbase(l, mp) + M_WANTP] = 0
  Atomics.store(m, schedw(l, SCHED_NMWANT), m[schedw(l, SCHED_NMWANT)] - 1)
  return mp
}

/** Takes mp off sched.mwant if it is there. sched.lock must be held. */
export function mwantremove(h: SharedHeap, mp: number): void {
  const m = h.i32
  const l = h.layout
  if (m[mbase(l, mp) + M_WANTP] === 0) return
  let prev = -1
  for (let cur = m[schedw(l, SCHED_MWANT)]; cur !== 0; cur = m[mbase(l, cur - 1) + M_SCHEDLINK]) {
    if (cur - 1 === mp) {
      const next = m[mbase(l, mp) + M_SCHEDLINK]
      if (prev < 0) m[schedw(l, SCHED_MWANT)] = next
      else m[mbase(l, prev) + M_SCHEDLINK] = next
      if (next === 0) m[schedw(l, SCHED_MWANTTAIL)] = prev + 1
      break
    }
    prev = cur - 1
  }
  m[mbase(l, mp) + M_WANTP] = 0
  Atomics.store(m, schedw(l, SCHED_NMWANT), m[schedw(l, SCHED_NMWANT)] - 1)
}

/**
 * Gives up pp: to the first M on sched.mwant if any (returned, to be woken
 * with wakem after unlocking), else onto the idle P list (returns -1).
 * pp's run queue may hold Gs only when an M takes it. sched.lock must be held.
 */
export function releasepLocked(h: SharedHeap, pp: number): number {
  const mp = mwantget(h)
  if (mp < 0) {
    // Callers release a P whose queue they found empty; if a G got there
    // since, keep it reachable on the global queue rather than strand it.
    if (!runqempty(h, pp)) spillRunq(h, pp)
    pidleput(h, pp)
    return -1
  }
  const m = h.i32
  const l = h.layout
  m[pbase(l, pp) + P_M] = 0
  Atomics.store(m, pbase(l, pp) + P_STATUS, Pstatus.Pidle)
  m[mbase(l, mp) + M_NEXTP] = pp + 1
  return mp
}

/**
 * Wakes mp if it is parked (or about to park). Only one waker wins the
 * M.sleep CAS and calls notewakeup; the others know it is awake or waking.
 * Any thread.
 */
export function wakem(h: SharedHeap, mp: number): void {
  const m = h.i32
  const w = mbase(h.layout, mp) + M_SLEEP
  // Pairs with the M's Atomics.store(M.sleep, Mparked) in its park path.
  if (Atomics.load(m, w) === Msleep.Mparked && Atomics.compareExchange(m, w, Msleep.Mparked, Msleep.Mwoken) === Msleep.Mparked) {
    notewakeup(m, mbase(h.layout, mp) + M_PARK)
  }
}

// ---------------------------------------------------------------------------
// Starting Ms.

const newmHooks = new WeakMap<SharedHeap, () => void>()

/**
 * Says how this thread asks for a new M when startm finds none idle: Go's
 * newm, or its hand-off (newmHandoff) where a thread cannot start one
 * itself. Only the host can create threads: on the host the request is
 * deferred to a microtask; an M or sysmon posts it to the host (newm.ts).
 */
export function setNewmHandoff(h: SharedHeap, fn: () => void): void {
  newmHooks.set(h, fn)
}

/**
 * Go's startm. Schedules some M to run pp (an idle P when pp < 0). With
 * spinning, the caller has already counted the M in nmspinning and the M
 * starts spinning. Returns false when there was no P, or no idle M (then pp
 * goes back to the idle list and the caller may ask for a new M). Any thread.
 */
export function startm(h: SharedHeap, pp: number, spinning: boolean): boolean {
  const m = h.i32
  const l = h.layout
  lock(m, schedw(l, SCHED_LOCK))
  if (pp < 0) {
    if (spinning) throwFatal('startm', 'P required for spinning=true')
    pp = pidleget(h)
    if (pp < 0) {
      unlock(m, schedw(l, SCHED_LOCK))
      return false
    }
  }
  // An M that wants a P for its own goroutines gets it first.
  let nmp = mwantget(h)
  if (nmp < 0) nmp = mget(h)
  if (nmp < 0) {
    // No M to run it. Go would start one (newm); the host does that for us
    // when asked (newmHandoff), and meanwhile pp stays idle.
    newmHooks.get(h)?.()
    if (spinning) Atomics.sub(m, schedw(l, SCHED_NMSPINNING), 1)
    if (runqempty(h, pp)) pidleput(h, pp)
    else {
      // Keep its work reachable: move it to the global queue first.
      spillRunq(h, pp)
      pidleput(h, pp)
    }
    unlock(m, schedw(l, SCHED_LOCK))
    return false
  }
  const mb = mbase(l, nmp)
  if (m[mb + M_NEXTP] !== 0) throwFatal('startm', `M${nmp} already has a P`)
  if (m[mb + M_SPINNING] !== 0) throwFatal('startm', `M${nmp} is spinning`)
  // Go sets nmp.spinning here too: the M reads both after it wakes, under
  // sched.lock. From here M.spinning says the M is counted in nmspinning.
  m[mb + M_SPINNING] = spinning ? 1 : 0
  m[mb + M_NEXTP] = pp + 1
  unlock(m, schedw(l, SCHED_LOCK))
  wakem(h, nmp)
  return true
}

/**
 * Moves every G of pp's ring and runnext to the global queue. Used when a P
 * must go idle but still holds work (no M to run it). sched.lock must be
 * held; pp must have no owner running.
 */
function spillRunq(h: SharedHeap, pp: number): void {
  const m = h.i32
  const l = h.layout
  let head = 0
  let tail = 0
  let n = 0
  const b = pbase(l, pp)
  const take = (gp: number): void => {
    if (gp === 0) return
    if (tail === 0) head = gp
    else m[gbase(l, tail) + G_SCHEDLINK] = gp
    tail = gp
    n++
  }
  take(Atomics.exchange(m, b + P_RUNNEXT, 0))
  for (;;) {
    const hd = Atomics.load(m, b + P_RUNQHEAD) >>> 0
    const t = Atomics.load(m, b + P_RUNQTAIL) >>> 0
    if (hd === t) break
    const gp = m[b + P_RUNQ + (hd & (l.runqSize - 1))]
    if (Atomics.compareExchange(m, b + P_RUNQHEAD, hd | 0, (hd + 1) | 0) === (hd | 0)) take(gp)
  }
  if (n > 0) globrunqputbatch(h, head, tail, n)
}

/**
 * Go's wakep (1.21). Tries to add one more spinning M to run Gs, if there is
 * an idle P and nobody is spinning already. Any thread.
 */
export function wakep(h: SharedHeap): void {
  const m = h.i32
  const l = h.layout
  const nms = schedw(l, SCHED_NMSPINNING)
  // Be conservative: start a spinning M only if none exists.
  if (Atomics.load(m, nms) !== 0 || Atomics.load(m, schedw(l, SCHED_NPIDLE)) === 0) return
  if (Atomics.compareExchange(m, nms, 0, 1) !== 0) return
  lock(m, schedw(l, SCHED_LOCK))
  const pp = pidlegetSpinning(h)
  unlock(m, schedw(l, SCHED_LOCK))
  if (pp < 0) {
    if (Atomics.sub(m, nms, 1) - 1 < 0) throwFatal('wakep', 'negative nmspinning')
    return
  }
  startm(h, pp, true)
}

/**
 * Wakes sysmon if it sleeps on sched.sysmonnote (Go's sysmonwait). The
 * waker published its news first (took a P, or put work on the global
 * queue); sysmon stores sysmonwait before it looks at both once more: a
 * Dekker pair (sysmon.ts, "sysmonwait"), so either sysmon sees the news or
 * the waker sees sysmonwait. Any thread.
 */
export function wakesysmon(h: SharedHeap): void {
  const m = h.i32
  const l = h.layout
  if (Atomics.load(m, schedw(l, SCHED_SYSMONWAIT)) !== 0 &&
    Atomics.compareExchange(m, schedw(l, SCHED_SYSMONWAIT), 1, 0) === 1) {
    notewakeup(m, schedw(l, SCHED_SYSMONNOTE))
  }
}

/**
 * Go's injectglist, for the host: puts the n Gs linked from head to tail on
 * the global queue and starts up to n idle Ps. Any thread without a P.
 */
export function injectglist(h: SharedHeap, head: number, tail: number, n: number): void {
  const m = h.i32
  const l = h.layout
  // Onto the lock-free stack the next globrunqget drains (runq.ts): the
  // app's thread never waits for sched.lock to spawn.
  globrunqinject(h, head, tail, n)
  // One spinning M finds the work and, on finding it, wakes the next
  // (resetspinning); that chain starts as many Ms as the work needs.
  for (let i = 0; i < n && Atomics.load(m, schedw(l, SCHED_NPIDLE)) > 0; i++) {
    if (Atomics.load(m, schedw(l, SCHED_NMSPINNING)) !== 0) break
    wakep(h)
  }
  // Every P still idle: no M took the work yet (none idle: a new one is
  // asked for; or a spinning M is about to find it). sysmon must be awake
  // to watch it (its wake guard), not asleep on its note: the other half of
  // the sysmonwait pair (sysmon.ts).
  if (Atomics.load(m, schedw(l, SCHED_NPIDLE)) === Atomics.load(m, schedw(l, SCHED_GOMAXPROCS))) wakesysmon(h)
}

/**
 * Go's handoffp. Hands off pp from an M that stops running it (a syscall, an
 * M yielding to another): start an M if there is work, else idle it. The
 * caller no longer owns pp. Returns false if an M was needed but none was
 * idle (pp is then idle and its work is on the global queue).
 */
export function handoffp(h: SharedHeap, pp: number): boolean {
  const m = h.i32
  const l = h.layout
  // If it has local work, or there is global work, start an M straight away.
  if (!runqempty(h, pp) || globrunqsize(h) !== 0) return startm(h, pp, false)
  // No local work: if nobody spins and no P is idle, our help may be needed.
  if (Atomics.load(m, schedw(l, SCHED_NMSPINNING)) + Atomics.load(m, schedw(l, SCHED_NPIDLE)) === 0 &&
      Atomics.compareExchange(m, schedw(l, SCHED_NMSPINNING), 0, 1) === 0) {
    Atomics.store(m, schedw(l, SCHED_NEEDSPINNING), 0)
    return startm(h, pp, true)
  }
  lock(m, schedw(l, SCHED_LOCK))
  if (globrunqsize(h) !== 0) {
    unlock(m, schedw(l, SCHED_LOCK))
    return startm(h, pp, false)
  }
  const mp = releasepLocked(h, pp)
  unlock(m, schedw(l, SCHED_LOCK))
  if (mp >= 0) wakem(h, mp)
  else if (globrunqsize(h) !== 0) wakep(h) // work reached the global queue meanwhile
  return true
}

// ---------------------------------------------------------------------------
// Started goroutines made runnable from anywhere.

/**
 * Readies gp, a started G that lives on M mp, from any thread: pushes it on
 * mp's ready stack and wakes mp if it sleeps. If mp has no P, it gets one
 * itself (or joins sched.mwant) when it wakes. This is goready for the
 * second kind of G in docs/design/scheduler.md.
 */
export function readyOnM(h: SharedHeap, gp: number, mp: number): void {
  const m = h.i32
  const l = h.layout
  const q = mbase(l, mp) + M_READYQ
  const link = gbase(l, gp) + G_SCHEDLINK
  let old: number
  do {
    old = Atomics.load(m, q)
    m[link] = old // plain: published by the CAS below
  } while (Atomics.compareExchange(m, q, old, gp) !== old)
  // Dekker pair with the M's park: readyq stored (above), then sleep loaded.
  wakem(h, mp)
}

// ---------------------------------------------------------------------------
// G records: gfget/gfput on sched.gfree, with per-thread caches.

const GCACHE_BATCH = 32

/**
 * Go's gfget: a free G record (its index), or -1 if the table is full.
 * Takes batches from sched.gfree (under sched.gflock) into a per-thread
 * cache. Any thread.
 */
export function gfget(h: SharedHeap): number {
  const gcache = h.gcache
  if (gcache.length > 0) return gcache.pop()!
  const m = h.i32
  const l = h.layout
  lock(m, schedw(l, SCHED_GFLOCK))
  let gp = m[schedw(l, SCHED_GFREE)]
  for (let i = 0; gp !== 0 && i < GCACHE_BATCH; i++) {
    gcache.push(gp)
    gp = m[gbase(l, gp) + G_SCHEDLINK]
    m[schedw(l, SCHED_NGFREE)]--
  }
  m[schedw(l, SCHED_GFREE)] = gp
  if (gcache.length === 0) {
    // Never-used records, a batch at a time.
    const next = m[schedw(l, SCHED_GNEXT)]
    const n = Math.min(GCACHE_BATCH, l.maxGs - next)
    for (let i = n - 1; i >= 0; i--) gcache.push(next + i)
    m[schedw(l, SCHED_GNEXT)] = next + n
  }
  unlock(m, schedw(l, SCHED_GFLOCK))
  return gcache.length > 0 ? gcache.pop()! : -1
}

/** Go's gfput: returns G record gp to the free records. Any thread. */
export function gfput(h: SharedHeap, gp: number): void {
  h.gcache.push(gp)
  if (h.gcache.length >= 2 * GCACHE_BATCH) gfflush(h, GCACHE_BATCH)
}

/** Moves `keep`-exceeding cached G records back to sched.gfree. */
export function gfflush(h: SharedHeap, keep = 0): void {
  const gcache = h.gcache
  const n = gcache.length - keep
  if (n <= 0) return
  const m = h.i32
  const l = h.layout
  const first = gcache[keep]
  for (let i = keep; i < gcache.length - 1; i++) m[gbase(l, gcache[i]) + G_SCHEDLINK] = gcache[i + 1]
  const last = gcache[gcache.length - 1]
  lock(m, schedw(l, SCHED_GFLOCK))
  m[gbase(l, last) + G_SCHEDLINK] = m[schedw(l, SCHED_GFREE)]
  m[schedw(l, SCHED_GFREE)] = first
  m[schedw(l, SCHED_NGFREE)] += n
  unlock(m, schedw(l, SCHED_GFLOCK))
  gcache.length = keep
}

/** Live goroutines. Any thread. */
export function gcount(h: SharedHeap): number {
  return Atomics.load(h.i32, schedw(h.layout, SCHED_GCOUNT))
}

/** GOMAXPROCS. Any thread. */
export function gomaxprocs(h: SharedHeap): number {
  return Atomics.load(h.i32, schedw(h.layout, SCHED_GOMAXPROCS))
}

/**
 * Go's newproc, the half every spawner shares (the host's rt.go, and go()
 * inside a goroutine): takes a free G record, stores fn's encoded arguments
 * in it (put: putArgs; the host's put may instead queue them until the
 * arena has room, arenawait.ts) and fills it (newproc1). Returns the G index; the caller publishes
 * it (an M: runqput; the host: a batch for injectglist). On failure nothing
 * is taken: RangeError when the G table is full, DataCloneError for an
 * argument that cannot cross threads. Go's newproc also places the G; here
 * the host and an M place it differently (a batch, or runnext), so they do
 * that themselves. Any thread.
 */
export function newproc(
  h: SharedHeap, fn: Meta, args: unknown[], flags: number, counted: boolean,
  put?: (gp: number, args: unknown[]) => void,
): number {
  const fnid = funcid(h, fn)
  const gp = gfget(h)
  if (gp < 0) throw new RangeError(`go: more than ${h.layout.maxGs - 1} goroutines alive; raise the maxGoroutines option`)
  const gb = gbase(h.layout, gp)
  try {
    // No default parameter: it would make a closure per go() on the M's hot path.
    if (put === undefined) putArgs(h, gb, args)
    else put(gp, args)
  } catch (e) {
    gfput(h, gp)
    throw e
  }
  newproc1(h, gb, fnid, flags, counted)
  return gp
}

/** Go's _GoidCacheBatch. */
const GOID_BATCH = 16

/**
 * Go's newproc1 bookkeeping: gives the G record at word gb a fresh goid, its
 * function and flags, counts it live and makes it runnable. The caller has
 * stored its arguments (gvalue.ts) and then publishes it on a queue. Any thread.
 */
export function newproc1(h: SharedHeap, gb: number, fnid: number, flags: number, counted = false): number {
  const m = h.i32
  const l = h.layout
  // Go's goidcache: ids are taken from sched.goidgen 16 at a time.
  if (h.goidNext === h.goidEnd) {
    h.goidNext = Atomics.add(m, schedw(l, SCHED_GOIDGEN), GOID_BATCH) + 1
    h.goidEnd = h.goidNext + GOID_BATCH
  }
  const goid = h.goidNext++
  m[gb + G_GOID] = goid
  m[gb + G_FN] = fnid
  m[gb + G_FLAGS] = flags
  m[gb + G_M] = 0
  m[gb + G_RESULT] = 0
  m[gb + G_PREEMPT] = 0
  m[gb + G_WAITREASON] = 0
  m[gb + G_CANCEL] = 0
  m[gb + G_STARTED] = 0
  // counted: the caller (an M, mloop.ts gcountTake) already holds a count for it.
  if (!counted) Atomics.add(m, schedw(l, SCHED_GCOUNT), 1)
  // Plain: nobody else sees the G before the caller publishes it (a run
  // queue's release store, sched.lock); readers of statuses use Atomics.load.
  m[gb + G_STATUS] = Gstatus.Grunnable
  return goid
}

// ---------------------------------------------------------------------------
// The calling thread, for goready and the blocking operations.

let threadM = -1
let threadReady: ((gp: number) => void) | undefined
let threadG: () => number = () => 0
let threadHeap: SharedHeap | undefined
let threadAsync: (delta: number) => void = () => {}

/**
 * Installed by an M at start: its id, how it readies its own Gs locally, its
 * current G, and how to count event-loop work it must wait for (timers).
 */
export function setThreadM(
  h: SharedHeap, mid: number, ready: (gp: number) => void, curg: () => number, async: (delta: number) => void,
): void {
  threadHeap = h
  threadM = mid
  threadReady = ready
  threadG = curg
  threadAsync = async
}

/** Counts event-loop work (a timer) the calling M must stay awake for; a no-op on the host. */
export function asyncPending(delta: number): void {
  threadAsync(delta)
}

/** The running goroutine's G index on this thread, or 0 (the host, or an M between goroutines). */
export function getg(): number {
  return threadG()
}

/** The heap of the runtime this M belongs to; undefined on the host. */
export function mheap(): SharedHeap | undefined {
  return threadHeap
}

/** Pushes gp on the host's completion stack; wakes the host if it waits and the stack was empty. Any thread. */
export function pushDone(h: SharedHeap, gp: number): void {
  const m = h.i32
  const l = h.layout
  const d = schedw(l, SCHED_DONEHEAD)
  const link = gbase(l, gp) + G_SCHEDLINK
  let old: number
  do {
    old = Atomics.load(m, d)
    m[link] = old
  } while (Atomics.compareExchange(m, d, old, gp) !== old)
  // Dekker pair with the host: it stores hostwaiting, then loads donehead.
  if (old === 0 && Atomics.load(m, schedw(l, SCHED_HOSTWAITING)) !== 0) Atomics.notify(m, d, 1)
}

/**
 * Go's goready: makes gp, parked (Gwaiting), runnable. A started G goes to
 * its own M: run next when readied on that M, else onto M.readyq with a
 * wake-up. A host waiter (a G record the host parks a promise on) goes to
 * the host's completion stack. Any thread; the caller owns the wake-up
 * (it took gp off a wait queue under that queue's lock).
 */
export function goready(h: SharedHeap, gp: number): void {
  const m = h.i32
  const gb = gbase(h.layout, gp)
  // Plain status stores: published by the CAS that queues gp (pushDone,
  // readyOnM), or read on this thread (readyHere).
  const flags = m[gb + G_FLAGS]
  if ((flags & Gflags.Ghostwait) !== 0) {
    m[gb + G_STATUS] = Gstatus.Grunnable
    pushDone(h, gp)
    return
  }
  // It lived on an M that died: it never runs again, and its M's record
  // may be a new M's by now (newm.ts reuses a dead M's id).
  if ((flags & Gflags.Gorphan) !== 0) return
  const mp = m[gb + G_M] - 1
  // Readied on its own M: the M notes the waker for gp's next start
  // (readyHere), which carries it; nothing is written here. Across
  // threads: an UnblockX numbered by gp's M's wake count, taken just
  // before the event is written and the push; the M writes the count it sees
  // after each drain of M.readyq (Drain), and the reader places every
  // UnblockX before the first Drain that counts it, so before gp's start,
  // without a clock read on either side (trace/buffer.ts readEvents).
  if (mp === threadM && threadHeap === h) {
    m[gb + G_WAITREASON] = 0
    m[gb + G_STATUS] = Gstatus.Grunnable
    threadReady!(gp)
    return
  }
  const tw = h.tw
  if (tw.on[0] !== 0) {
    const by = threadG()
    const goid = m[gb + G_GOID]
    const byid = by === 0 ? 0 : m[gbase(h.layout, by) + G_GOID]
    const x = m[gb + G_WAITREASON] | (mp << 8)
    const n = Atomics.add(m, mbase(h.layout, mp) + M_TRWAKES, 1) + 1
    // An M writes it among its own events, unstamped; the host and sysmon stamp all theirs.
    if (threadHeap === h && threadM >= 0) tw.ev(Ev.UnblockX | (x << 8), goid, byid, n)
    else tw.emit(Ev.UnblockX, goid, byid, n, x)
  }
  m[gb + G_WAITREASON] = 0
  m[gb + G_STATUS] = Gstatus.Grunnable
  readyOnM(h, gp, mp)
}

/**
 * Re-points running goroutine gp's G.fn to function table id fn, by which
 * dumps name it from then on. A wrapper of gort's that runs a user's
 * function inside itself shows as that function: gort run's main
 * (runmain.ts), an errgroup goroutine (errgroup.ts). gp's own M only,
 * while gp runs (Atomics.store: dumps on other threads load it).
 */
export function setgfn(h: SharedHeap, gp: number, fn: number): void {
  Atomics.store(h.i32, gbase(h.layout, gp) + G_FN, fn)
}
