// gort/pool: piscina 5.3's Piscina, whose tasks run as goroutines.
//
// A pool creates a gort runtime of its own in its constructor (maxThreads
// Ps, Runtime.create: usable at once) and runs each task as one goroutine,
// internal/pooltask.ts's runTask, spawned with rt.run from run() itself:
// the scheduler is gort's, unchanged. What piscina users rely on lives
// here, on the app's thread:
//   - its own FIFO of tasks waiting for a slot (options.taskQueue, an
//     ArrayTaskQueue by default), so that maxQueue, queueSize and aborting a
//     queued task mean what they mean in piscina;
//   - admission: which tasks are in the runtime (below);
//   - run and wait time histograms, completed, duration, utilization;
//   - close({ force }), destroy() and Symbol.asyncDispose with piscina's
//     errors, and piscina's option validation, word for word;
//   - piscina's thread model over the runtime's Ms: `threads` lists the
//     Ms' real Worker objects; the runtime starts minThreads of them, and
//     run() starts one more when a task finds no idle thread (more tasks
//     in the runtime than threads × concurrentTasksPerWorker), up to
//     maxThreads, the runtime's cap on Ms; idle ones retire after
//     idleTimeout down to minThreads. The runtime's 'threadCreate',
//     'threadExit' and 'message' events become 'workerCreate',
//     'workerDestroy' and 'message'.
//
// Admission. piscina posts a Worker a task only when one of its
// concurrentTasksPerWorker slots is free, so maxThreads × that many tasks
// (maxCapacity) run at once; the rest wait in the pool's queue, and every
// task is a round trip to a Worker. Here a task in the runtime can start on
// any M, and the slots matter only for tasks that park (an async function
// awaiting, a generator blocked on a channel, sleep or until): a
// synchronous function runs to its end once started, so no more of them
// run at once than there are Ms, whatever is in the runtime; a generator
// that only reaches safe points (plain yields, gosched) holds its M the
// same way. So:
//   - a task whose function is known to be synchronous (pooltask.ts tells
//     the pool, once per M, what each function did: returned a value, or a
//     generator that ended without parking) is handed to the
//     runtime ahead of a free slot, while fewer than AHEAD_PER_SLOT ×
//     maxCapacity slots are taken and the tasks beyond maxCapacity add up
//     to about AHEAD_WORK_MS of work per slot (by the function's mean run
//     time on its M): the Ms find the next one in their run queues instead
//     of waiting for the app's thread. A task that runs longer than a
//     round trip gains nothing there, and would not be served in order (a
//     P runs its own queue before the global one);
//   - any other task (a function not seen yet, one that parks) only when a
//     slot is free, so at most maxCapacity of them have started, and they
//     wait in the pool's FIFO meanwhile, as in piscina;
//   - an abortable task (run() with a signal) takes a whole thread's
//     slots, as piscina's "abortable tasks will not share workers" does.
// queueSize counts the queue plus the tasks in the runtime beyond
// maxCapacity (there, piscina would have them queued); needsDrain is
// every slot taken; maxQueue applies to that queueSize. The histograms
// time a task from its start on its M (the runtime's Gtimed run time), so
// time spent in the runtime's queue counts as waiting, as in piscina.
//
// The module's shape is piscina's too: the default export is the class,
// the named exports are exactly its statics, and `require('gort/pool')`
// (pool.cts) returns the class itself.

import { AsyncResource } from 'node:async_hooks'
import { EventEmitterAsyncResource } from 'node:events'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { types } from 'node:util'
import type { MessagePort, Worker } from 'node:worker_threads'
import { hostOf, Runtime, type RuntimeOptions } from './runtime.js'
import type { CallbackGoroutine } from './internal/host.js'
import { ThreadLostError } from './internal/newm.js'
import { encodeValue } from './internal/codec/encode.js'
import { Gflags } from './internal/runtime2.js'
import { pooltask, pooltaskUrl, type TaskKindNote } from './internal/pooltask.js'
import { poolconfigUrl } from './internal/poolconfig.js'
import { poolState, type PoolConfig } from './internal/poolstate.js'
import { ArrayTaskQueue as ArrayTaskQueueImpl, FixedQueue as FixedQueueImpl, isTaskQueue, kQueueOptions, type PiscinaTask, type Task, type TaskQueue } from './internal/poolqueue.js'
import { PoolHistogram, type PiscinaHistogram, type PiscinaHistogramSummary } from './internal/poolhistogram.js'
import { collectTransfers, detach, isMovable, isTransferable, kTransferable, kValue, markMovable } from './internal/pooltransfer.js'

export type { PiscinaTask, Task, TaskQueue, PiscinaHistogram, PiscinaHistogramSummary }

/** The piscina version whose API this module implements (Piscina.version). */
const PISCINA_VERSION = '5.3.2'

export interface Transferable {
  readonly [kTransferable]: object
  readonly [kValue]: object
}
type TransferListItem = ArrayBuffer | MessagePort | Transferable | ArrayBufferView
export type TransferList = readonly unknown[]

export type ResourceLimits = NonNullable<RuntimeOptions['resourceLimits']>
export type EnvSpecifier = Record<string, string | undefined> | symbol

/** A piscina load balancer: accepted for compatibility; gort's scheduler places tasks (docs/pool.md). */
export type PiscinaLoadBalancer = (task: PiscinaTask, workers: unknown[]) => unknown

interface AbortSignalEventTarget {
  addEventListener: (name: 'abort', listener: () => void, options?: { once: boolean }) => void
  removeEventListener: (name: 'abort', listener: () => void) => void
  aborted?: boolean
  reason?: unknown
}
interface AbortSignalEventEmitter {
  off: (name: 'abort', listener: () => void) => void
  once: (name: 'abort', listener: () => void) => void
}
export type AbortSignalAny = AbortSignalEventTarget | AbortSignalEventEmitter

