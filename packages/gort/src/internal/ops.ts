// The operations a goroutine performs with yield*: each is a tiny generator
// that yields a request (a SchedOp) to the M running it and returns what the
// M sends back. A plain `yield` of anything else is a safe point.
//
// Two public types say what a call returns (effection's split):
//  - an Operation is only an iterable: yield* it inside a goroutine.
//    gosched(), until() and syscall() are Operations; they mean nothing
//    outside a goroutine.
//  - a Future is both an Operation and a PromiseLike, because one call
//    shape serves every thread: `yield* ch.send(v)` in a goroutine,
//    `await ch.send(v)` on the app's thread. Each value really has both
//    faces, and the face that cannot work where the value was made fails
//    loudly instead of doing nothing: a goroutine's Future rejects when
//    awaited (GoroutineFuture, ChanOp in chan.ts), the app's Future, a
//    promise already under way, throws when yield*ed (hostFuture).
//    docs/design/channels.md says why awaiting inside a goroutine fails
//    rather than runs the operation.

/**
 * An operation a goroutine runs with `yield*` (effection's Operation): only
 * an iterable, whose iterator yields requests to the M and returns T.
 */
export interface Operation<T> {
  [Symbol.iterator](): Iterator<unknown, T, unknown>
}

/**
 * A blocking operation with one call shape on every thread (effection's
 * Future): `yield*` it inside a goroutine, `await` it on the app's thread.
 * Each value has both faces; the one that cannot work where the value was
 * made fails with a TypeError saying what to write instead (awaited in a
 * goroutine: it rejects and the operation never runs; yield*ed on the
 * app's thread: it throws).
 *
 * @example
 * yield* ch.send(1)   // in a goroutine
 * await ch.send(1)    // on the app's thread
 */
export interface Future<T> extends Operation<T>, PromiseLike<T> {}

/** The TypeError of a goroutine's Future that was awaited: `what` is the call as a user writes it ("ch.send(v)"). */
export function awaitedInGoroutine(what: string): TypeError {
  return new TypeError(
    `${what} was awaited inside a goroutine: use yield* ${what} there; ` +
      'await works only on the app\'s thread (an async function cannot make a goroutine wait: the operation did not run)',
  )
}

/** A goroutine's rejection of then(): the operation has not run and never will through this value. */
export function rejectAwait<T, A, B>(
  what: string,
  onrejected: ((reason: unknown) => B | PromiseLike<B>) | null | undefined,
): PromiseLike<A | B> {
  return Promise.reject<T>(awaitedInGoroutine(what)).then<A, B>(undefined, onrejected)
}

/**
 * A goroutine's Future around an operation's iterator (a generator of
 * sync.ts or select.ts): yield* drives the iterator; await rejects. The
 * wrapper is dropped as soon as yield* took the iterator, so a parked
 * goroutine keeps only its generator.
 */
export class GoroutineFuture<T> implements Future<T> {
  constructor(
    private readonly it: Iterator<unknown, T, unknown>,
    /** The call as a user writes it, for the error ("mu.lock()"). */
    private readonly what: string,
  ) {}

  [Symbol.iterator](): Iterator<unknown, T, unknown> {
    return this.it
  }

  then<A = T, B = never>(
    _onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return rejectAwait<T, A, B>(this.what, onrejected)
  }
}

/** Per call name, the [Symbol.iterator] that an app-thread Future throws from. */
const hostIterators = new Map<string, { [Symbol.iterator](): never }>()

/**
 * The app thread's Future: the operation's promise (already under way),
 * whose yield* throws a TypeError (the app's thread runs no goroutine).
 */
export function hostFuture<T>(p: Promise<T>, what: string): Future<T> {
  let face = hostIterators.get(what)
  if (face === undefined) {
    face = {
      [Symbol.iterator](): never {
        throw new TypeError(`${what} was run with yield* on the app's thread, which runs no goroutine: await it there (yield* works inside goroutines)`)
      },
    }
    hostIterators.set(what, face)
  }
  return Object.assign(p, face)
}

/** Kinds of request. */
export const OpKind = {
  Gosched: 1,
  Until: 2,
  Syscall: 3,
  /** gopark: the G is already Gwaiting and queued where a waker finds it. */
  Park: 4,
  /** time.Sleep: park on a timer of the M's event loop. */
  Sleep: 5,
} as const

/** A request from a goroutine to its M. Not part of the public API. */
export class SchedOp {
  constructor(
    readonly kind: number,
    readonly arg: unknown,
  ) {}
}

const GOSCHED = new SchedOp(OpKind.Gosched, undefined)
/** Yielded by blocking operations (chan.ts) after they queued the G. */
export const PARK = new SchedOp(OpKind.Park, undefined)

/**
 * Go's runtime.Gosched: yields the processor, letting other goroutines run.
 * The goroutine goes behind the runnable work of its M and resumes later.
 *
 * @example
 * for (let i = 0; i < n; i++) { work(i); yield* gosched() }
 */
export function gosched(): Operation<void> {
  return goschedOp
}

/**
 * What the M sends back into a goroutine it resumes after a Gosched. It lets
 * gosched() return one shared, stateless iterator instead of a new
 * generator per call (a busy loop of gosched() calls allocated one each):
 * its first next() yields the request, and the M's resumption value ends it.
 */
export const RESUMED: unique symbol = Symbol('gort.resumed')
const yieldGosched: IteratorResult<unknown, void> = { value: GOSCHED, done: false }
const doneGosched: IteratorResult<unknown, void> = { value: undefined, done: true }
const goschedOp: Operation<void> & Iterator<unknown, void, unknown> = {
  next(v?: unknown): IteratorResult<unknown, void> {
    return v === RESUMED ? doneGosched : yieldGosched
  },
  return(v?: unknown): IteratorResult<unknown, void> {
    return { value: v as void, done: true }
  },
  throw(e?: unknown): IteratorResult<unknown, void> {
    throw e
  },
  [Symbol.iterator]() {
    return this
  },
}

/**
 * Parks the goroutine until the promise settles and returns its value (or
 * throws its error). The M runs other goroutines meanwhile and lets its own
 * event loop run so that the I/O can complete: gort's netpoller. Wait
 * reason "IO wait".
 *
 * @example
 * const text = yield* until(fs.promises.readFile(path, 'utf8'))
 */
export function* until<T>(promise: PromiseLike<T> | T): Operation<Awaited<T>> {
  return (yield new SchedOp(OpKind.Until, promise)) as Awaited<T>
}

/**
 * Runs a synchronous blocking call (a sync fs call, a child process, a wait
 * on another system) bracketed by entersyscall/exitsyscall: while it runs,
 * the goroutine's P is lent, as Go's entersyscall leaves it; sysmon hands it
 * to another M if the call lasts and work waits (Go's retake), so other
 * goroutines keep running, and exitsyscall takes it back if nobody did.
 * Returns what fn returns; throws what it throws.
 *
 * @example
 * const out = yield* syscall(() => execFileSync('git', ['rev-parse', 'HEAD']))
 */
export function* syscall<T>(fn: () => T): Operation<T> {
  if (typeof fn !== 'function') throw new TypeError('syscall: expected a function to call')
  return (yield new SchedOp(OpKind.Syscall, fn)) as T
}
