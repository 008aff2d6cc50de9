// context: Go's context package for cancellation across every M and the
// app's thread. A cancelable context is a record in the shared heap (layout
// `ctx`) with a done channel; cancelling it closes the channel and cancels
// its children, whatever thread created them. background() is the root
// (record 0): never cancelled, its done() is a nil channel.

import { makechan, closechan } from './internal/chan.js'
import { kHandle, registerHandleKind, type HandleRef } from './internal/codec/handles.js'
import type { SharedHeap } from './internal/heap.js'
import { CTX_BYTES, CTX_CHILD, CTX_DEADLINE, CTX_DONE, CTX_ERR, CTX_LOCK, CTX_PARENT, CTX_REFS, CTX_SIBLING } from './internal/layout.js'
import { defineRefKind, release, retain, track } from './internal/refs.js'
import { throwFatal } from './internal/throw.js'
import { lock, unlock } from './internal/lock_futex.js'
import { free, malloc } from './internal/malloc.js'
import { asyncPending, mheap } from './internal/proc.js'
import { HANDLE_CHAN, chanHandle, nilChan, type Chan } from './chan.js'
import { currentRuntime, hostOf, type Runtime } from './runtime.js'

const HANDLE_CONTEXT = 6
const ERR_CANCELED = 1
const ERR_DEADLINE = 2

/** Go's context.Canceled (one per thread, so `===` works within a thread). */
export const Canceled = new Error('context canceled')
/** Go's context.DeadlineExceeded. */
export const DeadlineExceeded = Object.assign(new Error('context deadline exceeded'), { timeout: true })

/** A function that cancels its context (Go's CancelFunc); calling it again does nothing. */
export type CancelFunc = () => void

export class Context {
  /** @internal */
  constructor(
    /** @internal */ readonly heap: SharedHeap | undefined,
    /** @internal */ readonly ptr: number,
  ) {
    if (ptr !== 0) track(heap!, this, HANDLE_CONTEXT, ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_CONTEXT, ptr: this.ptr }
  }

  /** A channel closed when the context is cancelled (a nil channel for background()). */
  done(): Chan<never> {
    if (this.ptr === 0) return nilChan<never>()
    return chanHandle<never>(this.heap!, this.heap!.i32[(this.ptr >> 2) + CTX_DONE])
  }

  /** null while live, else Canceled or DeadlineExceeded. */
  err(): Error | null {
    if (this.ptr === 0) return null
    const e = Atomics.load(this.heap!.i32, (this.ptr >> 2) + CTX_ERR)
    return e === 0 ? null : e === ERR_CANCELED ? Canceled : DeadlineExceeded
  }

  /** The deadline (Date.now() milliseconds), if one was set here or above. */
  deadline(): number | undefined {
    if (this.ptr === 0) return undefined
    const d = this.heap!.f64[((this.ptr >> 2) + CTX_DEADLINE) >> 1]
    return d === 0 ? undefined : d
  }
}

const BACKGROUND = new Context(undefined, 0)

/** Go's context.Background(): the root, never cancelled. */
export function background(): Context {
  return BACKGROUND
}

function heapFor(parent: Context, rt?: Runtime): SharedHeap {
  if (parent.heap !== undefined) return parent.heap
  const h = mheap()
  if (h !== undefined) return h
  const r = rt ?? currentRuntime()
  if (r === undefined) throw new Error('context: no runtime is running on this thread; start one with Runtime.start()')
  return hostOf(r).heap
}

// References (refs.ts): a context record is held by its handles, by its
// parent's child list while linked there, and by each child linked under it
// (the child's parent word). It holds its done channel. Cancelling unlinks
// it from its parent and its children from it, dropping those references,
// so a cancelled context is freed once its handles are gone; one never
// cancelled under a parent never cancelled stays, as Go's does.

/** This thread's pending deadline timers, by heap and context record: what stops each. */
const deadlineTimers = new WeakMap<SharedHeap, Map<number, () => void>>()

