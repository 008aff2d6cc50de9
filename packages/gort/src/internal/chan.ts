// Channels: a port of Go's chan.go (makechan, chansend, chanrecv, closechan,
// send, recv) onto records in the shared heap, usable from every M and from
// the host.
//
// A channel is a record in the arena (layout.ts CHANREC) with its own lock,
// a ring of value slots for the buffer, and two wait queues of sudogs.
// Invariants, as in Go:
//   - at least one of sendq and recvq is empty, except for unbuffered
//     channels with a single goroutine blocked on both through select;
//   - for buffered channels, qcount > 0 implies recvq is empty, and
//     qcount < dataqsiz implies sendq is empty.
//
// Values are encoded before the lock is taken (gvalue.ts: numbers, booleans
// and null inline, everything else through internal/codec/), so a DataCloneError
// never leaves a half-done operation, and a channel of numbers allocates
// nothing. Under the lock the encoded value only moves between slots.
//
// Blocking. A goroutine that must wait takes a sudog, queues it, marks
// itself Gwaiting (with the wait reason) and only then unlocks and yields
// PARK to its M: Go's gopark with chanparkcommit. Whoever takes the sudog off
// the queue, under the lock, completes the operation (moves the value,
// sets success) and then calls goready after unlocking. The host cannot
// park: it parks a promise on a "host waiter", a G record flagged
// Ghostwait that goready pushes to the host's completion stack.
//
// Lock order: a channel's lock before heap.lock (malloc of a sudog) and
// sched.gflock (a host waiter's G record); never the other way round.

import { freeValue } from './codec/block.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, C_BUF, C_CLOSED, C_DATAQSIZ, C_LOCK, C_QCOUNT, C_RECVQ_HEAD, C_RECVQ_TAIL, C_RECVX, C_REFS, C_SENDQ_HEAD,
  C_SENDQ_TAIL, C_SENDX, CHAN_BYTES, G_FLAGS, G_STATUS, G_WAITREASON, SG_C, SG_G, SG_ISSELECT, SG_NEXT, SG_PREV,
  SG_SLOT, SG_SUCCESS, SUDOG_BYTES, VSLOT_WORDS, G_PARAM, G_SELECTDONE, type Layout,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { free, freeBatch, malloc, mallocBatch } from './malloc.js'
import { gfget, goready } from './proc.js'
import { Gflags, Gstatus, WaitReason } from './runtime2.js'
import { throwFatal } from './throw.js'
import { HandleKind } from './handlekind.js'
import { defineRefKind } from './refs.js'
import { decodeSlotCode, encodeSlotCode, slotCodeF64, storeSlot, takeSlot } from './gvalue.js'

/** The largest buffer: keeps the ring's byte size an int32. */
export const MAX_CHAN_CAP = (1 << 26) - 1

/** Go's makechan: a channel record with a buffer of `size` slots. Any thread. */
export function makechan(h: SharedHeap, size: number): number {
  if (!Number.isInteger(size) || size < 0 || size > MAX_CHAN_CAP) {
    throw new RangeError(`chan: capacity must be an integer from 0 to ${MAX_CHAN_CAP}, got ${String(size)}`)
  }
  const c = malloc(h, CHAN_BYTES)
  const m = h.i32
  const w = c >> 2
  m.fill(0, w, w + (CHAN_BYTES >> 2))
  if (size > 0) {
    let buf: number
    try {
      buf = malloc(h, size * VSLOT_WORDS * 4)
    } catch (e) {
      free(h, c)
      throw e
    }
    m.fill(0, buf >> 2, (buf >> 2) + size * VSLOT_WORDS)
    m[w + C_BUF] = buf
  }
  m[w + C_DATAQSIZ] = size
  Atomics.store(m, w + C_REFS, 1)
  return c
}

/**
 * Frees a channel whose last reference was dropped (refs.ts), with the
 * values still in its buffer. Nothing can be queued on it: a waiter holds a
 * handle. Any thread; takes no channel lock (no other thread knows c).
 */
export function freechan(h: SharedHeap, c: number): void {
  const m = h.i32
  const w = c >> 2
  if (m[w + C_RECVQ_HEAD] !== 0 || m[w + C_SENDQ_HEAD] !== 0) {
    throwFatal('freechan', `channel ${c} freed with goroutines waiting on it`)
  }
  const size = m[w + C_DATAQSIZ]
  const codes: number[] = []
  for (let n = m[w + C_QCOUNT], i = m[w + C_RECVX]; n > 0; n--, i = i + 1 === size ? 0 : i + 1) {
    const code = m[bufslot(m, w, i)]
    if (code > 0) codes.push(code)
  }
  if (size > 0) free(h, m[w + C_BUF])
  free(h, c)
  for (const code of codes) freeValue(h, code)
}

