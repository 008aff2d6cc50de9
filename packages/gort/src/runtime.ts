// Runtime: the app's handle on a gort runtime, a facade over the host
// (internal/host.ts), which holds the runtime's part on the app's thread:
// the Ms' threads, spawning, the completion loop, the deadlock watch. This
// file checks what the app passes in and names what was wrong.

import { EventEmitter } from 'node:events'
import os from 'node:os'
import type { Worker } from 'node:worker_threads'
import { Host, type HostConfig, type HostGoroutine } from './internal/host.js'
import { currentRuntime, hostOf, liveRuntimes as live, setRuntimeHost } from './internal/hostref.js'
import type { CancelOptions } from './internal/cancel.js'
import type { ResourceLimits, ThreadExit } from './internal/newm.js'
import type { RuntimeStats } from './internal/stats.js'
import type { SysmonView } from './internal/sysmon.js'
import { waitReasonStrings } from './internal/runtime2.js'

export type { RuntimeStats } from './internal/stats.js'
import { RuntimeTrace } from './internal/trace/tracer.js'
export { RuntimeTrace } from './internal/trace/tracer.js'
export type { TraceStopOptions } from './internal/trace/tracer.js'
export type { ChromeTrace, TraceEvent, GoroutineTime } from './internal/trace/chrome.js'
export type { SysmonView } from './internal/sysmon.js'
export type { CancelOptions } from './internal/cancel.js'
export type { ThreadExit } from './internal/newm.js'

export interface RuntimeOptions {
  /** GOMAXPROCS: Ps, and so goroutines running at once. Default: env GOMAXPROCS, else os.availableParallelism(). */
  procs?: number
  /** Goroutines that can be alive at once (G records). Default 1,048,576. */
  maxGoroutines?: number
  /** Bytes of the shared heap's arena for arguments, results and channel buffers. Default 64 MiB. */
  heapSize?: number
  /**
   * Bytes of the execution tracer's buffer (rt.trace, docs/trace.md): every
   * thread's events of one recording, in 64 KiB chunks; events beyond it are
   * dropped and counted. Pages are committed only when a trace touches them.
   * Default 32 MiB (2 to 4 million events).
   */
  traceBufferSize?: number
  /** Goroutine modules every M imports at start (URLs). Others load on first use. */
  modules?: Array<string | URL>
  /** The most Ms (worker threads) the runtime may start (Go's SetMaxThreads). Default procs + 16. */
  maxThreads?: number
  /**
   * Ms (worker threads) started at once, and the fewest the idle timeout
   * leaves (piscina's minThreads). 0 starts none: the first goroutine
   * starts the first M. More Ms start on demand (Go's startm: work that
   * finds no idle M starts one), up to maxThreads, and a spare when a
   * goroutine enters a blocking call (syscall()) or every M is busy, so
   * that a P can be handed off without waiting for a new thread. Default:
   * procs, and idle ones beyond a spare may retire.
   */
  minThreads?: number
  /** A goroutine step (the code between two yields) that runs longer than this loses its P to another M (sysmon's retake). Default 20 ms. */
  runawayMs?: number
  /**
   * Go's GODEBUG settings: `schedtrace=1000` prints a SCHED line every
   * second, `scheddetail=1` adds P, M and G lines. Default: env GODEBUG.
   */
  godebug?: string
  /**
   * Run as a program's main (Go's semantics; `gort run` sets it): when
   * every goroutine is asleep and nothing can wake them, print Go's
   * "fatal error: all goroutines are asleep - deadlock!" with the dump and
   * exit with status 2; a goroutine that fails with nobody awaiting it is
   * Go's panic ("panic: ...", its trace, status 2, 'error' listeners or
   * not); SIGQUIT prints every goroutine and exits with status 2.
   * Embedded (the default), emit 'deadlock' and 'error' instead.
   */
  main?: boolean
  /**
   * An M idle this long ends its thread, if nothing lives on it and another
   * idle M stays as the spare (sysmon starts a new one ahead of need).
   * Default 60,000 ms; 0 keeps every M.
   */
  mIdleTimeoutMs?: number
  /**
   * Passed to every M's Worker. `maxYoungGenerationSizeMb` defaults to 6
   * (V8's start size: the young generation never grows, so collection
   * pauses stay short for goroutines that make much short-lived garbage);
   * raise it for goroutines that keep many objects alive for a while.
   */
  resourceLimits?: ResourceLimits
}

