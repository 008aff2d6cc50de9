// context: Go's context package for cancellation across every M and the
// app's thread. A cancelable context is a record in the shared heap with a
// done channel; cancelling it closes the channel and cancels its children,
// whatever thread created them (internal/context.ts has the record and Go's
// algorithms). background() is the root: never cancelled, its done() is a
// nil channel.

import { kHandle, registerHandleKind, type HandleRef } from './internal/codec/handles.js'
import {
  Canceled, DeadlineExceeded, ERR_CANCELED, cancelctx, ctxarm, ctxdeadline, ctxdone, ctxerr, newctx,
} from './internal/context.js'
import { HandleKind } from './internal/handlekind.js'
import type { SharedHeap } from './internal/heap.js'
import { mheap } from './internal/proc.js'
import { track } from './internal/refs.js'
import { chanHandle, nilChan, type Chan } from './chan.js'
import { currentRuntime, hostOf } from './internal/hostref.js'
import type { Runtime } from './runtime.js'

export { Canceled, DeadlineExceeded }

/** A function that cancels its context (Go's CancelFunc); calling it again does nothing. */
export type CancelFunc = () => void

/**
 * Go's context.Context: a cancellation signal, an error once cancelled and
 * maybe a deadline, shared by every M and the app's thread. Pass it to
 * goroutines as an argument; derive children with withCancel, withTimeout
 * and withDeadline.
 *
 * @example
 * const [ctx, cancel] = withTimeout(background(), 100)
 * const r = yield* select([ctx.done().recvCase(), results.recvCase()])
 * if (r.index === 0) return ctx.err()  // DeadlineExceeded, on every thread
 */
export class Context {
  // Contexts come from background(), withCancel, withTimeout and withDeadline
  // (and from decoding on another thread), never from `new`.
  private constructor(
    /** @internal */ readonly heap: SharedHeap | undefined,
    /** @internal */ readonly ptr: number,
  ) {
    if (ptr !== 0) track(heap!, this, HandleKind.Context, ptr)
  }

  /** @internal */
  static of(heap: SharedHeap | undefined, ptr: number): Context {
    return new Context(heap, ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.Context, ptr: this.ptr }
  }

  /** A channel closed when the context is cancelled (a nil channel for background()). */
  done(): Chan<never> {
    if (this.ptr === 0) return nilChan<never>()
    return chanHandle<never>(this.heap!, ctxdone(this.heap!, this.ptr))
  }

  /** null while live, else Canceled or DeadlineExceeded (the same objects on every thread). */
  err(): Error | null {
    return ctxerr(this.heap, this.ptr)
  }

  /** The deadline (Date.now() milliseconds), if one was set here or above. */
  deadline(): number | undefined {
    return ctxdeadline(this.heap, this.ptr)
  }
}

const BACKGROUND = Context.of(undefined, 0)

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

function derive(parent: Context, deadline: number, rt: Runtime | undefined): Context {
  if (!(parent instanceof Context)) throw new TypeError('context: parent must be a Context (background() or one derived from it)')
  const h = heapFor(parent, rt)
  return Context.of(h, newctx(h, parent.ptr, deadline))
}

/** Go's context.WithCancel: a child of parent and the function that cancels it. */
export function withCancel(parent: Context, opts: { runtime?: Runtime } = {}): [Context, CancelFunc] {
  const ctx = derive(parent, 0, opts.runtime)
  return [ctx, () => cancelctx(ctx.heap!, ctx.ptr, ERR_CANCELED)]
}

/**
 * Go's context.WithDeadline: cancelled with DeadlineExceeded at `deadline`
 * (Date.now() milliseconds), by a timer on this thread, or earlier by its
 * parent or the returned function.
 */
export function withDeadline(parent: Context, deadline: number, opts: { runtime?: Runtime } = {}): [Context, CancelFunc] {
  if (typeof deadline !== 'number' || Number.isNaN(deadline)) throw new TypeError('withDeadline: deadline must be a number (Date.now() milliseconds)')
  const ctx = derive(parent, deadline, opts.runtime)
  ctxarm(ctx.heap!, ctx.ptr)
  return [ctx, () => cancelctx(ctx.heap!, ctx.ptr, ERR_CANCELED)]
}

/** Go's context.WithTimeout: withDeadline(parent, Date.now() + ms). */
export function withTimeout(parent: Context, ms: number, opts: { runtime?: Runtime } = {}): [Context, CancelFunc] {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError('withTimeout: ms must be a number')
  return withDeadline(parent, Date.now() + ms, opts)
}

// Every thread that loads gort decodes contexts (internal/context.ts counts them).
registerHandleKind(HandleKind.Context, (heap, ptr) => (ptr === 0 ? BACKGROUND : Context.of(heap, ptr)), { shared: true })