/** Word offset of buffer slot i. */
export function bufslot(m: Int32Array, w: number, i: number): number {
  return (m[w + C_BUF] >> 2) + i * VSLOT_WORDS
}

// Wait queues: doubly linked sudogs. The channel's lock must be held.

export function enqueue(m: Int32Array, w: number, headOff: number, tailOff: number, sg: number): void {
  const s = sg >> 2
  const tail = m[w + tailOff]
  m[s + SG_NEXT] = 0
  m[s + SG_PREV] = tail
  if (tail === 0) m[w + headOff] = sg
  else m[(tail >> 2) + SG_NEXT] = sg
  m[w + tailOff] = sg
}

/**
 * Go's waitq.dequeue: the first sudog, skipping those of a select that
 * another case already won (the winner CASes the G's selectdone; the
 * selecting G removes its other sudogs itself once it runs).
 */
export function dequeue(m: Int32Array, w: number, headOff: number, tailOff: number, l: Layout): number {
  for (;;) {
    const sg = m[w + headOff]
    if (sg === 0) return 0
    const s = sg >> 2
    const next = m[s + SG_NEXT]
    m[w + headOff] = next
    if (next === 0) m[w + tailOff] = 0
    else m[(next >> 2) + SG_PREV] = 0
    m[s + SG_NEXT] = 0
    m[s + SG_PREV] = 0
    if (m[s + SG_ISSELECT] !== 0 && Atomics.compareExchange(m, gbase(l, m[s + SG_G]) + G_SELECTDONE, 0, 1) !== 0) continue
    // The waiter lived on an M that died (Runtime's mdied): withdraw it. Its
    // sudog (and a value it was sending) is left unfreed: a dead M is rare.
    if ((m[gbase(l, m[s + SG_G]) + G_FLAGS] & Gflags.Gorphan) !== 0) continue
    return sg
  }
}

/** Go's waitq.dequeueSudoG: removes sg if it is still queued. */
export function removeSudog(m: Int32Array, w: number, headOff: number, tailOff: number, sg: number): void {
  const s = sg >> 2
  const prev = m[s + SG_PREV]
  const next = m[s + SG_NEXT]
  if (prev !== 0) m[(prev >> 2) + SG_NEXT] = next
  else if (m[w + headOff] === sg) m[w + headOff] = next
  else return // not queued (a dequeue already took it)
  if (next !== 0) m[(next >> 2) + SG_PREV] = prev
  else m[w + tailOff] = prev
  m[s + SG_NEXT] = 0
  m[s + SG_PREV] = 0
}

/**
 * Sudogs kept per thread (Go's per-P sudogcache, 128). An empty cache is
 * refilled with SUDOG_BATCH sudogs under one heap.lock, and a full one gives
 * half back under one: a million goroutines parking, or waking, take the
 * arena's lock 1/32 as often (Go moves half a cache to and from the central
 * one the same way).
 */
const SUDOG_CACHE = 128
const SUDOG_BATCH = 32

/** Go's acquireSudog: from this thread's cache, else the arena. */
export function acquireSudog(h: SharedHeap, c: number, gp: number): number {
  const cache = h.sudogCache
  if (cache.length === 0) mallocBatch(h, SUDOG_BYTES, SUDOG_BATCH, cache)
  const sg = cache.pop()!
  const s = sg >> 2
  const m = h.i32
  // Every field, by plain stores (a fill call costs more than ten stores).
  m[s + SG_G] = gp
  m[s + SG_NEXT] = 0
  m[s + SG_PREV] = 0
  m[s + SG_SUCCESS] = 0
  m[s + SG_C] = c
  m[s + SG_ISSELECT] = 0
  m[s + SG_SLOT] = 0
  m[s + SG_SLOT + 1] = 0
  m[s + SG_SLOT + 2] = 0
  m[s + SG_SLOT + 3] = 0
  return sg
}