function cancel(h: SharedHeap, p: number, err: number): void {
  const m = h.i32
  const w = p >> 2
  lock(m, w + CTX_LOCK)
  if (m[w + CTX_ERR] !== 0) {
    unlock(m, w + CTX_LOCK)
    return
  }
  Atomics.store(m, w + CTX_ERR, err)
  // Go's timerCtx.cancel stops its timer. A deadline timer lives on the
  // thread that made the context; cancelled from another thread, it stays
  // until the deadline (holding the context), then finds it cancelled.
  deadlineTimers.get(h)?.get(p)?.()
  const children: number[] = []
  for (let c = m[w + CTX_CHILD]; c !== 0; c = m[(c >> 2) + CTX_SIBLING]) children.push(c)
  m[w + CTX_CHILD] = 0
  const parent = m[w + CTX_PARENT]
  m[w + CTX_PARENT] = 0
  unlock(m, w + CTX_LOCK)
  closechan(h, m[w + CTX_DONE])
  for (const c of children) {
    cancel(h, c, err)
    release(h, HANDLE_CONTEXT, c) // the child list's reference
  }
  if (parent !== 0) {
    if (removeChild(h, parent, p)) release(h, HANDLE_CONTEXT, p)
    release(h, HANDLE_CONTEXT, parent) // p's reference on its parent
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

/** Frees a context record whose last reference was dropped: cancelled or unlinked, with no children. */
function freectx(h: SharedHeap, p: number): void {
  const m = h.i32
  const w = p >> 2
  if (m[w + CTX_PARENT] !== 0 || m[w + CTX_CHILD] !== 0) throwFatal('freectx', `context ${p} freed while linked to a parent or children`)
  const done = m[w + CTX_DONE]
  free(h, p)
  release(h, HANDLE_CHAN, done)
}

function newCtx(parent: Context, deadline: number, rt?: Runtime): Context {
  if (!(parent instanceof Context)) throw new TypeError('context: parent must be a Context (background() or one derived from it)')
  const h = heapFor(parent, rt)
  const m = h.i32
  const p = malloc(h, CTX_BYTES)
  const w = p >> 2
  m.fill(0, w, w + (CTX_BYTES >> 2))
  m[w + CTX_DONE] = makechan(h, 0)
  Atomics.store(m, w + CTX_REFS, 1) // the handle returned
  m[w + CTX_PARENT] = parent.ptr
  const pd = parent.deadline()
  h.f64[(w + CTX_DEADLINE) >> 1] = pd !== undefined && (deadline === 0 || pd < deadline) ? pd : deadline
  if (parent.ptr !== 0) {
    const pw = parent.ptr >> 2
    retain(h, HANDLE_CONTEXT, parent.ptr) // the child's parent word
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
      release(h, HANDLE_CONTEXT, parent.ptr)
      cancel(h, p, perr)
    }
  }
  return new Context(h, p)
}

/** Go's context.WithCancel: a child of parent and the function that cancels it. */
export function withCancel(parent: Context, opts: { runtime?: Runtime } = {}): [Context, CancelFunc] {
  const ctx = newCtx(parent, 0, opts.runtime)
  return [ctx, () => cancel(ctx.heap!, ctx.ptr, ERR_CANCELED)]
}

/**
 * Go's context.WithDeadline: cancelled with DeadlineExceeded at `deadline`
 * (Date.now() milliseconds), by a timer on this thread, or earlier by its
 * parent or the returned function.
 */
export function withDeadline(parent: Context, deadline: number, opts: { runtime?: Runtime } = {}): [Context, CancelFunc] {
  if (typeof deadline !== 'number' || Number.isNaN(deadline)) throw new TypeError('withDeadline: deadline must be a number (Date.now() milliseconds)')
  const ctx = newCtx(parent, deadline, opts.runtime)
  const h = ctx.heap!
  const d = ctx.deadline()!
  let timer: ReturnType<typeof setTimeout> | undefined
  let timers = deadlineTimers.get(h)
  if (timers === undefined) deadlineTimers.set(h, timers = new Map())
  const stopTimer = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
      timers.delete(ctx.ptr)
      asyncPending(-1)
    }
  }
  if (ctx.err() === null) {
    asyncPending(1)
    timer = setTimeout(() => {
      stopTimer()
      cancel(h, ctx.ptr, ERR_DEADLINE)
    }, Math.max(0, d - Date.now()))
    timers.set(ctx.ptr, stopTimer)
  }
  return [ctx, () => {
    stopTimer()
    cancel(h, ctx.ptr, ERR_CANCELED)
  }]
}

/** Go's context.WithTimeout: withDeadline(parent, Date.now() + ms). */
export function withTimeout(parent: Context, ms: number, opts: { runtime?: Runtime } = {}): [Context, CancelFunc] {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError('withTimeout: ms must be a number')
  return withDeadline(parent, Date.now() + ms, opts)
}

registerHandleKind(HANDLE_CONTEXT, (heap, ptr) => (ptr === 0 ? BACKGROUND : new Context(heap, ptr)), { shared: true })
defineRefKind(HANDLE_CONTEXT, { refsWord: CTX_REFS, free: freectx })
