// Chan: the public face of channels (internal/chan.ts has Go's algorithms).
//
// One Chan object is a handle to a channel record in the shared heap. Its
// blocking operations are Futures (ops.ts): the same call, `ch.send(v)`,
// is run with yield* in a goroutine and awaited on the app's thread, so code
// reads the same in both places. Awaited in a goroutine it rejects with a
// TypeError, and yield*ed on the app's thread it throws one: it never
// silently does nothing.

import type { SharedHeap } from './internal/heap.js'
import {
  CLOSED, DONE, PARKED, chancap, chanlen, chanrecv, chansend, closechan, finishRecv, finishSend, makechan,
  parkG, parkedG, parkedSudog, recvValue,
} from './internal/chan.js'
import { kHandle, registerHandleKind, type HandleRef } from './internal/codec/handles.js'
import { GoroutineFuture, PARK, hostFuture, rejectAwait, type Future } from './internal/ops.js'
import { retain, track } from './internal/refs.js'
import { HandleKind } from './internal/handlekind.js'
import { WaitReason } from './internal/runtime2.js'
import { getg, mheap } from './internal/proc.js'
import { currentRuntime, heapHost, hostOf } from './internal/hostref.js'
import type { Runtime } from './runtime.js'
import type { RecvCase, SendCase } from './select.js'

/**
 * A blocking channel operation: `yield*` it in a goroutine, `await` it on the app's thread.
 * @deprecated Use Future<T>, which every blocking operation returns.
 */
export type ChanOp<T> = Future<T>

/**
 * What recvOk() gives: the value and true, or undefined and false once the
 * channel is closed and drained (Go's `v, ok := <-ch`).
 */
export type RecvOk<T> = [value: T, ok: true] | [value: undefined, ok: false]

export interface ChanOptions {
  /** The runtime the channel belongs to, on the app's thread (default: the one started). */
  runtime?: Runtime
}

/** Go's nil channel: send and receive block forever, select never chooses it, close throws "close of nil channel". */
export function nilChan<T>(): Chan<T> {
  return Chan.of<T>(mheap() ?? (undefined as unknown as SharedHeap), 0)
}

/** Go's make(chan T, cap). */
export function chan<T>(cap = 0, opts: ChanOptions = {}): Chan<T> {
  const h = mheap()
  if (h !== undefined) return Chan.of<T>(h, makechan(h, cap))
  const rt = opts.runtime ?? currentRuntime()
  if (rt === undefined) throw new Error('chan: no runtime is running on this thread; start one with Runtime.start() or pass { runtime }')
  const host = hostOf(rt)
  return Chan.of<T>(host.heap, makechan(host.heap, cap))
}

function inGoroutine(op: string): boolean {
  if (getg() !== 0) return true
  if (mheap() !== undefined) throw new Error(`${op}: blocking channel operations on an M must run inside a goroutine`)
  return false
}

export class Chan<T> {
  /** Channels are made with chan() and nilChan(), and arrive as handles. */
  private constructor(
    /** @internal */ readonly heap: SharedHeap,
    /** @internal */ readonly ptr: number,
  ) {
    // This object holds one reference on the record (a new channel's first,
    // or one the caller took): released when the object is collected.
    if (ptr !== 0) track(heap, this, HandleKind.Chan, ptr)
  }

  /** @internal A Chan object for the record at ptr, holding one reference (see the constructor). */
  static of<T>(heap: SharedHeap, ptr: number): Chan<T> {
    return new Chan<T>(heap, ptr)
  }

  /** A channel crosses threads as a handle to its record (codec.ts). */
  [kHandle](): HandleRef {
    return { kind: HandleKind.Chan, ptr: this.ptr }
  }

  /** Go's `ch <- v`. Throws "send on closed channel". */
  send(v: T): Future<void> {
    if (this.ptr === 0) return blockForever('send', WaitReason.ChanSendNil)
    if (inGoroutine('send')) return new ChanOpIter<void>(this.ptr, 0, v)
    return hostFuture(this.hostSend(v), OP_NAMES[0])
  }

  /** Go's `<-ch`: the next value, or undefined once the channel is closed and drained. */
  recv(): Future<T | undefined> {
    if (this.ptr === 0) return blockForever('recv', WaitReason.ChanReceiveNil)
    if (inGoroutine('recv')) return new ChanOpIter<T | undefined>(this.ptr, 1, undefined)
    return hostFuture(this.hostRecv(false) as Promise<T | undefined>, OP_NAMES[1])
  }

  /** Go's `v, ok := <-ch`: `ok` is false once the channel is closed and drained. */
  recvOk(): Future<RecvOk<T>> {
    if (this.ptr === 0) return blockForever('recvOk', WaitReason.ChanReceiveNil)
    if (inGoroutine('recvOk')) return new ChanOpIter<RecvOk<T>>(this.ptr, 2, undefined)
    return hostFuture(this.hostRecv(true) as Promise<RecvOk<T>>, OP_NAMES[2])
  }

  /** Go's close(ch). Throws "close of closed channel". Never blocks. */
  close(): void {
    if (this.ptr === 0) throw new Error('close of nil channel')
    closechan(this.heap, this.ptr)
  }

  /** A select case that sends v on this channel. */
  sendCase(v: T): SendCase<T> {
    return { chan: this, send: true, value: v }
  }

  /** A select case that receives from this channel. */
  recvCase(): RecvCase<T> {
    return { chan: this, send: false }
  }

