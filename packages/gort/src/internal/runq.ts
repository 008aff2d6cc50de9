// Per-P run queues and the global run queue: a port of Go's runq* and
// globrunq* functions (proc.go).
//
// Each P has a ring of runqSize G indexes with a head and a tail, plus
// runnext. The P's owner is the only producer: it writes a slot and then
// publishes it with a releasing store of runqtail. Consumers are the owner
// (runqget) and thieves on other Ms (runqgrab); all of them consume by a CAS
// of runqhead, so an item is taken exactly once. head and tail are uint32
// that wrap: an int32 word holds them, `>>> 0` reads them back as uint32, and
// differences are taken `>>> 0` so they stay right across the wrap.
//
// runnext holds the G that the owner readied last (a channel partner, a newly
// spawned goroutine). It runs before the ring and inherits the current time
// slice, so a producer/consumer pair ping-pongs on one P without starving the
// others. Thieves take it only on their last pass (stealRunNextG).
//
// The global run queue is a list of Gs linked through G.schedlink, guarded by
// sched.lock. runqputslow moves half of a full ring there at once, so that one
// busy P sheds work in batches and the others find it in globrunqget.
//
// All Atomics are sequentially consistent in JavaScript; the comments still
// say which acquire or release of Go's each one stands for, and which access
// it pairs with. docs/design/runq.md gives the argument for safety.