/** What `rt.go` returns: the goroutine's id, a promise of its result, and a way to stop it. */
export interface Goroutine<R> {
  readonly id: number
  readonly result: Promise<R>
  /**
   * Asks the goroutine to stop: `reason` (default a GoroutineCanceled
   * error) is thrown into it at its next safe point (a `yield`, gosched,
   * sleep or until; a goroutine that has not started never runs), so its
   * finally blocks run; its result rejects with whatever it ends with. A
   * goroutine parked on a channel or lock takes it at the safe point after
   * its operation completes. With `graceMs`, a goroutine still running
   * without a safe point after that long (a plain loop) has its M
   * terminated: the goroutines that lived on that M fail too, and a new M
   * takes its place. Returns false if it had finished or was already asked.
   *
   * @example
   * const g = rt.go(tasks.crunch, input)
   * setTimeout(() => g.cancel(new Error('too slow'), { graceMs: 100 }), 1000)
   * await g.result // rejects with 'too slow' if it was cancelled
   */
  cancel(reason?: unknown, options?: CancelOptions): boolean
}

export interface CloseResult {
  /** Goroutines still alive that can never run again (all parked with nothing to wake them). */
  left: number
}

/**
 * A Runtime's events:
 * - `'error'`: a failure nobody asked for: a goroutine nobody awaits that
 *   threw (the error carries `goid`; a thrown non-Error is wrapped, with
 *   the value as `cause`), an `rt.go()` goroutine that failed before its
 *   `result` was asked for, an M that died, the thread cap reached. With
 *   no listener, a goroutine's failure is printed as Go prints a panic
 *   (an `rt.go()` one is an unhandled rejection, as an unread `rt.run()`
 *   is) and a runtime problem is printed; neither is thrown at the app.
 * - `'deadlock'`: every goroutine is asleep and nothing inside the runtime
 *   can wake them; the goroutine dump. Once per episode.
 * - `'close'`: the runtime has shut down (close() or destroy(), or a
 *   start that failed).
 * - `'threadCreate'`: an M's worker thread was created (it is in
 *   `threads` from then on; it may still be booting). The Ms created by
 *   Runtime.create are announced a microtask later, so a listener added
 *   right after it hears of them.
 * - `'threadExit'`: an M's thread ended: retired after its idle timeout,
 *   died (an uncaught exception, process.exit() in a goroutine, out of
 *   memory; the runtime starts another), or stopped by close() or
 *   destroy().
 * - `'message'`: a goroutine called `parentPort.postMessage(value)` on its
 *   M (gort's own messages on that port are not passed on).
 */
export interface RuntimeEvents {
  error: [err: Error & { goid?: number }]
  deadlock: [dump: string]
  close: []
  threadCreate: [worker: Worker, mid: number]
  threadExit: [worker: Worker, why: ThreadExit]
  message: [value: unknown, worker: Worker]
}

type Fn<A extends unknown[], R> = (...args: A) => Generator<unknown, R, any>

// The default runtime and a runtime's host (chan(), new WaitGroup()...
// reach them through internal/hostref.ts, which does not import the host).
export { currentRuntime, hostOf }

/** A gort runtime: Ms on worker threads, Ps and goroutines in a shared heap. */
export class Runtime extends EventEmitter<RuntimeEvents> {
  readonly procs: number
  /**
   * Settles when every M started at creation (procs, or minThreads) is in
   * its scheduler loop. Rejects if the start failed (one of them died
   * before it got there, or could not import one of `modules`: a
   * ModuleLoadError), even after Runtime.start resolved with the first; then
   * nothing is left running, every goroutine the app awaits rejects with
   * the same error, and rt.go() throws. A rejection nobody awaits is not an
   * unhandled rejection. Once asked for, it holds the app's event loop
   * until it settles (the threads do not). sysmon and a spare M are not
   * part of it: they start when there is work for them.
   */
  get ready(): Promise<void> {
    return this.#host.askReady()
  }

  readonly #host: Host

  /**
   * The execution tracer (docs/trace.md): `rt.trace.start()`, then
   * `await rt.trace.stop({ file: 'out.json' })` for Chrome trace-event JSON
   * that Perfetto's UI and chrome://tracing open.
   */
  readonly trace: RuntimeTrace

  private constructor(host: Host) {
    super()
    this.#host = host
    this.procs = host.procs
    this.trace = new RuntimeTrace(host)
  }

