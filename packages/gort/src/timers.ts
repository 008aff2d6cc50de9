// Timers: sleep, after, ticker, afterFunc, and Timer stop/reset.
//
// Timers are kept per thread: each M's own Node event loop runs the timers
// its goroutines start (the M is already gort's netpoller), and the app's
// thread runs its own. Go keeps timers per P so that any M holding the P
// runs them; here a timer callback is a closure in one isolate and cannot
// move, so it stays with the thread that created it, as started goroutines
// do. An M with timers pending lets its event loop run at least every 2 ms
// while busy and parks with Atomics.waitAsync while idle, so a timer fires
// on time even while other goroutines keep its P busy. A timer that fires
// sends the current time (Date.now()) on its channel without blocking, to
// whichever thread waits there.

import { GoroutineFuture, OpKind, SchedOp, hostFuture, type Future } from './internal/ops.js'
import { asyncPending, getg, mheap } from './internal/proc.js'
import { chansend } from './internal/chan.js'
import { chan, type Chan } from './chan.js'
import type { Runtime } from './runtime.js'

function checkMs(fn: string, ms: unknown): number {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError(`${fn}: ms must be a number, got ${String(ms)}`)
  return Math.max(0, ms)
}

/**
 * Go's time.Sleep: pauses the goroutine (wait reason "sleep") for ms
 * milliseconds; on the app's thread, a promise that resolves after ms.
 */
export function sleep(ms: number): Future<void> {
  const d = checkMs('sleep', ms)
  if (getg() !== 0) return new GoroutineFuture(sleepG(d), 'sleep(ms)')
  if (mheap() !== undefined) throw new Error('sleep: must run inside a goroutine on an M')
  return hostFuture(new Promise<void>((r) => setTimeout(r, d)), 'sleep(ms)')
}

function* sleepG(ms: number): Generator<unknown, void, unknown> {
  yield new SchedOp(OpKind.Sleep, ms)
}

/** Go's time.Timer: its channel receives the time once, ms after it was started. */
export class Timer {
  /** Receives Date.now() when the timer fires. */
  readonly c: Chan<number>
  private handle: ReturnType<typeof setTimeout> | undefined

  /** @internal */
  constructor(ms: number, private readonly fn?: () => void, opts: TimerOptions = {}) {
    this.c = chan<number>(1, opts)
    this.start(ms)
  }

  private start(ms: number): void {
    asyncPending(1)
    this.handle = setTimeout(() => {
      this.handle = undefined
      asyncPending(-1)
      if (this.fn !== undefined) this.fn()
      else chansend(this.c.heap, this.c.ptr, Date.now(), false, 0)
    }, ms)
  }

  /** Prevents the timer from firing. Returns false if it had fired or been stopped already. */
  stop(): boolean {
    if (this.handle === undefined) return false
    clearTimeout(this.handle)
    this.handle = undefined
    asyncPending(-1)
    return true
  }

  /** Restarts the timer to fire ms from now. Returns whether it was active. */
  reset(ms: number): boolean {
    const d = checkMs('Timer.reset', ms)
    const active = this.stop()
    this.start(d)
    return active
  }
}

/**
 * Where a timer's channel lives. Inside a goroutine: its M's runtime. On the
 * app's thread: `runtime`, or the default runtime (the oldest not closed);
 * name it when the app runs two, so that the channel can meet that
 * runtime's channels in a select.
 */
export interface TimerOptions {
  runtime?: Runtime
}

/** Go's time.NewTimer. */
export function newTimer(ms: number, opts: TimerOptions = {}): Timer {
  return new Timer(checkMs('newTimer', ms), undefined, checkTimerOptions('newTimer', opts))
}

/** Go's time.After: a channel that receives the time once, after ms. */
export function after(ms: number, opts: TimerOptions = {}): Chan<number> {
  return newTimer(ms, opts).c
}

function checkTimerOptions(fn: string, opts: TimerOptions): TimerOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${fn}: options must be an object ({ runtime }), got ${String(opts)}`)
  for (const k of Object.keys(opts)) if (k !== 'runtime') throw new TypeError(`${fn}: unknown option '${k}' (the only one is runtime)`)
  return opts
}

/** Go's time.AfterFunc: calls fn on this thread after ms (a local callback). */
export function afterFunc(ms: number, fn: () => void): Timer {
  if (typeof fn !== 'function') throw new TypeError('afterFunc: fn must be a function')
  return new Timer(checkMs('afterFunc', ms), fn)
}

/** Go's time.Ticker: its channel receives the time every ms; slow receivers miss ticks. */
export class Ticker {
  readonly c: Chan<number>
  private handle: ReturnType<typeof setInterval> | undefined

  /** @internal */
  constructor(ms: number, opts: TimerOptions = {}) {
    if (ms <= 0) throw new RangeError('ticker: non-positive interval')
    this.c = chan<number>(1, opts)
    this.start(ms)
  }

  private start(ms: number): void {
    asyncPending(1)
    this.handle = setInterval(() => {
      chansend(this.c.heap, this.c.ptr, Date.now(), false, 0)
    }, ms)
  }

  /** Turns the ticker off; no more ticks are sent. */
  stop(): void {
    if (this.handle === undefined) return
    clearInterval(this.handle)
    this.handle = undefined
    asyncPending(-1)
  }

  /** Stops the ticker and restarts it with a new period. */
  reset(ms: number): void {
    const d = checkMs('Ticker.reset', ms)
    if (d <= 0) throw new RangeError('Ticker.reset: non-positive interval')
    this.stop()
    this.start(d)
  }
}

/** Go's time.NewTicker. */
export function ticker(ms: number, opts: TimerOptions = {}): Ticker {
  return new Ticker(checkMs('ticker', ms), checkTimerOptions('ticker', opts))
}
