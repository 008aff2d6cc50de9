// The operations a goroutine performs with yield*: each is a tiny generator
// that yields a request (a SchedOp) to the M running it and returns what the
// M sends back. A plain `yield` of anything else is a safe point.

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
export function gosched(): Generator<unknown, void, unknown> {
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
const goschedOp = {
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
} as unknown as Generator<unknown, void, unknown>

/**
 * Parks the goroutine until the promise settles and returns its value (or
 * throws its error). The M runs other goroutines meanwhile and lets its own
 * event loop run so that the I/O can complete: gort's netpoller. Wait
 * reason "IO wait".
 *
 * @example
 * const text = yield* until(fs.promises.readFile(path, 'utf8'))
 */
export function* until<T>(promise: PromiseLike<T> | T): Generator<unknown, Awaited<T>, unknown> {
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
export function* syscall<T>(fn: () => T): Generator<unknown, T, unknown> {
  if (typeof fn !== 'function') throw new TypeError('syscall: expected a function to call')
  return (yield new SchedOp(OpKind.Syscall, fn)) as T
}
