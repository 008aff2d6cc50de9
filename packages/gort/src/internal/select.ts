// select: a port of Go's selectgo (select.go).
//
// 1. Poll order: a random permutation of the cases, so no ready case is
//    favoured. Lock order: the distinct channels sorted by address, so two
//    selects over the same channels cannot deadlock (duplicates are locked
//    once).
// 2. With every channel locked, pass 1 looks for a case that can proceed now,
//    in poll order, and completes it as chansend/chanrecv would.
// 3. Otherwise, without a default, pass 2 queues one sudog per case (marked
//    isSelect) and parks the G ("select"), unlocking after the status is
//    set. A waker that takes one of these sudogs must first win the G's
//    selectdone CAS (chan.ts dequeue), so exactly one case fires; it records
//    its sudog in G.param.
// 4. Woken, the G locks every channel again, removes its other sudogs from
//    their queues (pass 3), and reports the case whose sudog is in G.param.
//
// Send values are encoded before any lock is taken; the values of send cases
// that did not fire are freed.

import { freeValue } from './codec/block.js'
import {
  acquireSudog, bufrecv, bufsend, dequeue, enqueue, parkG, recvFromSender, releaseSudog, removeSudog, sendToReceiver,
  takenF, takenSender, waiterG,
  CLOSED, DONE, PARKED, WOULDBLOCK,
} from './chan.js'
import { decodeSlotCode, storeSlot, takeSlot } from './gvalue.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, C_CLOSED, C_DATAQSIZ, C_LOCK, C_QCOUNT, C_RECVQ_HEAD, C_RECVQ_TAIL, C_SENDQ_HEAD, C_SENDQ_TAIL,
  G_PARAM, G_SELECTDONE, SG_ISSELECT, SG_SLOT, SG_SUCCESS,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { goready } from './proc.js'
import { WaitReason } from './runtime2.js'

/** One case, as selectgo sees it. c = 0 is a nil channel: never ready. */
export interface Scase {
  c: number
  send: boolean
  /** Send cases: the encoded value (gvalue.ts slot code) and its float64. */
  code: number
  f: number
}

/** After selectgo or finishSelect: the case that fired, the value received, and whether one was. */
export let selIndex = -1
export let selValue: unknown = undefined
export let selOk = false
/** After PARKED: the sudogs queued, one per case (0 for a nil channel), and the G parked on. */
export let selSudogs: number[] = []
export let selG = 0

let rand = (n: number): number => Math.floor(Math.random() * n)

/** Sets the random source for poll orders (the M's FastRand). */
export function setSelectRand(r: (n: number) => number): void {
  rand = r
}

function lockorder(cases: readonly Scase[]): number[] {
  const cs: number[] = []
  for (const k of cases) if (k.c !== 0) cs.push(k.c)
  cs.sort((a, b) => a - b)
  const out: number[] = []
  for (const c of cs) if (out.length === 0 || out[out.length - 1] !== c) out.push(c)
  return out
}

function sellock(m: Int32Array, order: readonly number[]): void {
  for (const c of order) lock(m, (c >> 2) + C_LOCK)
}

function selunlock(m: Int32Array, order: readonly number[]): void {
  for (let i = order.length - 1; i >= 0; i--) unlock(m, (order[i] >> 2) + C_LOCK)
}

function freeSendValues(h: SharedHeap, cases: readonly Scase[], except: number): void {
  for (let i = 0; i < cases.length; i++) {
    if (i !== except && cases[i].send && cases[i].code > 0) freeValue(h, cases[i].code)
  }
}

/**
 * Go's selectgo. Returns DONE (selIndex, selValue, selOk), WOULDBLOCK (only
 * when !block: the default case) or PARKED (wait on selG, then
 * finishSelect). Throws "send on closed channel" if a send case's channel
 * is closed. gp is the caller's G, 0 on the host. Any thread.
 */