  /** Values waiting in the buffer. */
  len(): number {
    return this.ptr === 0 ? 0 : chanlen(this.heap, this.ptr)
  }

  /** The buffer's capacity. */
  cap(): number {
    return this.ptr === 0 ? 0 : chancap(this.heap, this.ptr)
  }

  /** `for await (const v of ch)` on the app's thread: receives until the channel is closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const [v, ok] = (await this.hostRecv(true)) as RecvOk<T>
      if (!ok) return
      yield v
    }
  }

  private async hostSend(v: T): Promise<void> {
    // The completion loop of the channel's own runtime settles the wait.
    const host = heapHost(this.heap, 'send')
    if (chansend(this.heap, this.ptr, v, true, 0) === DONE) return
    const sg = parkedSudog
    await host.park(parkedG)
    finishSend(this.heap, sg)
  }

  private async hostRecv(withOk: boolean): Promise<unknown> {
    const host = heapHost(this.heap, 'recv')
    const r = chanrecv(this.heap, this.ptr, true, 0)
    if (r !== PARKED) return withOk ? [recvValue, r !== CLOSED] : recvValue
    const sg = parkedSudog
    await host.park(parkedG)
    const ok = finishRecv(this.heap, sg)
    return withOk ? [recvValue, ok] : recvValue
  }
}

// Every thread that loads gort can decode channels (an operation of the
// app's thread finds the channel's runtime from its heap). internal/chan.ts
// counts them.
registerHandleKind(HandleKind.Chan, (h, ptr) => Chan.of(h, ptr), { shared: true })

/** @internal A new Chan object for the channel at ptr, with a reference of its own (the caller holds one meanwhile). */
export function chanHandle<T>(h: SharedHeap, ptr: number): Chan<T> {
  retain(h, HandleKind.Chan, ptr)
  return Chan.of<T>(h, ptr)
}

/** The calls as users write them, by ChanOpIter mode, for the errors of a misused Future. */
const OP_NAMES = ['ch.send(v)', 'ch.recv()', 'ch.recvOk()'] as const

/** A nil channel's send or receive: park forever (goroutine) or never settle (app's thread). */
function blockForever(op: 'send' | 'recv' | 'recvOk', reason: number): Future<never> {
  const what = `ch.${op}(${op === 'send' ? 'v' : ''})`
  if (!inGoroutine(op)) return hostFuture(hostBlockForever(), what)
  return new GoroutineFuture(parkForever(reason), what)
}

/**
 * The app's thread blocked forever (a nil channel, a select of nil
 * channels): a nil channel belongs to no runtime, so the default runtime's
 * host holds the wait and rejects it with a DeadlockError when nothing can
 * run (Host.parkForever). With no runtime, it never settles (and holds
 * nothing: Node exits when nothing else is pending).
 */
export function hostBlockForever(): Promise<never> {
  const rt = currentRuntime()
  return rt === undefined ? new Promise<never>(() => {}) : hostOf(rt).parkForever()
}

function* parkForever(reason: number): Generator<unknown, never, unknown> {
  parkG(mheap()!, getg(), reason)
  yield PARK
  throw new Error('gort: a goroutine blocked on a nil channel was woken')
}

/** What next() returns while an operation parks: the request to the M (shared, never changed). */
const YIELD_PARK: IteratorResult<unknown, never> = { value: PARK, done: false }

/**
 * A send or receive inside a goroutine, as the iterator yield* drives: its
 * first next() tries the operation, and either finishes or queues the G
 * and yields PARK; the next() after the wake-up finishes it. A small object
 * instead of a generator: a goroutine parked on a channel keeps its
 * operation alive, and a generator with its register file weighs about
 * four times as much (a million parked receivers: 144 MB less). It is its
 * own Future: awaited instead, it rejects before it ever ran (ops.ts).
 */
class ChanOpIter<T> implements Future<T>, Iterator<unknown, T, unknown> {
  /** The parked sudog, or -1 before the first next(), or -2 once finished. */
  private sg = -1

  constructor(
    private readonly c: number,
    /** 0: send v; 1: receive; 2: receive with ok. */
    private readonly mode: number,
    private readonly v: unknown,
  ) {}

  next(): IteratorResult<unknown, T> {
    const h = mheap()!
    const sg = this.sg
    if (sg === -1) {
      if (this.mode === 0) {
        if (chansend(h, this.c, this.v, true, getg()) !== PARKED) return this.finish(undefined)
      } else {
        const r = chanrecv(h, this.c, true, getg())
        if (r !== PARKED) return this.finish(this.mode === 2 ? [recvValue, r !== CLOSED] : recvValue)
      }
      this.sg = parkedSudog
      return YIELD_PARK
    }
    if (sg === -2) return { value: undefined as T, done: true }
    if (this.mode === 0) {
      finishSend(h, sg)
      return this.finish(undefined)
    }
    const ok = finishRecv(h, sg)
    return this.finish(this.mode === 2 ? [recvValue, ok] : recvValue)
  }

  /** Ends the operation with its result (the value decoded from the channel, typed by the Chan that made it). */
  private finish(value: unknown): IteratorResult<unknown, T> {
    this.sg = -2
    return { value: value as T, done: true }
  }

  return(value?: unknown): IteratorResult<unknown, T> {
    return { value: value as T, done: true }
  }

  throw(e?: unknown): never {
    throw e
  }

  [Symbol.iterator](): this {
    return this
  }

  then<A = T, B = never>(
    _onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return rejectAwait<T, A, B>(OP_NAMES[this.mode], onrejected)
  }
}