export interface Options {
  filename?: string | null
  name?: string
  minThreads?: number
  maxThreads?: number
  idleTimeout?: number
  maxQueue?: number | 'auto'
  concurrentTasksPerWorker?: number
  atomics?: 'sync' | 'async' | 'disabled'
  resourceLimits?: ResourceLimits
  argv?: string[]
  execArgv?: string[]
  env?: EnvSpecifier
  workerData?: any
  taskQueue?: TaskQueue
  niceIncrement?: number
  trackUnmanagedFds?: boolean
  closeTimeout?: number
  recordTiming?: boolean
  stricterFIFO?: boolean
  loadBalancer?: PiscinaLoadBalancer
  workerHistogram?: boolean
  /**
   * gort: how long a running task that was aborted (or timed out) may go on
   * without reaching a safe point (a yield in a generator task, an await
   * through the runtime) before its thread is terminated, as piscina
   * terminates it at once. Default 250 ms; Infinity never terminates. The
   * period is wall-clock time: on a machine so loaded that the thread gets
   * no CPU for that long, a task that does yield may be ended this way too.
   */
  abortGraceMs?: number
}

export interface FilledOptions extends Options {
  filename: string | null
  name: string
  minThreads: number
  maxThreads: number
  idleTimeout: number
  maxQueue: number
  concurrentTasksPerWorker: number
  atomics: Options['atomics']
  taskQueue: TaskQueue
  niceIncrement: number
  closeTimeout: number
  recordTiming: boolean
  stricterFIFO: boolean
  workerHistogram: boolean
  abortGraceMs: number
}

export interface RunOptions {
  transferList?: TransferList
  filename?: string | null
  signal?: AbortSignalAny | null
  name?: string | null
  /**
   * gort: milliseconds the task may run, counted from when it starts (not
   * from run()). When they are up the task is aborted as by its signal,
   * with a TimeoutError DOMException as the AbortError's cause.
   */
  timeout?: number
}

export interface CloseOptions {
  force?: boolean
}

/** piscina's errors, word for word (its src/errors.ts). */
const Errors = {
  ThreadTermination: () => new Error('Terminating worker thread'),
  FilenameNotProvided: () => new Error('filename must be provided to run() or in options object'),
  TaskQueueAtLimit: () => new Error('Task queue is at limit'),
  NoTaskQueueAvailable: () => new Error('No task queue available and all Workers are busy'),
  CloseTimeout: () => new Error('Close operation timed out'),
}

/** piscina's AbortError: what an aborted task rejects with; the signal's reason is its cause. */
class AbortError extends Error {
  constructor(reason?: unknown) {
    super('The task has been aborted', { cause: reason })
  }

  override get name(): string {
    return 'AbortError'
  }
}

function onabort(signal: AbortSignalAny, listener: () => void): () => void {
  if ('addEventListener' in signal) {
    signal.addEventListener('abort', listener, { once: true })
    return () => signal.removeEventListener('abort', listener)
  }
  signal.once('abort', listener)
  return () => signal.off('abort', listener)
}

function maybeFileURLToPath(filename: string): string {
  return filename.startsWith('file:') ? fileURLToPath(new URL(filename)) : filename
}

function withNullPrototype<T extends object>(source: T, overrides?: Partial<T>): T {
  return Object.assign(Object.create(null), source, overrides)
}

const cpuParallelism = availableParallelism()

const kDefaultOptions = {
  filename: null,
  name: 'default',
  minThreads: Math.max(Math.floor(cpuParallelism / 2), 1),
  maxThreads: cpuParallelism * 1.5,
  idleTimeout: 0,
  maxQueue: Infinity,
  concurrentTasksPerWorker: 1,
  atomics: 'sync',
  niceIncrement: 0,
  trackUnmanagedFds: true,
  closeTimeout: 30000,
  recordTiming: true,
  stricterFIFO: false,
  workerHistogram: false,
  abortGraceMs: 250,
} as const

let taskIdCounter = 0

/** run()'s options when none are given (no copy to make: it has no prototype to be polluted). */
const kNoOptions: RunOptions = Object.freeze(Object.create(null))

const TI_RUNNING = 1
const TI_SETTLED = 2
const TI_FLAGS = 3
/** TaskInfo's state holds its slot in the pool's running table above the flags. */
const TI_SLOT_SHIFT = 2

/**
 * A task function, (filename, name), as the pool knows it: one object per
 * pair (the pool's map, at most MAX_FNS of them; beyond, one per task).
 */
class TaskFn {
  /** What the Ms told (pooltask.ts): true, it returns without parking; false, it parks; undefined, not told yet. */
  sync: boolean | undefined = undefined
  /** Its tasks' run time on their Ms, ms, a moving average (-1: none has ended yet). */
  runMs = -1
  /** The heap block holding [filename, name] in runtime `rt` (pooltask's runRef), 0 if none yet. */
  ref = 0
  rt: Runtime | undefined = undefined
  constructor(readonly filename: string, readonly name: string, readonly kept: boolean) {}
}
const MAX_FNS = 1024

/** Admission (file comment): tasks of a synchronous function may fill this many times maxCapacity slots. */
const AHEAD_PER_SLOT = 4096
/** ...and no more than about this much work (ms, by the function's mean run time) per slot. */
const AHEAD_WORK_MS = 2
/** ...and at most this many in all (each holds a G record and its argument in the shared heap). */
const AHEAD_MAX = 8192

interface TaskExtra {
  signal: AbortSignalAny | null
  cleaner: (() => void) | null
  timeout: number
  /** The ArrayBuffers to detach once the task's argument is in the heap (pooltransfer.ts). */
  transfer: ArrayBuffer[] | null
}

/**
 * A task from run() until it settles; what the task queue holds (piscina's
 * TaskInfo). Kept small: a million queued tasks cost about 290 bytes each on
 * the app's thread, caller's promise included (measured with --expose-gc;
 * the budget is 300). Most of that is the promise and its resolving
 * function (about 160 bytes): only `resolve` is kept, and a rejection is a
 * resolve with a rejected promise (reject()), which lets V8 free the reject
 * function. The start time of a running task lives in the pool's running
 * table, not here (a double field is boxed in every instance).
 */
class TaskInfo implements Task {
  task: unknown
  /** Its function: filename, name, and what the pool knows of it. */
  readonly fn: TaskFn
  readonly taskId = taskIdCounter++
  readonly created = performance.now()
  /** TI_RUNNING | TI_SETTLED, and above them its slot in the pool's running table (a small integer: no boxed number). */
  #state = 0
  /** What only some tasks have: a signal and its listener's remover, a timeout, buffers to transfer. */
  #extra: TaskExtra | null = null
  /** Its goroutine, once dispatched: cancelled by an abort or the timeout. */
  g: CallbackGoroutine<TaskInfo> | null = null
  /**
   * piscina's async resource for the task ('Piscina.Task', triggered by the
   * pool's), made at dispatch (a queued task holds none: the budget of
   * 300 bytes a queued task): the caller's promise settles in its scope.
   */
  scope: AsyncResource | null = null

