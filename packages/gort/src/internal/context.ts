// Contexts: Go's context package (cancelCtx, timerCtx) on records in the
// shared heap, so that a cancellation reaches every M and the app's thread.
// The public face is ../context.ts; this file owns the record (layout.ts
// `ctx`) and every access to it.
//
// A cancelable context is a record with its own lock, a done channel, an
// error word, a deadline, its parent and a list of its children (linked
// through their sibling words, under the parent's lock). Cancelling one
// (cancelctx) stores its error, closes its done channel, cancels its
// children and unlinks it from its parent, whatever thread created them.
// background() is record 0: never cancelled, no record at all.
//
// Invariants:
//   - err goes from 0 to ERR_CANCELED or ERR_DEADLINE once, under the
//     record's lock; readers load it with Atomics.load (err()).
//   - a context is on its parent's child list only while both are live: a
//     cancel takes the whole list (its children) and unlinks itself from
//     its parent; newctx under a cancelled parent does not link at all.
//
// Lock order: a parent's lock and a child's lock are never held together
// (cancel collects the children under the parent's lock, then cancels each
// after unlocking), and neither is held across closechan (which takes the
// done channel's lock).
//
// References (refs.ts): a context record is held by its handles, by its
// parent's child list while linked there, and by each child linked under it
// (the child's parent word). It holds its done channel. Cancelling unlinks
// it from its parent and its children from it, dropping those references,
// so a cancelled context is freed once its handles are gone; one never
// cancelled under a parent never cancelled stays, as Go's does ("failing to
// call the CancelFunc leaks the child").
//
// Deadlines: a timer on the thread that made the context (withDeadline)
// cancels it with ERR_DEADLINE. Go's timerCtx.cancel stops its timer; here
// a cancel on that thread stops it, and one from another thread leaves it
// to fire, find the context cancelled, and do nothing (holding the record
// until then).

import { closechan, makechan } from './chan.js'
import { registerError } from './codec/errors.js'
import type { SharedHeap } from './heap.js'
import { HandleKind } from './handlekind.js'
import { CTX_BYTES, CTX_CHILD, CTX_DEADLINE, CTX_DONE, CTX_ERR, CTX_LOCK, CTX_PARENT, CTX_REFS, CTX_SIBLING } from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { free, malloc } from './malloc.js'
import { asyncPending } from './proc.js'
import { defineRefKind, release, retain } from './refs.js'
import { throwFatal } from './throw.js'

/** The ctx record's err word: 0 while live. */
export const ERR_CANCELED = 1
export const ERR_DEADLINE = 2

/**
 * Go's context.Canceled: one object per thread, and the codec decodes it to
 * this thread's object (errors.ts known values), so `err === Canceled`
 * holds on every thread. Frozen: it is shared by every goroutine on the
 * thread, and nothing (the runtime tagging a failure with its goroutine id
 * included) may change it.
 */
export const Canceled: Error = registerError(new Error('context canceled'), { name: 'gort.Canceled' })
/** Go's context.DeadlineExceeded (its Timeout() is `timeout: true`). Shared and frozen as Canceled is. */
export const DeadlineExceeded: Error & { readonly timeout: true } = registerError(
  Object.assign(new Error('context deadline exceeded'), { timeout: true as const }), { name: 'gort.DeadlineExceeded' },
)

/** This thread's pending deadline timers, by heap and context record: what stops each. */
const deadlineTimers = new WeakMap<SharedHeap, Map<number, () => void>>()

/**
 * Go's newCancelCtx with propagateCancel: a new context record under the
 * record parent (0: background) with the given deadline (Date.now() ms, 0
 * for none; the parent's if earlier). Links it into the parent's child
 * list, or cancels it at once if the parent is cancelled already. Returns
 * the record with one reference, the caller's (its handle's). Any thread;
 * the caller holds a reference on parent.
 */
export function newctx(h: SharedHeap, parent: number, deadline: number): number {
  const m = h.i32
  const p = malloc(h, CTX_BYTES)
  const w = p >> 2
  m.fill(0, w, w + (CTX_BYTES >> 2))
  m[w + CTX_DONE] = makechan(h, 0)
  Atomics.store(m, w + CTX_REFS, 1) // the handle returned
  m[w + CTX_PARENT] = parent
  const pd = ctxdeadline(h, parent)
  h.f64[(w + CTX_DEADLINE) >> 1] = pd !== undefined && (deadline === 0 || pd < deadline) ? pd : deadline
  if (parent !== 0) {
    const pw = parent >> 2
    retain(h, HandleKind.Context, parent) // the child's parent word
    Atomics.add(m, w + CTX_REFS, 1) // the parent's child list, if linked
    lock(m, pw + CTX_LOCK)
    const perr = m[pw + CTX_ERR]
    if (perr === 0) {
      m[w + CTX_SIBLING] = m[pw + CTX_CHILD]
      m[pw + CTX_CHILD] = p
    }
    unlock(m, pw + CTX_LOCK)
    if (perr !== 0) {
      m[w + CTX_PARENT] = 0
      Atomics.sub(m, w + CTX_REFS, 1)
      release(h, HandleKind.Context, parent)
      cancelctx(h, p, perr)
    }
  }
  return p
}