export function selectgo(h: SharedHeap, cases: readonly Scase[], block: boolean, gp: number): number {
  const m = h.i32
  const n = cases.length
  const pollorder = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = rand(i + 1)
    const t = pollorder[i]
    pollorder[i] = pollorder[j]
    pollorder[j] = t
  }
  const order = lockorder(cases)
  sellock(m, order)
  // Pass 1: something ready now?
  for (const i of pollorder) {
    const k = cases[i]
    if (k.c === 0) continue
    const w = k.c >> 2
    if (!k.send) {
      const sg = dequeue(m, w, C_SENDQ_HEAD, C_SENDQ_TAIL, h.layout)
      if (sg !== 0) return recvCaseFromSender(h, cases, order, i, w, sg)
      if (m[w + C_QCOUNT] > 0) {
        const code = bufrecv(h, w)
        const f = takenF
        selunlock(m, order)
        freeSendValues(h, cases, -1)
        return done(i, decodeSlotCode(h, code, f), true)
      }
      if (m[w + C_CLOSED] !== 0) {
        selunlock(m, order)
        freeSendValues(h, cases, -1)
        return done(i, undefined, false)
      }
    } else {
      if (m[w + C_CLOSED] !== 0) {
        selunlock(m, order)
        freeSendValues(h, cases, -1)
        throw new Error('send on closed channel')
      }
      const sg = dequeue(m, w, C_RECVQ_HEAD, C_RECVQ_TAIL, h.layout)
      if (sg !== 0) {
        const rg = sendToReceiver(h, sg, k.code, k.f)
        selunlock(m, order)
        freeSendValues(h, cases, i)
        goready(h, rg)
        return done(i, undefined, false)
      }
      if (m[w + C_QCOUNT] < m[w + C_DATAQSIZ]) {
        bufsend(h, w, k.code, k.f)
        selunlock(m, order)
        freeSendValues(h, cases, i)
        return done(i, undefined, false)
      }
    }
  }
  if (!block) {
    selunlock(m, order)
    freeSendValues(h, cases, -1)
    selIndex = -1
    selValue = undefined
    selOk = false
    return WOULDBLOCK
  }
  // Pass 2: queue on every channel and park.
  const wg = waiterG(h, gp)
  if (wg < 0) {
    selunlock(m, order)
    freeSendValues(h, cases, -1)
    throw new RangeError('select: no free G record for the host to wait on; raise the maxGoroutines option')
  }
  const gb = gbase(h.layout, wg)
  Atomics.store(m, gb + G_SELECTDONE, 0)
  m[gb + G_PARAM] = 0
  // Queue in poll order, so that cases on the same channel are offered to
  // partners in a random order (Go's lockorder breaks address ties by it).
  const sgs: number[] = new Array<number>(n).fill(0)
  for (const i of pollorder) {
    const k = cases[i]
    if (k.c === 0) continue
    const sg = acquireSudog(h, k.c, wg)
    const s = sg >> 2
    m[s + SG_ISSELECT] = 1
    const w = k.c >> 2
    if (k.send) {
      storeSlot(h, s + SG_SLOT, k.code, k.f)
      enqueue(m, w, C_SENDQ_HEAD, C_SENDQ_TAIL, sg)
    } else enqueue(m, w, C_RECVQ_HEAD, C_RECVQ_TAIL, sg)
    sgs[i] = sg
  }
  parkG(h, wg, WaitReason.Select)
  selunlock(m, order)
  selSudogs = sgs
  selG = wg
  return PARKED
}

function done(i: number, v: unknown, ok: boolean): number {
  selIndex = i
  selValue = v
  selOk = ok
  return DONE
}

/** A receive case meets a waiting sender (pass 1). All channels locked; unlocks them. */
function recvCaseFromSender(h: SharedHeap, cases: readonly Scase[], order: readonly number[], i: number, w: number, sg: number): number {
  const code = recvFromSender(h, w, sg)
  const f = takenF
  const sgp = takenSender
  selunlock(h.i32, order)
  freeSendValues(h, cases, -1)
  goready(h, sgp)
  return done(i, decodeSlotCode(h, code, f), true)
}

/**
 * After a parked select was woken: pass 3. Removes the other sudogs, finds
 * the case that fired, releases the sudogs, and sets selIndex, selValue,
 * selOk. Throws "send on closed channel" if the winner was a send case
 * woken by close. Any thread; sgs and wg from selectgo.
 */
export function finishSelect(h: SharedHeap, cases: readonly Scase[], sgs: readonly number[], wg: number): void {
  const m = h.i32
  const order = lockorder(cases)
  sellock(m, order)
  const win = m[gbase(h.layout, wg) + G_PARAM]
  let index = -1
  for (let i = 0; i < cases.length; i++) {
    const sg = sgs[i]
    if (sg === 0) continue
    if (sg === win) {
      index = i
      continue
    }
    const w = cases[i].c >> 2
    if (cases[i].send) removeSudog(m, w, C_SENDQ_HEAD, C_SENDQ_TAIL, sg)
    else removeSudog(m, w, C_RECVQ_HEAD, C_RECVQ_TAIL, sg)
  }
  selunlock(m, order)
  if (index < 0) throw new Error('select: woken with no case (gort bug)')
  const ws = win >> 2
  const ok = m[ws + SG_SUCCESS] !== 0
  let value: unknown = undefined
  if (!cases[index].send && ok) value = takeSlot(h, ws + SG_SLOT)
  // Unchosen send cases still own their values in their sudogs.
  for (let i = 0; i < cases.length; i++) {
    const sg = sgs[i]
    if (sg === 0) continue
    if (i !== index && cases[i].send) {
      const code = m[(sg >> 2) + SG_SLOT]
      m[(sg >> 2) + SG_SLOT] = 0
      if (code > 0) freeValue(h, code)
    }
    m[(sg >> 2) + SG_ISSELECT] = 0
    releaseSudog(h, sg)
  }
  if (cases[index].send && !ok) throw new Error('send on closed channel')
  selIndex = index
  selValue = value
  // ok reports a receive (Go's recvOK): false for a send case, as in pass 1.
  selOk = ok && !cases[index].send
}

export { CLOSED, DONE, PARKED, WOULDBLOCK }