/** Go's releaseSudog: after its G was woken and read what it needed. */
export function releaseSudog(h: SharedHeap, sg: number): void {
  const cache = h.sudogCache
  cache.push(sg)
  if (cache.length > SUDOG_CACHE) {
    const keep = SUDOG_CACHE >> 1
    freeBatch(h, cache, keep, cache.length)
    cache.length = keep
  }
}

/**
 * A G to park on: the caller's own G on an M; on the host, a fresh host
 * waiter record. Returns -1 if the G table is full.
 */
export function waiterG(h: SharedHeap, gp: number): number {
  if (gp !== 0) return gp
  const hg = gfget(h)
  if (hg < 0) return -1
  const gb = gbase(h.layout, hg)
  h.i32[gb + G_FLAGS] = Gflags.Ghostwait
  return hg
}

export function parkG(h: SharedHeap, gp: number, reason: number): void {
  const gb = gbase(h.layout, gp)
  h.i32[gb + G_WAITREASON] = reason
  // Plain: published to wakers by the unlock of the channel that follows.
  // (No wait stamp here: reading the clock costs more than the rest of a
  // park; dumps show minutes for the waits that stamp, sync and I/O.)
  h.i32[gb + G_STATUS] = Gstatus.Gwaiting
}

/**
 * Completes the wait of sudog sg, taken off a queue under its record's lock:
 * its outcome (success 1, or 0 for a close), and itself as its G's waker
 * (G.param). Returns the G, to goready after unlocking.
 */
export function wakeSudog(h: SharedHeap, sg: number, success: number): number {
  const m = h.i32
  const s = sg >> 2
  m[s + SG_SUCCESS] = success
  const gp = m[s + SG_G]
  m[gbase(h.layout, gp) + G_PARAM] = sg
  return gp
}

/** Dequeues every waiter (or the first, with one) with wakeSudog and adds its G to wake. The lock held. */
export function wakeQueue(h: SharedHeap, w: number, headOff: number, tailOff: number, wake: number[], one = false): void {
  for (let sg; (sg = dequeue(h.i32, w, headOff, tailOff, h.layout)) !== 0; ) {
    wake.push(wakeSudog(h, sg, 1))
    if (one) return
  }
}

/** Go's send to a waiting receiver: the value goes into its sudog. Returns the receiver's G. The lock held. */
export function sendToReceiver(h: SharedHeap, sg: number, code: number, f: number): number {
  storeSlot(h, (sg >> 2) + SG_SLOT, code, f)
  return wakeSudog(h, sg, 1)
}

/** Appends a value at sendx of c's buffer (which has room). The lock held. */
export function bufsend(h: SharedHeap, w: number, code: number, f: number): void {
  const m = h.i32
  const x = m[w + C_SENDX]
  storeSlot(h, bufslot(m, w, x), code, f)
  m[w + C_SENDX] = x + 1 === m[w + C_DATAQSIZ] ? 0 : x + 1
  Atomics.store(m, w + C_QCOUNT, m[w + C_QCOUNT] + 1)
}

/** Takes the value at recvx of c's non-empty buffer: returns its code, the float64 in takenF. The lock held. */
export function bufrecv(h: SharedHeap, w: number): number {
  const m = h.i32
  const x = m[w + C_RECVX]
  const q = bufslot(m, w, x)
  const code = m[q]
  takenF = h.f64[(q + 2) >> 1]
  m[q] = 0
  m[w + C_RECVX] = x + 1 === m[w + C_DATAQSIZ] ? 0 : x + 1
  Atomics.store(m, w + C_QCOUNT, m[w + C_QCOUNT] - 1)
  return code
}

/** chansend and chanrecv outcomes. */
export const DONE = 0
export const WOULDBLOCK = 1
export const PARKED = 2
export const CLOSED = 3

/** After PARKED: the sudog to wait on and the G (the host's waiter record on the host). */
export let parkedSudog = 0
export let parkedG = 0
/** After chanrecv returned DONE or CLOSED: the value received (DONE) and whether one was. */
export let recvValue: unknown = undefined

/**
 * Go's chansend. Sends v on c. gp is the calling goroutine's G (0 on the
 * host). Returns DONE, WOULDBLOCK (only when !block) or PARKED (then
 * parkedSudog/parkedG say what to wait on; after the wake-up, finishSend).
 * Throws "send on closed channel" as Go panics, and DataCloneError for a
 * value that cannot cross threads. Any thread.
 */