/**
 * Go's cancelCtx.cancel: stores err (ERR_CANCELED or ERR_DEADLINE) unless
 * the context is cancelled already, stops its deadline timer if this
 * thread has it, closes its done channel, cancels its children and unlinks
 * it from its parent. Any thread; the caller holds a reference on p.
 */
export function cancelctx(h: SharedHeap, p: number, err: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + CTX_LOCK)
  if (m[w + CTX_ERR] !== 0) {
    unlock(m, w + CTX_LOCK)
    return
  }
  Atomics.store(m, w + CTX_ERR, err) // pairs with ctxerr's Atomics.load
  deadlineTimers.get(h)?.get(p)?.()
  const children: number[] = []
  for (let c = m[w + CTX_CHILD]; c !== 0; c = m[(c >> 2) + CTX_SIBLING]) children.push(c)
  m[w + CTX_CHILD] = 0
  const parent = m[w + CTX_PARENT]
  m[w + CTX_PARENT] = 0
  unlock(m, w + CTX_LOCK)
  closechan(h, m[w + CTX_DONE])
  for (const c of children) {
    cancelctx(h, c, err)
    release(h, HandleKind.Context, c) // the child list's reference
  }
  if (parent !== 0) {
    if (removeChild(h, parent, p)) release(h, HandleKind.Context, p)
    release(h, HandleKind.Context, parent) // p's reference on its parent
  }
}

/** Unlinks child from parent's list; false if a cancel of the parent took the list first (and releases it). */
function removeChild(h: SharedHeap, parent: number, child: number): boolean {
  const m = h.i32
  const pw = parent >> 2
  lock(m, pw + CTX_LOCK)
  let prev = 0
  for (let c = m[pw + CTX_CHILD]; c !== 0; prev = c, c = m[(c >> 2) + CTX_SIBLING]) {
    if (c === child) {
      const next = m[(c >> 2) + CTX_SIBLING]
      if (prev === 0) m[pw + CTX_CHILD] = next
      else m[(prev >> 2) + CTX_SIBLING] = next
      unlock(m, pw + CTX_LOCK)
      return true
    }
  }
  unlock(m, pw + CTX_LOCK)
  return false
}

/**
 * Arms the deadline of the context at p on this thread: a timer that
 * cancels it with ERR_DEADLINE, counted as pending work of this thread
 * (an M does not idle away from it) until it fires or a cancel on this
 * thread stops it. Nothing if the context is cancelled already.
 */
export function ctxarm(h: SharedHeap, p: number): void {
  if (ctxerr(h, p) !== null) return
  const d = ctxdeadline(h, p)!
  let timers = deadlineTimers.get(h)
  if (timers === undefined) deadlineTimers.set(h, timers = new Map())
  let armed = true
  const stop = (): void => {
    if (!armed) return
    armed = false
    clearTimeout(timer)
    timers.delete(p)
    asyncPending(-1)
  }
  asyncPending(1)
  const timer = setTimeout(() => {
    stop()
    cancelctx(h, p, ERR_DEADLINE)
  }, Math.max(0, d - Date.now()))
  timers.set(p, stop)
}

/** The context's error: null while live, else Canceled or DeadlineExceeded (this thread's). Record 0 is background. */
export function ctxerr(h: SharedHeap | undefined, p: number): Error | null {
  if (p === 0) return null
  const e = Atomics.load(h!.i32, (p >> 2) + CTX_ERR) // pairs with cancelctx's Atomics.store
  return e === 0 ? null : e === ERR_CANCELED ? Canceled : DeadlineExceeded
}

/** The context's deadline (Date.now() ms), if one was set on it or above; set once, before the record is shared. */
export function ctxdeadline(h: SharedHeap | undefined, p: number): number | undefined {
  if (p === 0) return undefined
  const d = h!.f64[((p >> 2) + CTX_DEADLINE) >> 1]
  return d === 0 ? undefined : d
}

/** The context's done channel record (never 0 for a record; background has none). Set once, before the record is shared. */
export function ctxdone(h: SharedHeap, p: number): number {
  return h.i32[(p >> 2) + CTX_DONE]
}

/** Frees a context record whose last reference was dropped: cancelled or unlinked, with no children. */
function freectx(h: SharedHeap, p: number): void {
  const m = h.i32
  const w = p >> 2
  if (m[w + CTX_PARENT] !== 0 || m[w + CTX_CHILD] !== 0) throwFatal('freectx', `context ${p} freed while linked to a parent or children`)
  const done = m[w + CTX_DONE]
  free(h, p)
  release(h, HandleKind.Chan, done)
}

// Contexts are counted (refs.ts), on every thread that loads this module
// (every M does, through mworker.ts).
defineRefKind(HandleKind.Context, { refsWord: CTX_REFS, free: freectx })