import type { SharedHeap } from './heap.js'
import {
  gbase, pbase, schedw,
  G_SCHEDLINK, P_RUNNEXT, P_RUNQ, P_RUNQHEAD, P_RUNQTAIL, P_STATUS,
  SCHED_GOMAXPROCS, SCHED_INJECTHEAD, SCHED_INJECTN, SCHED_LOCK, SCHED_RUNQHEAD, SCHED_RUNQSIZE, SCHED_RUNQTAIL, G_PARAM,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { Pstatus } from './runtime2.js'
import { throwFatal } from './throw.js'

/**
 * Set by runqget: whether the G it returned came from runnext and should
 * inherit the time slice. A module-level result (each thread has its own
 * module instance) keeps the hot path free of allocations.
 */
export let runqgetInheritTime = false

// Scratch for runqputslow, grown to the largest ring seen by this thread.
let slowBatch = new Int32Array(129)

/**
 * Go's runqput. Puts gp on pp's local run queue; with next, into runnext,
 * kicking the old runnext G to the tail of the ring. A full ring spills half
 * of itself to the global queue (runqputslow). Executed only by the owner P.
 */
export function runqput(h: SharedHeap, pp: number, gp: number, next: boolean): void {
  const m = h.i32
  const base = pbase(h.layout, pp)
  if (next) {
    // Thieves may CAS runnext to 0 at any time, so swap by CAS.
    let old: number
    do {
      old = m[base + P_RUNNEXT]
    } while (Atomics.compareExchange(m, base + P_RUNNEXT, old, gp) !== old)
    if (old === 0) return
    gp = old // kick the old runnext out to the regular run queue
  }
  const size = h.layout.runqSize
  const ring = base + P_RUNQ
  for (;;) {
    // Load-acquire of the head: pairs with the consumers' CAS of runqhead, so
    // a slot we reuse has been read by whoever took it.
    const hd = Atomics.load(m, base + P_RUNQHEAD) >>> 0
    const t = m[base + P_RUNQTAIL] >>> 0 // owner only: plain read of our own tail
    if (((t - hd) >>> 0) < size) {
      m[ring + (t & (size - 1))] = gp // owner only: the slot is outside [head, tail)
      // Store-release: publishes the slot; pairs with the load of runqtail in runqgrab.
      Atomics.store(m, base + P_RUNQTAIL, (t + 1) | 0)
      return
    }
    if (runqputslow(h, pp, gp, hd, t)) return
    // The ring was not full after all (a thief took some): retry.
  }
}

/**
 * Go's runqputslow. Moves gp and half of pp's full ring to the global run
 * queue. Returns false if a consumer moved the head meanwhile. Executed only
 * by the owner P.
 */
export function runqputslow(h: SharedHeap, pp: number, gp: number, hd: number, t: number): boolean {
  const m = h.i32
  const l = h.layout
  const size = l.runqSize
  const base = pbase(l, pp)
  const n = ((t - hd) >>> 0) >>> 1
  if (n !== size >>> 1) throwFatal('runqputslow', 'queue is not full')
  if (slowBatch.length < n + 1) slowBatch = new Int32Array(n + 1)
  const batch = slowBatch
  const ring = base + P_RUNQ
  for (let i = 0; i < n; i++) batch[i] = m[ring + ((hd + i) & (size - 1))]
  // CAS-release of the head commits the consume; pairs with the load-acquire
  // in runqput/runqgrab.
  if (Atomics.compareExchange(m, base + P_RUNQHEAD, hd | 0, (hd + n) | 0) !== (hd | 0)) return false
  batch[n] = gp
  // Link the batch through G.schedlink. The Gs are ours now: plain stores,
  // published by the unlock of sched.lock below.
  for (let i = 0; i < n; i++) m[gbase(l, batch[i]) + G_SCHEDLINK] = batch[i + 1]
  lock(m, schedw(l, SCHED_LOCK))
  globrunqputbatch(h, batch[0], batch[n], n + 1)
  unlock(m, schedw(l, SCHED_LOCK))
  return true
}

/**
 * Go's runqget. Takes a G from pp's local queue: runnext first (then
 * runqgetInheritTime is true), else the ring's head. Returns 0 when empty.
 * Executed only by the owner P.
 */
export function runqget(h: SharedHeap, pp: number): number {
  const m = h.i32
  const base = pbase(h.layout, pp)
  // runnext changes only to 0 under us (a thief), so one CAS attempt decides.
  const next = m[base + P_RUNNEXT]
  if (next !== 0 && Atomics.compareExchange(m, base + P_RUNNEXT, next, 0) === next) {
    runqgetInheritTime = true
    return next
  }
  runqgetInheritTime = false
  const size = h.layout.runqSize
  const ring = base + P_RUNQ
  for (;;) {
    // Load-acquire: pairs with thieves' CAS of the head.
    const hd = Atomics.load(m, base + P_RUNQHEAD) >>> 0
    const t = m[base + P_RUNQTAIL] >>> 0 // owner only
    if (t === hd) return 0
    const gp = m[ring + (hd & (size - 1))]
    // CAS-release commits the consume.
    if (Atomics.compareExchange(m, base + P_RUNQHEAD, hd | 0, (hd + 1) | 0) === (hd | 0)) return gp
  }
}

/**
 * Go's runqempty: whether pp has no G in its ring or runnext. Reads a
 * consistent snapshot: head, tail and runnext are not read at once, so it
 * retries until the tail did not move across the reads (a G moving from
 * runnext to the ring, by runqput(next), must not look like an empty queue).
 * Any thread.
 */
export function runqempty(h: SharedHeap, pp: number): boolean {
  const m = h.i32
  const base = pbase(h.layout, pp)
  for (;;) {
    const hd = Atomics.load(m, base + P_RUNQHEAD)
    const t = Atomics.load(m, base + P_RUNQTAIL)
    const next = Atomics.load(m, base + P_RUNNEXT)
    if (t === Atomics.load(m, base + P_RUNQTAIL)) return hd === t && next === 0
  }
}

/** Number of Gs in pp's ring and runnext; a racy hint when read by another thread. */
export function runqlen(h: SharedHeap, pp: number): number {
  const m = h.i32
  const base = pbase(h.layout, pp)
  const n = (Atomics.load(m, base + P_RUNQTAIL) - Atomics.load(m, base + P_RUNQHEAD)) >>> 0
  return Math.min(n, h.layout.runqSize) + (Atomics.load(m, base + P_RUNNEXT) !== 0 ? 1 : 0)
}

// How long a thief waits before it takes runnext from a running P (Go sleeps
// 3 µs): about 2 µs of loads here, and it stops early if runnext changes.
const RUNNEXT_GRACE_SPINS = 400

/**
 * Go's runqgrab. Takes half (rounded up) of pp's ring into the ring of the P
 * whose ring starts at word batchRing, from position batchHead on, and
 * returns how many. With stealRunNextG, takes runnext when the ring is
 * empty. Any thread; the destination ring must be the caller's own.
 */
export function runqgrab(h: SharedHeap, pp: number, batchRing: number, batchHead: number, stealRunNextG: boolean): number {
  const m = h.i32
  const size = h.layout.runqSize
  const mask = size - 1
  const base = pbase(h.layout, pp)
  const ring = base + P_RUNQ
  for (;;) {
    // Load-acquire of the head (synchronize with other consumers), then of
    // the tail (synchronize with the producer's store-release in runqput).
    const hd = Atomics.load(m, base + P_RUNQHEAD) >>> 0
    const t = Atomics.load(m, base + P_RUNQTAIL) >>> 0
    let n = (t - hd) >>> 0
    n = n - (n >>> 1)
    if (n === 0) {
      if (stealRunNextG) {
        const next = Atomics.load(m, base + P_RUNNEXT)
        if (next !== 0) {
          const st = Atomics.load(m, base + P_STATUS)
          if (st === Pstatus.Prunning || st === Pstatus.Pexec) {
            // pp is running and is probably about to schedule its runnext
            // (a goroutine it just readied). Give it a moment, so that we do
            // not bounce the G between Ps.
            for (let i = 0; i < RUNNEXT_GRACE_SPINS && m[base + P_RUNNEXT] === next; i++);
          }
          if (Atomics.compareExchange(m, base + P_RUNNEXT, next, 0) !== next) continue
          m[batchRing + (batchHead & mask)] = next // our own ring's free part
          return 1
        }
      }
      return 0
    }
    // Head and tail were read at different times; a head that moved past the
    // tail we read gives a huge n. Retry.
    if (n > size >>> 1) continue
    for (let i = 0; i < n; i++) {
      // Plain reads: a slot may be overwritten by the owner once the head has
      // moved past it, but then our CAS below fails and we discard the copy.
      m[batchRing + ((batchHead + i) & mask)] = m[ring + ((hd + i) & mask)]
    }
    // CAS-release commits the consume.
    if (Atomics.compareExchange(m, base + P_RUNQHEAD, hd | 0, (hd + n) | 0) === (hd | 0)) return n
  }
}

/**
 * Go's runqsteal. Steals half of p2's local Gs into pp's ring and returns
 * one of them to run (0 if none). Executed only by the owner of pp.
 */
export function runqsteal(h: SharedHeap, pp: number, p2: number, stealRunNextG: boolean): number {
  const m = h.i32
  const size = h.layout.runqSize
  const base = pbase(h.layout, pp)
  const t = m[base + P_RUNQTAIL] >>> 0 // owner only
  let n = runqgrab(h, p2, base + P_RUNQ, t, stealRunNextG)
  if (n === 0) return 0
  n--
  const gp = m[base + P_RUNQ + ((t + n) & (size - 1))]
  if (n === 0) return gp
  const hd = Atomics.load(m, base + P_RUNQHEAD) >>> 0 // load-acquire: pairs with consumers' CAS
  if (((t - hd + n) >>> 0) >= size) throwFatal('runqsteal', 'runq overflow')
  // Store-release: publishes the stolen slots; pairs with the load in runqgrab.
  Atomics.store(m, base + P_RUNQTAIL, (t + n) | 0)
  return gp
}

// ---------------------------------------------------------------------------
// The global run queue. Every function below must be called with sched.lock
// held; plain accesses are ordered by that lock. SCHED_RUNQSIZE is also read
// without the lock, as a hint, with Atomics.load; so it is written with
// Atomics.store.

/** Go's globrunqput: puts gp at the tail of the global queue. sched.lock must be held. */
export function globrunqput(h: SharedHeap, gp: number): void {
  globrunqputbatch(h, gp, gp, 1)
}

/** Go's globrunqputhead: puts gp at the head of the global queue. sched.lock must be held. */
export function globrunqputhead(h: SharedHeap, gp: number): void {
  globrunqputheadbatch(h, gp, gp, 1)
}

/**
 * Puts the n Gs linked from head to tail through G.schedlink at the head of
 * the global queue, in their order (Go's globrunqputhead, for a batch).
 * sched.lock must be held.
 */
export function globrunqputheadbatch(h: SharedHeap, head: number, tail: number, n: number): void {
  const m = h.i32
  const l = h.layout
  const qh = m[schedw(l, SCHED_RUNQHEAD)]
  m[gbase(l, tail) + G_SCHEDLINK] = qh
  m[schedw(l, SCHED_RUNQHEAD)] = head
  if (qh === 0) m[schedw(l, SCHED_RUNQTAIL)] = tail
  Atomics.store(m, schedw(l, SCHED_RUNQSIZE), m[schedw(l, SCHED_RUNQSIZE)] + n)
}

/**
 * Moves every G of pp's runnext and ring, in the order runqget takes them,
 * to the head of the global queue, where any P finds them before what was
 * there: the admission's hand-over of a P's unstarted work to the other Ps
 * (mloop.ts admitHold). Executed only by the owner P; sched.lock must be
 * held. Returns how many moved.
 */
export function runqspillhead(h: SharedHeap, pp: number): number {
  const m = h.i32
  const l = h.layout
  let head = 0
  let tail = 0
  let n = 0
  for (let gp = runqget(h, pp); gp !== 0; gp = runqget(h, pp)) {
    if (tail === 0) head = gp
    else m[gbase(l, tail) + G_SCHEDLINK] = gp
    tail = gp
    n++
  }
  if (n > 0) globrunqputheadbatch(h, head, tail, n)
  return n
}

/**
 * Go's globrunqputbatch: appends the n Gs linked from head to tail through
 * G.schedlink. sched.lock must be held.
 */
export function globrunqputbatch(h: SharedHeap, head: number, tail: number, n: number): void {
  const m = h.i32
  const l = h.layout
  m[gbase(l, tail) + G_SCHEDLINK] = 0
  const qt = m[schedw(l, SCHED_RUNQTAIL)]
  if (qt !== 0) m[gbase(l, qt) + G_SCHEDLINK] = head
  else m[schedw(l, SCHED_RUNQHEAD)] = head
  m[schedw(l, SCHED_RUNQTAIL)] = tail
  Atomics.store(m, schedw(l, SCHED_RUNQSIZE), m[schedw(l, SCHED_RUNQSIZE)] + n)
}

function globrunqpop(h: SharedHeap): number {
  const m = h.i32
  const l = h.layout
  const gp = m[schedw(l, SCHED_RUNQHEAD)]
  const next = m[gbase(l, gp) + G_SCHEDLINK]
  m[schedw(l, SCHED_RUNQHEAD)] = next
  if (next === 0) m[schedw(l, SCHED_RUNQTAIL)] = 0
  return gp
}

/**
 * Go's globrunqget. Takes a batch from the global queue: one G to return and
 * the rest onto pp's ring. The batch is a fair share, size/gomaxprocs + 1,
 * at most max (when max > 0) and at most half a ring. Returns 0 if the queue
 * is empty. sched.lock must be held, by the owner of pp.
 *
 * Unlike Go, the batch is also capped by the free slots of pp's ring. Go's
 * callers only take a batch into an empty ring (or take max = 1); if one did
 * not, the runqput below would spill to runqputslow, which takes sched.lock,
 * which the caller holds: a self-deadlock. Two loads rule that out.
 */
export function globrunqget(h: SharedHeap, pp: number, max: number): number {
  const m = h.i32
  const l = h.layout
  if (Atomics.load(m, schedw(l, SCHED_INJECTHEAD)) !== 0) globrunqdrain(h)
  const qsize = m[schedw(l, SCHED_RUNQSIZE)]
  if (qsize === 0) return 0
  let n = Math.min(qsize, ((qsize / m[schedw(l, SCHED_GOMAXPROCS)]) | 0) + 1)
  if (max > 0 && n > max) n = max
  if (n > l.runqSize >>> 1) n = l.runqSize >>> 1
  const base = pbase(l, pp)
  const free = l.runqSize - ((m[base + P_RUNQTAIL] - Atomics.load(m, base + P_RUNQHEAD)) >>> 0) // owner only: our tail
  if (n > free + 1) n = free + 1
  Atomics.store(m, schedw(l, SCHED_RUNQSIZE), qsize - n)
  const gp = globrunqpop(h)
  for (n--; n > 0; n--) runqput(h, pp, globrunqpop(h), false)
  return gp
}

/**
 * Length of the global queue, with the host's spawns still on their way to
 * it (sched.injectn, which never reads low); a hint without sched.lock.
 * Any thread.
 */
export function globrunqsize(h: SharedHeap): number {
  return Atomics.load(h.i32, schedw(h.layout, SCHED_RUNQSIZE)) + Atomics.load(h.i32, schedw(h.layout, SCHED_INJECTN))
}

/**
 * The host's injectglist without sched.lock: pushes the batch of n Gs
 * linked from head to tail through G.schedlink on sched.injecthead, a
 * lock-free stack of batches that the next globrunqget moves to the global
 * queue. The host's spawns otherwise wait for sched.lock behind Ms that
 * hold it in findRunnable, and on 2 vCPUs a holder may be descheduled: the
 * app's thread spent 4.7 % of a spawn benchmark there (17 µs a batch).
 * Counted first, pushed second: sched.injectn never reads low, so an M
 * that sees the queue empty under sched.lock (idle) cannot miss a batch.
 */
export function globrunqinject(h: SharedHeap, head: number, tail: number, n: number): void {
  const m = h.i32
  const l = h.layout
  Atomics.add(m, schedw(l, SCHED_INJECTN), n)
  m[gbase(l, head) + G_PARAM] = tail // plain: published by the CAS
  const w = schedw(l, SCHED_INJECTHEAD)
  let old: number
  do {
    old = Atomics.load(m, w)
    m[gbase(l, tail) + G_SCHEDLINK] = old
  } while (Atomics.compareExchange(m, w, old, head) !== old)
}

/**
 * Moves the host's batches from sched.injecthead to the global queue's
 * tail, oldest first, each in its own order. sched.lock must be held.
 */
export function globrunqdrain(h: SharedHeap): void {
  const m = h.i32
  const l = h.layout
  let b = Atomics.exchange(m, schedw(l, SCHED_INJECTHEAD), 0)
  if (b === 0) return
  const batches: number[] = []
  while (b !== 0) {
    const tail = m[gbase(l, b) + G_PARAM]
    batches.push(b, tail)
    b = m[gbase(l, tail) + G_SCHEDLINK]
  }
  let total = 0
  for (let i = batches.length - 2; i >= 0; i -= 2) {
    const head = batches[i]
    const tail = batches[i + 1]
    m[gbase(l, head) + G_PARAM] = 0
    let n = 1
    for (let g = head; g !== tail; g = m[gbase(l, g) + G_SCHEDLINK]) n++
    globrunqputbatch(h, head, tail, n)
    total += n
  }
  Atomics.sub(m, schedw(l, SCHED_INJECTN), total)
}