export function chansend(h: SharedHeap, c: number, v: unknown, block: boolean, gp: number): number {
  const m = h.i32
  const w = c >> 2
  // Fast path for a failed non-blocking send: not closed and no room.
  if (!block && Atomics.load(m, w + C_CLOSED) === 0 && full(m, w)) return WOULDBLOCK
  const code = encodeSlotCode(h, v)
  const f = slotCodeF64
  lock(m, w + C_LOCK)
  if (m[w + C_CLOSED] !== 0) {
    unlock(m, w + C_LOCK)
    if (code > 0) freeValue(h, code)
    throw new Error('send on closed channel')
  }
  const sg = dequeue(m, w, C_RECVQ_HEAD, C_RECVQ_TAIL, h.layout)
  if (sg !== 0) {
    // A receiver is waiting: hand the value over directly.
    const rg = sendToReceiver(h, sg, code, f)
    unlock(m, w + C_LOCK)
    goready(h, rg)
    return DONE
  }
  if (m[w + C_QCOUNT] < m[w + C_DATAQSIZ]) {
    bufsend(h, w, code, f)
    unlock(m, w + C_LOCK)
    return DONE
  }
  if (!block) {
    unlock(m, w + C_LOCK)
    if (code > 0) freeValue(h, code)
    return WOULDBLOCK
  }
  const wg = waiterG(h, gp)
  if (wg < 0) {
    unlock(m, w + C_LOCK)
    if (code > 0) freeValue(h, code)
    throw new RangeError('chan send: no free G record for the host to wait on; raise the maxGoroutines option')
  }
  const mysg = acquireSudog(h, c, wg)
  storeSlot(h, (mysg >> 2) + SG_SLOT, code, f)
  enqueue(m, w, C_SENDQ_HEAD, C_SENDQ_TAIL, mysg)
  parkG(h, wg, WaitReason.ChanSend)
  unlock(m, w + C_LOCK)
  parkedSudog = mysg
  parkedG = wg
  return PARKED
}

/** After a parked send was woken: frees the sudog; throws if the channel was closed. */
export function finishSend(h: SharedHeap, sg: number): void {
  const ok = h.i32[(sg >> 2) + SG_SUCCESS] !== 0
  releaseSudog(h, sg)
  if (!ok) throw new Error('send on closed channel')
}

function full(m: Int32Array, w: number): boolean {
  const size = m[w + C_DATAQSIZ]
  // An unbuffered channel is full without a waiting receiver.
  if (size === 0) return Atomics.load(m, w + C_RECVQ_HEAD) === 0
  return Atomics.load(m, w + C_QCOUNT) === size
}

function empty(m: Int32Array, w: number): boolean {
  if (m[w + C_DATAQSIZ] === 0) return Atomics.load(m, w + C_SENDQ_HEAD) === 0
  return Atomics.load(m, w + C_QCOUNT) === 0
}

/**
 * Go's chanrecv. Receives from c. Returns DONE (the value in recvValue),
 * CLOSED (closed and drained: recvValue is undefined), WOULDBLOCK (only when
 * !block) or PARKED (wait on parkedSudog, then finishRecv). Any thread.
 */
export function chanrecv(h: SharedHeap, c: number, block: boolean, gp: number): number {
  const m = h.i32
  const w = c >> 2
  if (!block && empty(m, w)) {
    // Go's fast path: not ready and not closed means it would block; a
    // closed channel observed after emptiness must be re-checked for
    // emptiness, since a send may have raced in before the close.
    if (Atomics.load(m, w + C_CLOSED) === 0) return WOULDBLOCK
    if (empty(m, w)) {
      recvValue = undefined
      return CLOSED
    }
  }
  lock(m, w + C_LOCK)
  if (m[w + C_CLOSED] !== 0 && m[w + C_QCOUNT] === 0) {
    unlock(m, w + C_LOCK)
    recvValue = undefined
    return CLOSED
  }
  const sg = dequeue(m, w, C_SENDQ_HEAD, C_SENDQ_TAIL, h.layout)
  if (sg !== 0) {
    const code = recvFromSender(h, w, sg)
    const f = takenF
    const sgp = takenSender
    unlock(m, w + C_LOCK)
    goready(h, sgp)
    recvValue = decodeSlotCode(h, code, f)
    return DONE
  }
  if (m[w + C_QCOUNT] > 0) {
    const code = bufrecv(h, w)
    const f = takenF
    unlock(m, w + C_LOCK)
    recvValue = decodeSlotCode(h, code, f)
    return DONE
  }
  if (!block) {
    unlock(m, w + C_LOCK)
    return WOULDBLOCK
  }
  const wg = waiterG(h, gp)
  if (wg < 0) {
    unlock(m, w + C_LOCK)
    throw new RangeError('chan receive: no free G record for the host to wait on; raise the maxGoroutines option')
  }
  const mysg = acquireSudog(h, c, wg)
  enqueue(m, w, C_RECVQ_HEAD, C_RECVQ_TAIL, mysg)
  parkG(h, wg, WaitReason.ChanReceive)
  unlock(m, w + C_LOCK)
  parkedSudog = mysg
  parkedG = wg
  return PARKED
}