  readonly #resolve: (v: unknown) => void

  constructor(task: unknown, fn: TaskFn, resolve: (v: unknown) => void) {
    this.task = task
    this.fn = fn
    this.#resolve = resolve
  }

  /** Settles the caller's promise with v (a value, or a rejected promise: reject()), in its async scope if it has one. */
  resolve(v: unknown): void {
    const s = this.scope
    if (s === null) return this.#resolve(v)
    this.scope = null
    s.runInAsyncScope(this.#resolve, null, v)
    s.emitDestroy()
  }

  /** Its index in the pool's running table, if it is there (the pool checks that the slot holds it). */
  get slot(): number {
    return this.#state >>> TI_SLOT_SHIFT
  }

  set slot(i: number) {
    this.#state = (this.#state & TI_FLAGS) | (i << TI_SLOT_SHIFT)
  }

  /** In the runtime (dispatched), or settled: either way no longer in the queue. */
  get running(): boolean {
    return (this.#state & TI_RUNNING) !== 0
  }

  set running(v: boolean) {
    this.#state = v ? this.#state | TI_RUNNING : this.#state & ~TI_RUNNING
  }

  get settled(): boolean {
    return (this.#state & TI_SETTLED) !== 0
  }

  set settled(v: boolean) {
    this.#state = v ? this.#state | TI_SETTLED : this.#state & ~TI_SETTLED
  }

  get abortSignal(): AbortSignalAny | null {
    return this.#extra?.signal ?? null
  }

  get abortCleaner(): (() => void) | null {
    return this.#extra?.cleaner ?? null
  }

  set abortCleaner(f: (() => void) | null) {
    if (this.#extra !== null) this.#extra.cleaner = f
    else if (f !== null) this.#extra = { signal: null, cleaner: f, timeout: 0, transfer: null }
  }

  /** run()'s timeout option (ms from the start), 0 for none. */
  get timeout(): number {
    return this.#extra?.timeout ?? 0
  }

  /** The buffers run() was asked to transfer (transferList, Piscina.move()), or null. */
  get transfer(): ArrayBuffer[] | null {
    return this.#extra?.transfer ?? null
  }

  /** Sets the signal, timeout and transfers of run()'s options (none: nothing stored). */
  options(signal: AbortSignalAny | null, timeout: number, transfer: ArrayBuffer[] | null): void {
    if (signal !== null || timeout > 0 || transfer !== null) this.#extra = { signal, cleaner: null, timeout, transfer }
  }

  reject(e: unknown): void {
    const p = Promise.reject(e)
    this.resolve(p)
  }

  get [kQueueOptions](): object | null {
    return (this.task as Record<symbol, object | undefined> | null | undefined)?.[kQueueOptions] ?? null
  }

  get interface(): PiscinaTask {
    return {
      taskId: this.taskId, filename: this.fn.filename, name: this.fn.name, created: this.created,
      isAbortable: this.abortSignal !== null, [kQueueOptions]: this[kQueueOptions],
    }
  }
}

/**
 * piscina 5.3's Piscina: a pool of threads running the functions of task
 * files, here as goroutines on a gort runtime of its own.
 *
 * @example
 * import Piscina from 'gort/pool'
 * const pool = new Piscina({ filename: new URL('./worker.mjs', import.meta.url).href })
 * console.log(await pool.run({ a: 4, b: 6 }))
 */
class PiscinaImpl<T = any, R = any> extends EventEmitterAsyncResource {
  readonly #options: FilledOptions
  readonly #queue: TaskQueue
  readonly #histogram: PoolHistogram | null
  #histogramView: PiscinaHistogram | null = null
  /** maxThreads × concurrentTasksPerWorker: tasks that run at once (piscina's maxCapacity). */
  readonly #capacity: number
  /** AHEAD_PER_SLOT × #capacity: slots the tasks of synchronous functions may take (Admission). */
  readonly #ahead: number
  /** Slots the tasks in the runtime take (running or zombies): one each, an abortable one concurrentTasksPerWorker. */
  #used = 0
  /** The queue's first task, taken off it because it does not fit yet (a task queue has no peek). */
  #head: TaskInfo | null = null
  /** The task functions, by filename NUL name (at most MAX_FNS). */
  readonly #fns = new Map<string, TaskFn>()
  /** The last one asked for: most pools run one function. */
  #lastFn: TaskFn | null = null
  /** One microtask checks needsDrain for everything that happened before it. */
  #drainQueued = false
  #pumpQueued = false
  /** Where a task goroutine's end goes (the host's completion loop calls it). */
  readonly #onEnd = (ti: TaskInfo, _g: unknown, failed: boolean, v: unknown): void => this.#done(ti, failed, v)
  readonly #procs: number
  /** The pool's runtime (none after destroy() until the next run()). */
  #rt: Runtime | undefined
  /**
   * Tasks whose goroutine runs, each at its slot (TaskInfo.slot; removal
   * moves the last one into the gap), and when each went into the runtime
   * (performance.now()) at the same index of #runningAt. Not a Map: no
   * hashing, and no entry or boxed number per task for the app's scavenges
   * to copy (a task in the runtime lives through one or two of them when
   * thousands are dispatched at once).
   */
  #running: TaskInfo[] = []
  #runningAt = new Float64Array(64)
  /** Tasks that are settled (aborted while running) but whose goroutine still runs: they hold their slot. */
  readonly #zombies = new Set<TaskInfo>()
  /** The pool's async id: its tasks' resources are triggered by it, as in piscina. */
  readonly #asyncId = this.asyncId
  /** What ended each thread that died, and whether a task failed with it (the 'error' event, rt.on('error')). */
  readonly #deaths = new WeakMap<object, boolean>()
  #completed = 0
  readonly #start = performance.now()
  #needsDrain = false
  #closing = false
  #destroying = false
  /** A ref'd handle while tasks are pending, so the process waits for them (the runtime's Ms do not keep it alive). */
  #keepAlive: ReturnType<typeof setInterval> | undefined
  /** close() waiting for the queue and the running tasks to empty. */
  #onIdle: Array<() => void> = []

  constructor(options: Options = {}) {
    const opts = withNullPrototype(options)
    super(withNullPrototype(opts as object, { name: 'Piscina' }) as never)
    if (typeof opts.filename !== 'string' && opts.filename != null) throw new TypeError('options.filename must be a string or null')
    if (typeof opts.name !== 'string' && opts.name != null) throw new TypeError('options.name must be a string or null')
    if (opts.minThreads !== undefined && (typeof opts.minThreads !== 'number' || opts.minThreads < 0)) {
      throw new TypeError('options.minThreads must be a non-negative integer')
    }
    if (opts.maxThreads !== undefined && (typeof opts.maxThreads !== 'number' || opts.maxThreads < 1)) {
      throw new TypeError('options.maxThreads must be a positive integer')
    }
    if (opts.minThreads !== undefined && opts.maxThreads !== undefined && opts.minThreads > opts.maxThreads) {
      throw new RangeError('options.minThreads and options.maxThreads must not conflict')
    }
    if (opts.idleTimeout !== undefined && (typeof opts.idleTimeout !== 'number' || opts.idleTimeout < 0)) {
      throw new TypeError('options.idleTimeout must be a non-negative integer')
    }
    if (opts.maxQueue !== undefined && opts.maxQueue !== 'auto' && (typeof opts.maxQueue !== 'number' || opts.maxQueue < 0)) {
      throw new TypeError('options.maxQueue must be a non-negative integer')
    }
    if (opts.concurrentTasksPerWorker !== undefined && (typeof opts.concurrentTasksPerWorker !== 'number' || opts.concurrentTasksPerWorker < 1)) {
      throw new TypeError('options.concurrentTasksPerWorker must be a positive integer')
    }
    if (opts.atomics != null && (typeof opts.atomics !== 'string' || !['sync', 'async', 'disabled'].includes(opts.atomics))) {
      throw new TypeError('options.atomics should be a value of sync, sync or disabled.')
    }
    if (opts.resourceLimits !== undefined && (typeof opts.resourceLimits !== 'object' || opts.resourceLimits === null)) {
      throw new TypeError('options.resourceLimits must be an object')
    }
    if (opts.taskQueue !== undefined && !isTaskQueue(opts.taskQueue)) throw new TypeError('options.taskQueue must be a TaskQueue object')
    if (opts.niceIncrement !== undefined && (typeof opts.niceIncrement !== 'number' || (opts.niceIncrement < 0 && process.platform !== 'win32'))) {
      throw new TypeError('options.niceIncrement must be a non-negative integer on Unix systems')
    }
    if (opts.trackUnmanagedFds !== undefined && typeof opts.trackUnmanagedFds !== 'boolean') {
      throw new TypeError('options.trackUnmanagedFds must be a boolean value')
    }
    if (opts.closeTimeout !== undefined && (typeof opts.closeTimeout !== 'number' || opts.closeTimeout < 0)) {
      throw new TypeError('options.closeTimeout must be a non-negative integer')
    }
    if (opts.loadBalancer !== undefined && (typeof opts.loadBalancer !== 'function' || opts.loadBalancer.length < 1)) {
      throw new TypeError('options.loadBalancer must be a function with at least two args')
    }
    if (opts.workerHistogram !== undefined && typeof opts.workerHistogram !== 'boolean') throw new TypeError('options.workerHistogram must be a boolean')
    if (opts.stricterFIFO !== undefined && typeof opts.stricterFIFO !== 'boolean') throw new TypeError('options.stricterFIFO must be a boolean')
    if (opts.abortGraceMs !== undefined && (typeof opts.abortGraceMs !== 'number' || Number.isNaN(opts.abortGraceMs) || opts.abortGraceMs < 0)) {
      throw new TypeError('options.abortGraceMs must be a non-negative number of milliseconds (Infinity: never terminate a thread)')
    }

    // piscina's ThreadPool constructor: fill in defaults, reconcile min and max.
    // piscina 5.3's ThreadPool queues in a FixedQueue unless given one (its
    // ArrayTaskQueue default option is never used): shift() is O(1).
    this.#queue = opts.taskQueue ?? new FixedQueueImpl()
    const filled = withNullPrototype({
      ...kDefaultOptions,
      ...opts,
      filename: opts.filename ? maybeFileURLToPath(opts.filename) : null,
      maxQueue: 0,
      taskQueue: this.#queue,
    }) as FilledOptions
    if (opts.maxThreads !== undefined && filled.minThreads >= opts.maxThreads) filled.minThreads = opts.maxThreads
    if (opts.minThreads !== undefined && filled.maxThreads <= opts.minThreads) filled.maxThreads = opts.minThreads
    filled.maxQueue = opts.maxQueue === 'auto' ? filled.maxThreads ** 2 : (opts.maxQueue ?? kDefaultOptions.maxQueue)
    this.#options = filled
    this.#histogram = filled.recordTiming ? new PoolHistogram() : null
    this.#procs = Math.min(1024, Math.max(1, Math.ceil(filled.maxThreads)))
    this.#capacity = filled.maxThreads * filled.concurrentTasksPerWorker
    this.#ahead = Math.max(this.#capacity, Math.min(AHEAD_MAX, this.#capacity * AHEAD_PER_SLOT))
    // Validate the values the Ms get now: piscina's Workers clone them at construction.
    this.#config()
    this.#rt = this.#newRuntime()
  }

  /** What every M applies before it runs a task (internal/poolconfig.ts). */
  #config(): PoolConfig {
    const o = this.#options
    const cfg: PoolConfig = {}
    if (o.workerData !== undefined) cfg.workerData = o.workerData
    if (o.env !== undefined && typeof o.env === 'object') cfg.env = { ...o.env }
    if (o.argv !== undefined) cfg.argv = [...o.argv]
    if (o.execArgv !== undefined) cfg.execArgv = [...o.execArgv]
    if (o.niceIncrement !== 0) cfg.niceIncrement = o.niceIncrement
    return cfg
  }

  /**
   * Creates the pool's runtime (at construction, and on the first run()
   * after destroy()): maxThreads Ps and at most maxThreads Ms, minThreads
   * of them started now (their threads boot in parallel; tasks can be
   * spawned at once). Its events become the pool's.
   */
  #newRuntime(): Runtime {
    const o = this.#options
    const rt = Runtime.create({
      procs: this.#procs,
      minThreads: Math.min(this.#procs, Math.ceil(o.minThreads)),
      maxThreads: this.#procs,
      // runTask's module too: an M that imported it lazily would put the
      // first tasks back on the queue while it loads and start them out of
      // order (a task that then blocks its M strands those started before it).
      modules: [poolconfigUrl(this.#config()), pooltaskUrl],
      ...(o.resourceLimits !== undefined ? { resourceLimits: o.resourceLimits } : {}),
      ...(o.idleTimeout > 0 && Number.isFinite(o.idleTimeout) ? { mIdleTimeoutMs: o.idleTimeout } : {}),
      ...(o.idleTimeout === Infinity ? { mIdleTimeoutMs: 0 } : {}),
    })
    rt.on('error', (e: unknown) => {
      const c = (e as Error | null)?.cause
      if (typeof c === 'object' && c !== null && this.#deaths.has(c)) {
        // piscina: a Worker's uncaught exception fails the tasks it ran;
        // with none, it is the pool's 'error' (the exception itself). An
        // exit (process.exit()) only fails its tasks. Its tasks settle as
        // the runtime reports the death (#settle), just after this.
        queueMicrotask(() => {
          if (this.#deaths.get(c) === false && !('exitCode' in c)) this.emit('error', c)
        })
      } else this.emit('error', e)
    })
    rt.on('threadCreate', (w) => this.emit('workerCreate', w))
    rt.on('threadExit', (w, why) => {
      if (why.reason === 'died' && why.error !== undefined) this.#deaths.set(why.error, false)
      this.emit('workerDestroy', w)
    })
    rt.on('message', (v) => this.emit('message', v))
    hostOf(rt).noteListeners.add((note) => this.#onNote(note as TaskKindNote))
    // A start that failed (an M that died booting, a module it could not
    // import): the tasks in it have rejected with its error, and so do the
    // queued ones; the next run() tries a new runtime.
    // (The host's promise: rt.ready would hold the app's event loop while the threads boot.)
    hostOf(rt).ready.catch((e: unknown) => {
      if (this.#rt !== rt) return
      this.#rt = undefined
      this.#failQueued(e)
    })
    return rt
  }

  /** Puts ti in the running table, dispatched at time `at`. */
  #runningAdd(ti: TaskInfo, at: number): void {
    const i = this.#running.length
    if (i === this.#runningAt.length) {
      const grown = new Float64Array(i * 2)
      grown.set(this.#runningAt)
      this.#runningAt = grown
    }
    this.#running.push(ti)
    this.#runningAt[i] = at
    ti.slot = i
  }

  /** Takes ti out of the running table: when it was dispatched, or -1 if it was not there (a zombie, or settled by destroy()). */
  #runningTake(ti: TaskInfo): number {
    const r = this.#running
    const i = ti.slot
    if (r[i] !== ti) return -1
    const at = this.#runningAt[i]!
    const last = r.pop()!
    if (last !== ti) {
      r[i] = last
      last.slot = i
      this.#runningAt[i] = this.#runningAt[r.length]!
    }
    return at
  }

  /**
   * piscina's growth: a task that finds no idle thread starts one more, up
   * to maxThreads (the runtime's cap). Here a thread is idle while the
   * tasks in the runtime fill fewer than threads × concurrentTasksPerWorker
   * slots; the new M is a real one, and gort's scheduler gives it work as
   * it gives any M.
   */
  #grow(rt: Runtime): void {
    const inRuntime = this.#running.length + this.#zombies.size
    const host = hostOf(rt)
    if (inRuntime > host.threads().length * this.#options.concurrentTasksPerWorker) host.grow()
  }

  /**
   * Queues a task, or rejects with piscina's errors: a TypeError for bad
   * arguments, 'Task queue is at limit' past maxQueue, an AbortError for an
   * aborted signal or a closing pool.
   */
  run(task: T, options: RunOptions = kNoOptions): Promise<R> {
    if (options !== kNoOptions) {
      if (options === null || typeof options !== 'object') return Promise.reject(new TypeError('options must be an object'))
      options = withNullPrototype(options)
    }
    const { transferList } = options
    const signal = options.signal ?? null
    let filename = options.filename ?? null
    let name = options.name ?? null
    if (transferList !== undefined && !Array.isArray(transferList)) return Promise.reject(new TypeError('transferList argument must be an Array'))
    if (filename != null && typeof filename !== 'string') return Promise.reject(new TypeError('filename argument must be a string'))
    if (name != null && typeof name !== 'string') return Promise.reject(new TypeError('name argument must be a string'))
    if (signal != null && typeof signal !== 'object') return Promise.reject(new TypeError('signal argument must be an object'))
    const timeout = options.timeout ?? null
    if (timeout !== null && (typeof timeout !== 'number' || !(timeout > 0))) {
      return Promise.reject(new TypeError(`timeout argument must be a positive number of milliseconds, got ${String(timeout)}`))
    }

    filename ??= this.#options.filename
    name ??= this.#options.name
    if (typeof filename !== 'string') return Promise.reject(Errors.FilenameNotProvided())
    filename = maybeFileURLToPath(filename)
    if (this.#closing || this.#destroying) return Promise.reject(new AbortError('queue is being terminated'))
    if (signal !== null && (signal as AbortSignalEventTarget).aborted === true) {
      return Promise.reject(new AbortError((signal as AbortSignalEventTarget).reason))
    }
    // piscina's TaskInfo: a moved task sends its value and adds its
    // transferables to the list. Checked now, detached at dispatch
    // (internal/pooltransfer.ts); nothing to do without either.
    let transfer: ArrayBuffer[] | null = null
    const moved = isMovable(task) ? task : null
    if (moved !== null || (transferList !== undefined && transferList.length !== 0)) {
      transfer = []
      try {
        if (transferList !== undefined) collectTransfers(transferList, 'transferList', transfer)
        if (moved !== null) collectTransfers(moved[kTransferable], 'Piscina.move()\'s transferable', transfer)
      } catch (e) {
        return Promise.reject(e)
      }
      if (moved !== null) task = moved[kValue] as T
      if (transfer.length === 0) transfer = null
    }

    let resolve!: (v: unknown) => void
    const ret = new Promise<R>((res) => {
      resolve = res as (v: unknown) => void
    })
    const ti = new TaskInfo(task, this.#fn(filename, name), resolve)
    ti.options(signal, timeout ?? 0, transfer)
    // After destroy() (or a failed start), the next task creates a new runtime.
    this.#rt ??= this.#newRuntime()
    // FIFO: it goes to the runtime now only if nothing waits before it.
    const go = this.#head === null && this.#queue.size === 0 && this.#fits(ti)
    // Without a free slot it waits (in the queue, or in the runtime ahead of a slot): maxQueue applies.
    if ((!go || this.#used >= this.#capacity) && this.queueSize >= this.#options.maxQueue) {
      ti.reject(this.#options.maxQueue === 0 ? Errors.NoTaskQueueAvailable() : Errors.TaskQueueAtLimit())
      return ret
    }
    if (go) this.#dispatch(ti, ti.created)
    else this.#queue.push(ti)
    if (signal !== null) {
      ti.abortCleaner = onabort(signal, () => this.#abort(ti, (signal as AbortSignalEventTarget).reason))
    }
    this.#ref()
    this.#checkDrain()
    return ret
  }

  /** Slots task ti takes: a whole thread's for an abortable one (piscina: abortable tasks do not share a Worker). */
  #weight(ti: TaskInfo): number {
    return ti.abortSignal !== null ? this.#options.concurrentTasksPerWorker : 1
  }

  /** Whether ti may go into the runtime now (Admission, in the file comment). */
  #fits(ti: TaskInfo): boolean {
    const used = this.#used
    if (ti.abortSignal !== null) return used + this.#options.concurrentTasksPerWorker <= this.#capacity
    if (used < this.#capacity) return true
    const f = ti.fn
    if (f.sync !== true || f.runMs < 0 || used >= this.#ahead) return false
    // About AHEAD_WORK_MS of work per slot beyond them: a task that runs
    // longer than a round trip to the app gains nothing from waiting in
    // the runtime, and there it would not be served in order (a P runs its
    // own queue before the global one; piscina's FIFO tail is better).
    return used - this.#capacity < (this.#capacity * AHEAD_WORK_MS) / f.runMs
  }

  /** The TaskFn of (filename, name). */
  #fn(filename: string, name: string): TaskFn {
    const last = this.#lastFn
    if (last !== null && last.filename === filename && last.name === name) return last
    const key = `${filename}\u0000${name}`
    let f = this.#fns.get(key)
    if (f === undefined) {
      const keep = this.#fns.size < MAX_FNS
      f = new TaskFn(filename, name, keep)
      if (keep) this.#fns.set(key, f)
    }
    this.#lastFn = f
    return f
  }

  /** An M told what a task function did (pooltask.ts): a synchronous one's queued tasks may go ahead now. */
  #onNote(note: TaskKindNote): void {
    if (note === null || typeof note !== 'object' || note.pool !== 'kind') return
    const f = this.#fn(note.filename, note.name)
    const was = f.sync
    if (was === false) return // once it parked, it is treated as parking
    f.sync = note.sync
    if (note.sync && was !== true) this.#pump()
  }

  /** Hands queued tasks to the runtime, in order, while the first one fits; published together. */
  #pump(): void {
    const rt = this.#rt
    if (rt === undefined || (this.#head === null && this.#queue.size === 0)) return
    const host = hostOf(rt)
    // One clock read for the batch: a dispatch time only bounds a task's
    // start from below (#record takes its end less its run time if later).
    const at = performance.now()
    host.batchBegin()
    try {
      while (this.#rt === rt) {
        let ti = this.#head
        if (ti === null) {
          ti = this.#queue.shift() as TaskInfo | null
          if (ti === null) break
        }
        this.#head = null
        if (ti.settled) continue
        if (!this.#fits(ti)) {
          this.#head = ti
          break
        }
        this.#dispatch(ti, at)
      }
    } finally {
      host.batchEnd()
    }
  }

  /** #pump in a microtask, once for all the tasks that ended before it (one batch of the host's completion loop). */
  #pumpSoon(): void {
    if (this.#pumpQueued) return
    this.#pumpQueued = true
    queueMicrotask(() => {
      this.#pumpQueued = false
      this.#pump()
    })
  }

  /**
   * Spawns ti's goroutine now (it is in shared memory when this returns,
   * and runs as soon as an M is free, even if the app then blocks its
   * thread), starting a thread first if none is idle. A slot must be free.
   */
  #dispatch(ti: TaskInfo, at: number): void {
    const rt = this.#rt!
    ti.running = true
    this.#runningAdd(ti, at)
    this.#used += this.#weight(ti)
    this.#grow(rt)
    // About 40 ns when no async hook is on.
    ti.scope = new AsyncResource('Piscina.Task', { requireManualDestroy: true, triggerAsyncId: this.#asyncId })
    try {
      const host = hostOf(rt)
      // Gtimed: the timeout counts from the start, and the run time on its M is
      // known (the histograms, and the admission's estimate of its function).
      const f = ti.fn
      if (f.kept && f.rt !== rt) {
        // The pair goes into the heap once per runtime; its tasks carry the block's offset.
        f.ref = encodeValue(host.heap, [f.filename, f.name])
        f.rt = rt
      }
      const g = (f.kept
        ? host.spawn(pooltask.runRef, [f.ref, ti.task], undefined, Gflags.Gtimed, ti, this.#onEnd)
        : host.spawn(pooltask.runTask, [f.filename, f.name, ti.task], undefined, Gflags.Gtimed, ti, this.#onEnd)) as CallbackGoroutine<TaskInfo>
      ti.g = g
      // The argument is copied (into the heap, or staged in this thread's
      // memory): now the sender's transferred buffers go, as postMessage
      // detaches them after serializing. Cannot throw (run() checked them).
      const transfer = ti.transfer
      if (transfer !== null) detach(transfer)
      if (ti.timeout > 0) {
        host.timeout(g.gp, g, ti.timeout, () => this.#abort(ti, new DOMException('The operation was aborted due to timeout', 'TimeoutError')))
      }
    } catch (e) {
      // Settled a microtask later: a pump that dispatches many failing tasks does not recurse.
      queueMicrotask(() => this.#done(ti, true, e))
    }
    ti.task = null
  }

  /** A task's goroutine ended (or its runtime went away); failed: v is what it threw. */
  #done(ti: TaskInfo, failed: boolean, v: unknown): void {
    const started = this.#runningTake(ti)
    if (started >= 0) {
      this.#used -= this.#weight(ti)
      if (!ti.settled) this.#settle(ti, failed, v, started)
    } else if (this.#zombies.delete(ti)) {
      this.#used -= this.#weight(ti)
    }
    this.#pumpSoon()
    this.#unrefIfIdle()
    this.#checkDrain()
  }

  #settle(ti: TaskInfo, failed: boolean, err: unknown, started: number): void {
    ti.settled = true
    this.#completed++
    this.#record(ti, started)
    ti.abortCleaner?.()
    if (failed) {
      if (err instanceof ThreadLostError) err = this.#threadDeath(err.cause as Error)
      // The host tags a goroutine's failure with its goroutine id; a task's error is the task's own.
      else if (err !== null && typeof err === 'object' && 'goid' in err) delete (err as { goid?: number }).goid
      ti.reject(err)
    } else ti.resolve(err)
  }

  /**
   * Records a task's wait and run times: from run() to its start on its M,
   * and from there to its end (the runtime's run time of a Gtimed G), or,
   * if it never reported one (its M died, destroy()), from its dispatch.
   */
  #record(ti: TaskInfo, dispatched: number): void {
    const ran = ti.g?.ranMs ?? -1
    if (ran >= 0) {
      const f = ti.fn
      f.runMs = f.runMs < 0 ? ran : f.runMs + (ran - f.runMs) / 8
    }
    const h = this.#histogram
    if (h === null) return
    const now = performance.now()
    const start = ran >= 0 ? Math.max(dispatched, now - ran) : dispatched
    h.recordWaitTime(start - ti.created)
    h.recordRunTime(now - start)
  }

  /**
   * What a task whose thread died rejects with, as in piscina: the
   * thread's uncaught exception itself, or `worker exited with code: N`.
   */
  #threadDeath(cause: Error): Error {
    if (this.#deaths.has(cause)) this.#deaths.set(cause, true)
    const code = (cause as { exitCode?: number }).exitCode
    return code !== undefined ? new Error(`worker exited with code: ${code}`) : cause
  }

  /** The task's signal fired: a queued task leaves the queue; a running one's caller is told at once. */
  #abort(ti: TaskInfo, reason: unknown): void {
    if (ti.settled) return
    ti.settled = true
    ti.abortCleaner = null
    if (ti.running) {
      // Its goroutine gets the reason thrown in at its next safe point
      // (cancel.ts); one that never reaches one loses its M after the grace
      // period. It holds its slot until it has ended. Asked first: its M
      // unwinds while this thread makes the AbortError and rejects.
      this.#runningTake(ti)
      this.#zombies.add(ti)
      ti.g?.cancel(reason, { graceMs: this.#options.abortGraceMs })
      ti.reject(new AbortError(reason))
    } else {
      ti.reject(new AbortError(reason))
      if (ti === this.#head) {
        this.#head = null
        this.#pump()
      } else {
        this.#queue.remove(ti)
      }
    }
    this.#unrefIfIdle()
    this.#checkDrain()
  }

  /** Rejects every queued task with err (the runtime could not start, destroy, close({ force })). */
  #failQueued(err: unknown, abort = false): void {
    const head = this.#head
    this.#head = null
    if (head !== null && !head.settled) {
      head.settled = true
      head.abortCleaner?.()
      head.reject(abort ? new AbortError(err) : err)
    }
    for (let ti = this.#queue.shift() as TaskInfo | null; ti !== null; ti = this.#queue.shift() as TaskInfo | null) {
      if (ti.settled) continue
      ti.settled = true
      ti.abortCleaner?.()
      ti.reject(abort ? new AbortError(err) : err)
    }
    this.#unrefIfIdle()
  }

  /** #maybeDrain in a microtask, once for whatever happens before it. */
  #checkDrain(): void {
    if (this.#drainQueued) return
    this.#drainQueued = true
    queueMicrotask(() => {
      this.#drainQueued = false
      this.#maybeDrain()
    })
  }

  /** piscina's _maybeDrain: needsDrain while every slot is taken, 'drain' when one frees. */
  #maybeDrain(): void {
    if (this.#used >= this.#capacity) {
      // Once per time the slots fill (piscina emits it on every check while they are full).
      if (this.#needsDrain) return
      this.#needsDrain = true
      queueMicrotask(() => this.emit('needsDrain'))
    } else if (this.#needsDrain) {
      this.#needsDrain = false
      queueMicrotask(() => this.emit('drain'))
    }
  }

  #ref(): void {
    this.#keepAlive ??= setInterval(() => {}, 1 << 30)
  }

  #unrefIfIdle(): void {
    if (this.#queue.size !== 0 || this.#head !== null || this.#running.length !== 0) return
    if (this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = undefined
    }
    const idle = this.#onIdle
    this.#onIdle = []
    for (const f of idle) f()
  }

  /**
   * Waits for queued and running tasks (with force: rejects the queued ones
   * with an AbortError first), at most closeTimeout ms (then 'error' gets
   * 'Close operation timed out'), then destroys the pool and emits 'close'.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (options === null || typeof options !== 'object') throw TypeError('options must be an object')
    options = withNullPrototype(options)
    const { force } = options
    if (force !== undefined && typeof force !== 'boolean') return Promise.reject(new TypeError('force argument must be a boolean'))
    this.#closing = true
    if (force === true) this.#failQueued('pool is closed', true)
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await Promise.race([
        this.#flushed(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Errors.CloseTimeout()), this.#options.closeTimeout)
          timer.unref()
        }),
      ])
    } catch (e) {
      this.emit('error', e)
    } finally {
      clearTimeout(timer)
      await this.destroy()
      this.emit('close')
      this.#closing = false
    }
  }

  /** Resolves when nothing is queued or running. */
  #flushed(): Promise<void> {
    if (this.#queue.size === 0 && this.#head === null && this.#running.length === 0) return Promise.resolve()
    return new Promise<void>((resolve) => this.#onIdle.push(resolve))
  }

  /** Rejects queued and running tasks with 'Terminating worker thread' and ends the runtime (its threads exit). */
  async destroy(): Promise<void> {
    this.#destroying = true
    try {
      this.#failQueued(Errors.ThreadTermination())
      // Cleared first: the runtime's end (rt.destroy below) reports each of these goroutines to #done too.
      const running = this.#running
      const at = this.#runningAt
      this.#running = []
      this.#runningAt = new Float64Array(64)
      this.#zombies.clear()
      this.#used = 0
      for (let i = 0; i < running.length; i++) this.#settle(running[i]!, true, Errors.ThreadTermination(), at[i]!)
      this.#unrefIfIdle()
      const rt = this.#rt
      this.#rt = undefined
      if (rt !== undefined) await rt.destroy()
    } finally {
      this.#destroying = false
    }
  }

  [Symbol.dispose](): void {
    void this.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  get maxThreads(): number {
    return this.#options.maxThreads
  }

  get minThreads(): number {
    return this.#options.minThreads
  }

  get options(): FilledOptions {
    return this.#options
  }

  /**
   * The pool's threads: the runtime's Ms' Worker objects now alive
   * (booting, running or idle), oldest first; none after destroy().
   */
  get threads(): Worker[] {
    return this.#rt?.threads ?? []
  }

  /**
   * The pool's gort runtime (not piscina's API), to share with other users
   * of the same threads: a gort/bullmq Worker (`runtime: pool.runtime`),
   * or goroutines of the app's own (`pool.runtime.go(...)`). The pool
   * still owns it: close() and destroy() end it, so close what shares it
   * first. Undefined after destroy() until the next run() makes a new one.
   */
  get runtime(): Runtime | undefined {
    return this.#rt
  }

  /**
   * Threads with no task on them: Ms on which no goroutine lives, less the
   * tasks that no M has started yet (each will take one). piscina counts
   * its ready Workers with no task; its first minThreads count as ready
   * from the start, and so do the Ms booting here.
   */
  get idleThreads(): number {
    const rt = this.#rt
    if (rt === undefined) return 0
    const { idle, living } = hostOf(rt).mload()
    const unstarted = Math.max(0, this.#running.length + this.#zombies.size - living)
    return Math.max(0, idle - unstarted)
  }

  /**
   * Tasks waiting for a slot: those in the pool's queue, and those in the
   * runtime beyond maxThreads × concurrentTasksPerWorker (Admission).
   */
  get queueSize(): number {
    const ahead = this.#running.length + this.#zombies.size - this.#capacity
    return this.#queue.size + (this.#head !== null ? 1 : 0) + (ahead > 0 ? ahead : 0)
  }

  get completed(): number {
    return this.#completed
  }

  get histogram(): PiscinaHistogram {
    if (this.#histogramView === null) {
      const h = this.#histogram
      this.#histogramView = {
        get runTime() { return h?.runTimeSummary! },
        get waitTime() { return h?.waitTimeSummary! },
        resetRunTime() { h?.resetRunTime() },
        resetWaitTime() { h?.resetWaitTime() },
      }
      Object.defineProperty(this.#histogramView, 'histogram', { value: h, writable: false, enumerable: false, configurable: false })
    }
    return this.#histogramView
  }

  /** piscina's approximation: mean run time × tasks run, over duration × maxThreads. */
  get utilization(): number {
    const h = this.#histogram
    if (h === null) return 0
    const count = h.runTimeCount
    if (count === 0) return 0
    const capacity = this.duration * this.#options.maxThreads
    return ((h.runTimeSummary.mean / 1000) * count) / capacity
  }

  /** Milliseconds since the pool was made. */
  get duration(): number {
    return performance.now() - this.#start
  }

  get needsDrain(): boolean {
    return this.#needsDrain
  }

  /** true inside a task (on an M of a pool's runtime). */
  static get isWorkerThread(): boolean {
    return poolState().isWorkerThread
  }

  /** Inside a task: the pool's workerData option (a copy). */
  static get workerData(): any {
    return poolState().workerData
  }

  /** The current thread's id: inside a task, its M's worker_threads.threadId; 0 on the main thread. */
  static get threadId(): number {
    return poolState().threadId
  }

  /** The piscina release whose API this implements. */
  static get version(): string {
    return PISCINA_VERSION
  }

  static get Piscina(): typeof PiscinaImpl {
    return Piscina
  }

  static get FixedQueue(): typeof FixedQueueImpl {
    return FixedQueueImpl
  }

  static get ArrayTaskQueue(): typeof ArrayTaskQueueImpl {
    return ArrayTaskQueueImpl
  }

  /**
   * piscina's move(): marks a value to be transferred rather than copied,
   * as a task (run()'s argument) or a task's result. The value arrives as a
   * copy through gort's heap; the sender's ArrayBuffers are detached once
   * it is copied, as piscina's are (internal/pooltransfer.ts). A typed
   * array's buffer is transferred and the array sent; an object with
   * transferableSymbol and valueSymbol transfers the first and sends the
   * second. Primitives and null come back unchanged.
   */
  static move(val: Transferable | TransferListItem | ArrayBufferView | ArrayBuffer | MessagePort): any {
    if (val != null && typeof val === 'object' && typeof val !== 'function') {
      if (!isTransferable(val)) {
        const v = val as object
        val = types.isArrayBufferView(v)
          ? { get [kTransferable]() { return (v as ArrayBufferView).buffer }, get [kValue]() { return v } }
          : { get [kTransferable]() { return v }, get [kValue]() { return v } }
      }
      markMovable(val)
    }
    return val
  }

  static get transferableSymbol(): symbol {
    return kTransferable
  }

  static get valueSymbol(): symbol {
    return kValue
  }

  static get queueOptionsSymbol(): symbol {
    return kQueueOptions
  }
}

/**
 * One class per process thread, whichever copy of this module made it: a
 * loader that compiles ESM for require() (tsx does) loads pool.js twice,
 * once for import and once for require('gort/pool'), and the class must be
 * the same object both ways. The first copy to load registers its class.
 */
const kClass = Symbol.for('gort.pool.Piscina')
const Piscina: typeof PiscinaImpl = ((globalThis as unknown as Record<symbol, typeof PiscinaImpl | undefined>)[kClass] ??= PiscinaImpl)
type Piscina<T = any, R = any> = PiscinaImpl<T, R>
export default Piscina
export type { PiscinaImpl }

// Named exports: exactly the class's statics (piscina's esm-wrapper.mjs).
const { isWorkerThread, workerData, threadId, version, transferableSymbol, valueSymbol, queueOptionsSymbol, FixedQueue, ArrayTaskQueue } = Piscina
const move = Piscina.move
export { Piscina, FixedQueue, ArrayTaskQueue, isWorkerThread, workerData, threadId, version, move, transferableSymbol, valueSymbol, queueOptionsSymbol }