  /**
   * Creates a runtime and returns it at once: the shared heap and the Ms'
   * worker threads (procs, or minThreads), which boot in parallel.
   * rt.go() and rt.run() work immediately: a goroutine waits in shared
   * memory and runs as soon as the first M is in its loop, without the
   * app's event loop turning (an app may block its thread on a word the
   * goroutine will notify). `rt.ready` says when every M is up, or why the
   * start failed. sysmon's thread starts with the first goroutine. Every
   * option is checked first, and a bad one throws before any thread
   * starts.
   *
   * @example
   * const rt = Runtime.create({ procs: 2 })
   * const r = rt.run(tasks.fib, 30) // runs once an M is up
   * await rt.ready
   */
  static create(opts: RuntimeOptions = {}): Runtime {
    return Runtime.#make(checkOptions(opts, 'Runtime.create'))
  }

  /**
   * Starts a runtime: Runtime.create, then waits for the first M to be in
   * its scheduler loop, with `modules` imported (the others go on booting
   * in parallel: `rt.ready` says when all are up). Every option is checked
   * before any thread starts; a start that fails before the first M is up
   * (it died, or could not import one of `modules`: a ModuleLoadError)
   * rejects and leaves nothing running. A later M that fails while it
   * starts fails the runtime the same way, through `rt.ready`, the
   * goroutines the app awaits and rt.go().
   *
   * @example
   * const rt = await Runtime.start({ procs: 2 })
   */
  static async start(opts: RuntimeOptions = {}): Promise<Runtime> {
    const rt = Runtime.#make(checkOptions(opts, 'Runtime.start'))
    await rt.#host.askFirstReady()
    return rt
  }

  static #make(config: HostConfig): Runtime {
    let rt: Runtime | undefined
    const host = Host.create(config, {
      error: (err) => {
        if (rt === undefined || rt.listenerCount('error') === 0) return false
        rt.emit('error', err)
        return true
      },
      deadlock: (dump) => rt?.emit('deadlock', dump),
      close: () => {
        const i = rt === undefined ? -1 : live.indexOf(rt)
        if (i >= 0) live.splice(i, 1)
        rt?.emit('close')
      },
      threadCreate: (w, mid) => rt?.emit('threadCreate', w, mid),
      threadExit: (w, why) => rt?.emit('threadExit', w, why),
      message: (v, w) => rt?.emit('message', v, w),
    })
    rt = new Runtime(host)
    setRuntimeHost(rt, host)
    live.push(rt)
    return rt
  }

  /**
   * The Ms' worker threads now alive (booting, running or idle), oldest
   * first: a new array each time. An M that retired, died or was stopped
   * is not in it.
   */
  get threads(): Worker[] {
    return [...this.#host.threads()]
  }

  /**
   * Starts fn(...args) as a goroutine and returns its id and a promise of
   * its result. fn must be registered with goroutines(). If it fails and
   * `result` was never asked for, the error goes to 'error' listeners.
   *
   * @example
   * const g = rt.go(tasks.fib, 30)
   * console.log(g.id, await g.result)
   */
  go<A extends unknown[], R>(fn: Fn<A, R>, ...args: A): Goroutine<R> {
    return this.#host.spawn(fn, args, undefined) as HostGoroutine<R>
  }

  /** rt.go(fn, ...args).result */
  run<A extends unknown[], R>(fn: Fn<A, R>, ...args: A): Promise<R> {
    let waiter!: RunWaiter
    const result = new Promise<R>((resolve) => {
      waiter = new RunWaiter(resolve as (v: unknown) => void)
    })
    this.#host.spawn(fn, args, waiter)
    return result
  }

  /** Live goroutines (Go's runtime.NumGoroutine). */
  numGoroutine(): number {
    return this.#host.numGoroutine()
  }

  /**
   * Stops new spawns from the app and resolves when every goroutine has
   * finished, or when the ones left can never run again (parked, with
   * nothing that could wake them); `left` says how many. Then the Ms exit.
   */
  close(): Promise<CloseResult> {
    return this.#host.close()
  }

  /** Ends everything now: the Ms exit and every awaited goroutine and operation rejects. */
  destroy(): Promise<void> {
    return this.#host.destroy()
  }

  /**
   * A goroutine dump in Go's shape, one paragraph per goroutine:
   *
   *     goroutine 7 [chan receive, 2 minutes]:
   *     worker(...)
   *     	file:///app/tasks.js on M1
   *
   * The wait reason is Go's; the minutes are shown after one minute of
   * waiting, as Go does. V8 keeps no stack for a suspended generator, so
   * where a goroutine is comes as its function and module (a closure
   * started with go(function* ...) shows as a local closure).
   */
  dump(opts: { print?: boolean } = {}): string {
    const out = this.#host.dump()
    if (opts.print === true) process.stderr.write(out)
    return out
  }

  /** Go's schedtrace line (GODEBUG=schedtrace), now; with detail, its P, M and G lines. */
  schedtrace(opts: { detail?: boolean } = {}): string {
    return this.#host.schedtrace(opts.detail === true)
  }

  /** A snapshot of Ps, Ms, goroutines by status and sysmon's counts. */
  stats(): RuntimeStats {
    return this.#host.stats()
  }

  /**
   * sysmon's own view, through the control plane (comlink; sysmon answers
   * between its looks): its pace, and how long each P's schedtick and
   * current step or syscall have gone unchanged as it last saw them.
   */
  sysmonView(): Promise<SysmonView> {
    return this.#host.sysmonView()
  }

  /**
   * Changes GODEBUG settings at run time (schedtrace=N, scheddetail=1), as
   * the environment variable does at start. Resolves once sysmon has them.
   */
  setGodebug(godebug: string): Promise<void> {
    if (typeof godebug !== 'string') return Promise.reject(new TypeError(`setGodebug: godebug must be a string such as 'schedtrace=1000', got ${typeof godebug}`))
    return this.#host.setGodebug(godebug)
  }

  /** Wait reason names, for dumps. */
  static readonly waitReasons = waitReasonStrings
}