/** Set by recvFromSender: the received value's float64 and the sender to ready. */
export let takenF = 0
export let takenSender = 0

/**
 * Go's recv, with sender sg taken off c's sendq (the lock held). Unbuffered:
 * take the sender's value. Buffered (so full): take the head of the ring and
 * put the sender's value in the same slot, which becomes the tail. Marks the
 * sender successful; returns the received slot code (float64 in takenF) and
 * leaves the sender in takenSender, to goready after unlocking.
 */
export function recvFromSender(h: SharedHeap, w: number, sg: number): number {
  const m = h.i32
  const s = sg >> 2
  let code: number
  if (m[w + C_DATAQSIZ] === 0) {
    code = m[s + SG_SLOT]
    takenF = h.f64[(s + SG_SLOT + 2) >> 1]
  } else {
    const x = m[w + C_RECVX]
    const q = bufslot(m, w, x)
    code = m[q]
    takenF = h.f64[(q + 2) >> 1]
    storeSlot(h, q, m[s + SG_SLOT], h.f64[(s + SG_SLOT + 2) >> 1])
    const nx = x + 1 === m[w + C_DATAQSIZ] ? 0 : x + 1
    m[w + C_RECVX] = nx
    m[w + C_SENDX] = nx
  }
  m[s + SG_SLOT] = 0
  takenSender = wakeSudog(h, sg, 1)
  return code
}

/** After a parked receive was woken: the value and whether one was received (false: closed). Frees the sudog. */
export function finishRecv(h: SharedHeap, sg: number): boolean {
  const s = sg >> 2
  const ok = h.i32[s + SG_SUCCESS] !== 0
  recvValue = ok ? takeSlot(h, s + SG_SLOT) : undefined
  releaseSudog(h, sg)
  return ok
}


/**
 * Go's closechan: marks c closed and wakes every receiver (with nothing),
 * then every sender (who will throw "send on closed channel"). Throws
 * "close of closed channel". Any thread.
 */
export function closechan(h: SharedHeap, c: number): void {
  const m = h.i32
  const w = c >> 2
  lock(m, w + C_LOCK)
  if (m[w + C_CLOSED] !== 0) {
    unlock(m, w + C_LOCK)
    throw new Error('close of closed channel')
  }
  Atomics.store(m, w + C_CLOSED, 1)
  const wake: number[] = []
  for (let sg; (sg = dequeue(m, w, C_RECVQ_HEAD, C_RECVQ_TAIL, h.layout)) !== 0; ) wake.push(wakeSudog(h, sg, 0))
  const drop: number[] = []
  for (let sg; (sg = dequeue(m, w, C_SENDQ_HEAD, C_SENDQ_TAIL, h.layout)) !== 0; ) {
    const code = m[(sg >> 2) + SG_SLOT]
    m[(sg >> 2) + SG_SLOT] = 0
    if (code > 0) drop.push(code)
    wake.push(wakeSudog(h, sg, 0))
  }
  unlock(m, w + C_LOCK)
  for (const code of drop) freeValue(h, code)
  for (const gp of wake) goready(h, gp)
}

/** Values in the buffer (Go's len on a channel). Any thread. */
export function chanlen(h: SharedHeap, c: number): number {
  return Atomics.load(h.i32, (c >> 2) + C_QCOUNT)
}

/** Buffer capacity. Any thread. */
export function chancap(h: SharedHeap, c: number): number {
  return h.i32[(c >> 2) + C_DATAQSIZ]
}

// Channels are counted (refs.ts): freed with their last reference, on any
// thread that loads this module (every M does, through mworker.ts).
defineRefKind(HandleKind.Chan, { refsWord: C_REFS, free: freechan })