/**
 * Where rt.run's result goes: the promise's resolve function alone. A
 * failure resolves it with a rejected promise, which rejects it the same
 * way, so the reject function is not kept: while thousands of rt.run calls
 * are in flight, each holds one resolving function fewer on the app's
 * thread, bytes that every scavenge would copy.
 */
class RunWaiter {
  constructor(private readonly res: (v: unknown) => void) {}

  resolve(v: unknown): void {
    this.res(v)
  }

  reject(e: unknown): void {
    this.res(Promise.reject(e))
  }
}

const optionNames = [
  'procs', 'maxGoroutines', 'heapSize', 'traceBufferSize', 'modules', 'maxThreads', 'minThreads', 'runawayMs', 'godebug', 'main', 'mIdleTimeoutMs', 'resourceLimits',
] as const satisfies ReadonlyArray<keyof RuntimeOptions>
const resourceLimitNames = ['maxYoungGenerationSizeMb', 'maxOldGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const

/** The known name closest to a misspelt one (at most two edits away), for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = 3
  for (const k of known) {
    const a = name.toLowerCase()
    const b = k.toLowerCase()
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
    for (let j = 1; j <= b.length; j++) d[0][j] = j
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
      }
    }
    if (d[a.length][b.length] < bestD) {
      bestD = d[a.length][b.length]
      best = k
    }
  }
  return best
}

function unknownOption(where: string, name: string, known: readonly string[]): TypeError {
  const guess = closest(name, known)
  return new TypeError(`${where}: unknown option "${name}"${guess !== undefined ? ` (did you mean "${guess}"?)` : ''}; the options are ${known.join(', ')}`)
}

/**
 * Checks every option of Runtime.start or Runtime.create (where), before
 * any thread starts, and fills in the defaults. Bad values are RangeErrors
 * and wrong types or unknown names TypeErrors, each naming the option.
 */
function checkOptions(opts: RuntimeOptions, where: string): HostConfig {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${where}: options must be an object, got ${opts === null ? 'null' : typeof opts}`)
  for (const k of Object.keys(opts)) {
    if (!(optionNames as readonly string[]).includes(k)) throw unknownOption(where, k, optionNames)
  }
  const envProcs = process.env.GOMAXPROCS !== undefined && process.env.GOMAXPROCS !== '' ? Number(process.env.GOMAXPROCS) : undefined
  const procs = opts.procs ?? envProcs ?? os.availableParallelism()
  if (!Number.isInteger(procs) || procs < 1 || procs > 1024) {
    const from = opts.procs === undefined && envProcs !== undefined ? ' (from the GOMAXPROCS environment variable)' : ''
    throw new RangeError(`${where}: procs must be an integer from 1 to 1024, got ${String(procs)}${from}`)
  }
  const maxGoroutines = opts.maxGoroutines ?? 1 << 20
  if (!Number.isInteger(maxGoroutines) || maxGoroutines < 1 || maxGoroutines > 2 ** 26 - 1) {
    throw new RangeError(`${where}: maxGoroutines must be an integer from 1 to ${2 ** 26 - 1}, got ${String(maxGoroutines)}`)
  }
  const heapSize = opts.heapSize ?? 64 << 20
  if (!Number.isInteger(heapSize) || heapSize < 4096) {
    throw new RangeError(`${where}: heapSize must be an integer of at least 4096 bytes, got ${String(heapSize)}`)
  }
  const traceBufferBytes = opts.traceBufferSize ?? 32 << 20
  if (!Number.isInteger(traceBufferBytes) || traceBufferBytes < 128 * 1024 || traceBufferBytes > 2 ** 31 - 1) {
    throw new RangeError(`${where}: traceBufferSize must be an integer from 131072 (two 64 KiB chunks) to 2^31 - 1 bytes, got ${String(traceBufferBytes)}`)
  }
  const minThreads = opts.minThreads
  if (minThreads !== undefined && (!Number.isInteger(minThreads) || minThreads < 0 || minThreads > 1024)) {
    throw new RangeError(`${where}: minThreads must be an integer from 0 to 1024, got ${String(minThreads)}`)
  }
  const maxThreads = opts.maxThreads ?? Math.max(procs + 16, minThreads ?? 0)
  if (minThreads === undefined) {
    // procs + 1 Ms start: the cap must let them.
    if (!Number.isInteger(maxThreads) || maxThreads < procs + 1) {
      throw new RangeError(`${where}: maxThreads must be an integer of at least procs + 1 (${procs + 1}), got ${String(maxThreads)}`)
    }
  } else if (!Number.isInteger(maxThreads) || maxThreads < Math.max(minThreads, 1)) {
    throw new RangeError(`${where}: maxThreads must be an integer of at least minThreads (${minThreads}) and 1, got ${String(maxThreads)}`)
  }
  const runawayMs = opts.runawayMs ?? 20
  if (typeof runawayMs !== 'number' || !(runawayMs >= 1) || runawayMs === Infinity) {
    throw new RangeError(`${where}: runawayMs must be a finite number of at least 1, got ${String(runawayMs)}`)
  }
  const mIdleTimeoutMs = opts.mIdleTimeoutMs ?? 60_000
  if (typeof mIdleTimeoutMs !== 'number' || !(mIdleTimeoutMs >= 0) || mIdleTimeoutMs === Infinity) {
    throw new RangeError(`${where}: mIdleTimeoutMs must be a finite number of at least 0 (0 keeps every M), got ${String(mIdleTimeoutMs)}`)
  }
  const godebug = opts.godebug ?? process.env.GODEBUG ?? ''
  if (typeof godebug !== 'string') throw new TypeError(`${where}: godebug must be a string such as 'schedtrace=1000', got ${typeof godebug}`)
  if (opts.main !== undefined && typeof opts.main !== 'boolean') throw new TypeError(`${where}: main must be a boolean, got ${typeof opts.main}`)
  if (opts.modules !== undefined && !Array.isArray(opts.modules)) throw new TypeError(`${where}: modules must be an array of module URLs`)
  const modules = (opts.modules ?? []).map((u, i) => {
    const s = u instanceof URL ? u.href : u
    if (typeof s !== 'string' || !URL.canParse(s)) {
      throw new TypeError(`${where}: modules[${i}] must be a module URL (a URL, or a string such as new URL('./tasks.js', import.meta.url).href), got ${typeof s === 'string' ? JSON.stringify(s) : typeof s}`)
    }
    return s
  })
  const limits = opts.resourceLimits
  if (limits !== undefined) {
    if (limits === null || typeof limits !== 'object') throw new TypeError(`${where}: resourceLimits must be an object (node:worker_threads' resourceLimits)`)
    for (const [k, v] of Object.entries(limits)) {
      if (!(resourceLimitNames as readonly string[]).includes(k)) throw unknownOption(`${where}: resourceLimits`, k, resourceLimitNames)
      if (v !== undefined && (typeof v !== 'number' || !(v > 0) || v === Infinity)) {
        throw new RangeError(`${where}: resourceLimits.${k} must be a positive number of megabytes, got ${String(v)}`)
      }
    }
  }
  return {
    procs, maxGoroutines, heapSize, traceBufferBytes, maxThreads, runawayMs, modules, godebug, mIdleTimeoutMs, where,
    // No spare M at the start: one starts on demand (internal/newm.ts spare).
    initialThreads: minThreads ?? procs,
    minThreads: minThreads ?? 0,
    main: opts.main === true,
    ...(limits !== undefined ? { resourceLimits: limits } : {}),
  }
}
