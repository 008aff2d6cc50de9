// gort/bullmq: BullMQ's Worker, with its jobs run as goroutines on a gort
// runtime (docs/bullmq.md).
//
// The Worker is BullMQ's own class, extended: BullMQ keeps everything that
// touches Redis (fetching jobs, locks and their renewal, the stalled-job
// checker, retries and backoff, rate limits, pause and resume, the events,
// close). What it calls to process a job (its processFn) is this file's
// #process, handed to BullMQ's constructor as an in-process processor of
// two parameters (job, token): BullMQ then makes no AbortController per
// job (worker.ts processorAcceptsSignal), and the Worker's own cancelJob
// and cancelAllJobs reach the job's goroutine instead. #process
// spawns one goroutine per job (internal/bullmqjob.ts: runFile for a
// processor module, runFn for a registered goroutine function) and
// resolves with its result, or throws its error, which BullMQ stores as
// it would an in-process processor's.
//
// Where BullMQ's sandboxed processors (sandbox.ts, child-pool.ts) keep one
// child process or worker thread per running job and talk to it by
// message, the jobs here share the runtime's Ms: `concurrency` can be far
// above the thread count (CPU-bound jobs queue on the Ps, jobs waiting on
// I/O park).
//
// The job inside the processor is the sandboxed one (bullmqjob.ts
// GortJob); its updateProgress(), log() and updateData() arrive here as
// notes (mmsg.ts), which #onNote applies to the real Job in the order the
// job posted them, each after the previous one is done, and the job
// completes only after its last note is applied (see JobEnd's count).
//
// Cancellation: worker.cancelJob(id, reason) and cancelAllJobs(reason),
// which in BullMQ abort the job's AbortController (LockManager.cancelJob),
// here cancel the job's goroutine with the reason and `cancelGraceMs`: the
// reason is thrown in at its next yield (and aborts the job's signal on
// the M), and a processor that never yields has its M terminated after the
// grace period (Goroutine.cancel, as gort/pool's abort). A job cancelled
// while its spawn waits for the end of the turn is cancelled as soon as it
// is spawned.
//
// close(): BullMQ's close (waits for the running jobs unless forced), then
// the runtime: a Worker's own runtime is closed (destroyed if forced); a
// shared one is left running, and with force the Worker's running jobs on
// it are cancelled instead.

import { existsSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker as BullWorker, type Job, type WorkerOptions as BullWorkerOptions } from 'bullmq'
import { Runtime, hostOf, type RuntimeOptions } from './runtime.js'
import { funcid, goroutineMeta, type GoroutineFn } from './internal/registry.js'
import {
  bullmqjob, bullmqjobUrl, NOTE_DATA, NOTE_LOG, NOTE_PROGRESS,
  type GortJob, type JobEnd, type JobInit, type JobNote,
} from './internal/bullmqjob.js'
import type { CallbackGoroutine, Host } from './internal/host.js'

export type { GortJob, Posted } from './internal/bullmqjob.js'

/** BullMQ's WorkerOptions, plus the runtime the jobs run on. */
export interface WorkerOptions extends BullWorkerOptions {
  /**
   * The gort runtime to run the jobs on: a Runtime to share (another
   * Worker's, a gort/pool's `pool.runtime`, the app's own; the Worker
   * never closes it), or the options of one the Worker creates for itself
   * and closes with close(). Default: a runtime of its own with default
   * options (procs: os.availableParallelism()).
   */
  runtime?: Runtime | RuntimeOptions
  /**
   * How long a cancelled job that never reaches a yield (a plain function
   * in a loop) may go on before its M is terminated (Goroutine.cancel's
   * graceMs), in ms. Default 250, as gort/pool's abortGraceMs; Infinity
   * never terminates.
   */
  cancelGraceMs?: number
}

/**
 * A processor: a processor module's path or URL (default export
 * `(job, token, signal) => result`, plain, async or a generator function,
 * as BullMQ's sandboxed processors take), or a goroutine function
 * registered with goroutines(import.meta.url, {...}), called the same way.
 */
export type GortProcessor = string | URL | GoroutineFn<[job: GortJob, token?: string, signal?: AbortSignal]>

/**
 * One job's run in a runtime, from BullMQ's call of the processor to the
 * settling of the promise it got: the goroutine, and the job's notes,
 * applied to the Job in order.
 */
interface Run {
  readonly job: Job
  /** Its key in the runtime's RunTable (its notes carry it). */
  readonly key: number
  readonly table: RunTable
  /** Its Worker's runs by job id (cancelJob). */
  readonly byId: Map<string, Run>
  /** Settle the promise BullMQ awaits (#process). */
  readonly resolve: (v: unknown) => void
  readonly reject: (e: unknown) => void
  /** The job's fields as JSON and BullMQ's token, until the goroutine is spawned (#start). */
  init: string
  readonly token: string | undefined
  /** Its goroutine, once spawned. */
  g: CallbackGoroutine<Run> | undefined
  /** cancelJob's reason, if it came before the goroutine was spawned. */
  cancelled: { reason: unknown } | undefined
  /** Notes received so far. */
  received: number
  /** Notes the job posted (from its JobEnd), -1 until it has ended. */
  expected: number
  /** The goroutine's outcome, once it has ended: ok, and the result or the error. */
  ok: boolean
  value: unknown
  /** The notes applied so far, one after the other (undefined until the first). */
  chain: Promise<void> | undefined
  /** The first note that failed to apply: the job fails with it, as a sandboxed job's does. */
  error: unknown
}

/** The runs of every Worker on one runtime, by key, and the note listener they share. */
interface RunTable {
  readonly runs: Map<number, Run>
}
const tables = new WeakMap<Host, RunTable>()
let nextKey = 1

function tableOf(host: Host): RunTable {
  let t = tables.get(host)
  if (t === undefined) {
    const table: RunTable = { runs: new Map() }
    t = table
    tables.set(host, table)
    host.noteListeners.add((note) => onNote(table, note))
  }
  return t
}

/** A job's note (bullmqjob.ts GortJob): applied after the ones before it. */
function onNote(t: RunTable, note: unknown): void {
  if (note === null || typeof note !== 'object' || typeof (note as JobNote).bullmq !== 'number') return
  const n = note as JobNote
  const run = t.runs.get(n.bullmq)
  if (run === undefined) return // its goroutine died with its M: the job has failed already
  const job = run.job
  run.chain = (run.chain ?? Promise.resolve()).then(async () => {
    if (run.error !== undefined) return
    if (n.k === NOTE_PROGRESS) await job.updateProgress(n.v as number | object)
    else if (n.k === NOTE_LOG) await job.log(n.v as string)
    else if (n.k === NOTE_DATA) await job.updateData(n.v)
  }).catch((e: unknown) => {
    run.error ??= e
  })
  run.received++
  if (run.received === run.expected) settle(run)
}

/** The goroutine of a run ended (a CallbackGoroutine's callback, in the host's completion loop: must not throw). */
function onEnd(run: Run, _g: CallbackGoroutine<Run>, failed: boolean, v: unknown): void {
  // failed: it never returned its JobEnd (its M died, the runtime was
  // destroyed, it was cancelled before it started).
  if (failed) return finish(run, false, v)
  const [ok, value, notes] = v as JobEnd
  run.ok = ok
  run.value = value
  run.expected = notes
  if (run.received >= notes) settle(run)
}

/** The run has ended and all its notes are in: it completes once they are applied. */
function settle(run: Run): void {
  if (run.chain === undefined) finish(run, run.ok, run.value)
  else void run.chain.then(() => finish(run, run.ok, run.value))
}

/** Settles BullMQ's promise of the run: its result, or its error (a note's that failed first). */
function finish(run: Run, ok: boolean, value: unknown): void {
  run.table.runs.delete(run.key)
  const id = run.job.id
  if (id !== undefined && run.byId.get(id) === run) run.byId.delete(id)
  if (run.error !== undefined) run.reject(run.error)
  else if (ok) run.resolve(value)
  else run.reject(value)
}

/** The file URL of processor module `p`, checked as BullMQ's Worker checks it (worker.ts constructor). */
function processorUrl(p: string | URL): string {
  if (p instanceof URL) {
    if (p.protocol !== 'file:') throw new TypeError(`gort/bullmq: a processor URL must be a file: URL, got ${p.href}`)
    if (!existsSync(p)) throw new Error(`URL ${p.href} does not exist in the local file system`)
    return p.href
  }
  if (/^file:/i.test(p)) return processorUrl(new URL(p))
  const supported = ['.js', '.ts', '.flow', '.cjs', '.mjs']
  const file = resolve(p + (supported.includes(extname(p)) ? '' : '.js'))
  if (!existsSync(file)) throw new Error(`File ${file} does not exist`)
  return pathToFileURL(file).href
}

function checkGrace(v: unknown): number {
  if (v === undefined) return 250
  if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`gort/bullmq: options.cancelGraceMs must be a number of ms from 0 to Infinity, got ${String(v)}`)
  return v
}

/** What a cancelled goroutine gets thrown in: the signal's reason, an Error for a string (BullMQ's cancelJob(id, reason) takes a string). */
function cancelReason(reason: unknown): unknown {
  if (typeof reason === 'string') return new Error(reason)
  if (reason instanceof Error) return reason
  return new Error('job cancelled')
}

/** The sandboxed job's fields (bullmq's Job.asJSONSandbox, with data parsed), for the M, as JSON (bullmqjob.ts JobInit). */
function jobInit(key: number, job: Job): string {
  return JSON.stringify({
    key,
    id: job.id,
    name: job.name,
    data: job.data,
    opts: job.opts,
    progress: job.progress,
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    stalledCounter: job.stalledCounter,
    timestamp: job.timestamp,
    processedOn: job.processedOn,
    delay: job.delay,
    priority: job.priority,
    parentKey: job.parentKey,
    repeatJobKey: job.repeatJobKey,
    queueName: job.queueName,
    queueQualifiedName: job.queueQualifiedName,
    prefix: job.prefix,
  } satisfies JobInit)
}

/**
 * BullMQ's Worker, its jobs run as goroutines on a gort runtime.
 *
 * @example
 * import { Worker } from 'gort/bullmq'
 * const worker = new Worker('hash', new URL('./hash-job.mjs', import.meta.url), {
 *   connection: { host: '127.0.0.1', port: 6379 },
 *   concurrency: 64,
 *   runtime: { procs: 2 },
 * })
 * worker.on('completed', (job, digest) => console.log(job.id, digest))
 */
export class Worker<DataType = any, ResultType = any, NameType extends string = string> extends BullWorker<DataType, ResultType, NameType> {
  #rt: Runtime | undefined
  /** The options of the Worker's own runtime (undefined when it shares one). */
  readonly #rtOptions: RuntimeOptions | undefined
  readonly #file: string | undefined
  readonly #meta: ReturnType<typeof goroutineMeta>
  readonly #graceMs: number
  #fnId = -1
  #closingGort: Promise<void> | undefined
  /** The runs of the jobs this Worker has been handed and not finished, by job id (cancelJob; a forced close of a shared runtime's Worker cancels them). */
  readonly #running = new Map<string, Run>()

  constructor(name: string, processor: GortProcessor, opts: WorkerOptions) {
    // Checked before BullMQ's constructor, which may start fetching jobs.
    let file: string | undefined
    let meta: ReturnType<typeof goroutineMeta>
    if (typeof processor === 'string' || processor instanceof URL) file = processorUrl(processor)
    else {
      meta = goroutineMeta(processor)
      if (meta === undefined) {
        throw new TypeError(
          'gort/bullmq: processor must be a processor module\'s path or URL, or a goroutine function registered with ' +
            `goroutines(import.meta.url, {...}); got ${typeof processor === 'function' ? 'a plain function (for an in-process processor, use bullmq\'s own Worker)' : String(processor)}`,
        )
      }
    }
    if (opts === null || typeof opts !== 'object') throw new TypeError('gort/bullmq: opts must be BullMQ\'s WorkerOptions (connection is required)')
    const { runtime, cancelGraceMs, ...bullOpts } = opts
    const graceMs = checkGrace(cancelGraceMs)
    if (runtime !== undefined && (runtime === null || typeof runtime !== 'object')) {
      throw new TypeError(`gort/bullmq: options.runtime must be a Runtime or RuntimeOptions, got ${String(runtime)}`)
    }
    // The processor BullMQ calls: two parameters, so that BullMQ makes no
    // AbortController per job (cancelJob and cancelAllJobs are this
    // class's). It reaches this Worker through `state`, set once BullMQ's
    // constructor has returned (it may start fetching jobs then, autorun,
    // but it calls the processor only later).
    const state: { self?: Worker<DataType, ResultType, NameType> } = {}
    const processFn = (job: Job, token: string | undefined): Promise<unknown> => state.self!.#process(job, token)
    super(name, processFn as never, bullOpts as BullWorkerOptions)
    state.self = this
    if (runtime instanceof Runtime) this.#rt = runtime
    else this.#rtOptions = runtime ?? {}
    this.#file = file
    this.#meta = meta
    this.#graceMs = graceMs
  }

  /**
   * The runtime the jobs run on: the one given as `runtime`, or the
   * Worker's own, created (Runtime.create: its threads boot in the
   * background) when first asked for, at the latest by the first job. So a
   * Worker whose options BullMQ rejects, or that is closed before it gets
   * a job, starts no thread.
   */
  get runtime(): Runtime {
    if (this.#rt === undefined) {
      const o = this.#rtOptions!
      this.#rt = Runtime.create({ ...o, modules: [...(o.modules ?? []), bullmqjobUrl] })
    }
    return this.#rt
  }

  /** close(true) was called: jobs whose spawn is still pending (#hold) fail instead of starting. */
  #forced = false

  /** The runs BullMQ handed over in this turn of the event loop, spawned together at its end (#hold). */
  #pending: Run[] = []

  /**
   * BullMQ's processFn: runs the job as a goroutine (a CallbackGoroutine:
   * its end settles the returned promise directly, with no promise of its
   * own), resolving with its result or rejecting with its error.
   */
  #process(job: Job, token: string | undefined): Promise<unknown> {
    const host = hostOf(this.runtime)
    const table = tableOf(host)
    return new Promise<unknown>((resolve, reject) => {
      const key = nextKey++
      const run: Run = {
        job, key, table, byId: this.#running, resolve, reject, init: '', token, g: undefined, cancelled: undefined,
        received: 0, expected: -1, ok: false, value: undefined, chain: undefined, error: undefined,
      }
      table.runs.set(key, run)
      // BullMQ tracks a job by its id while it runs (LockManager.trackJob), so one id runs once here at a time.
      if (job.id !== undefined) this.#running.set(job.id, run)
      try {
        run.init = jobInit(key, job)
      } catch (e) {
        return finish(run, false, e)
      }
      this.#hold(host, run)
    })
  }

  /**
   * Holds run's spawn until the end of this turn of the event loop
   * (setImmediate), and spawns it there together with the other jobs
   * BullMQ handed over in the same turn, in one host batch
   * (Host.batchBegin): one push onto the global queue and one round of M
   * wake-ups for all of them, instead of one each. Only this Worker's
   * spawns are held back: an app's own rt.go on a shared runtime is
   * published at once, as always.
   */
  #hold(host: Host, run: Run): void {
    if (this.#pending.push(run) !== 1) return
    setImmediate(() => {
      const todo = this.#pending
      this.#pending = []
      host.batchBegin()
      try {
        for (const r of todo) this.#start(host, r)
      } finally {
        host.batchEnd()
      }
    })
  }

  /** Spawns run's goroutine (its arguments: the processor, the job's JSON, the token). */
  #start(host: Host, run: Run): void {
    // A forced close between the hand-over and this turn's end cancels the
    // running jobs; one not started yet must not start after it.
    if (this.#forced) return finish(run, false, new Error('worker closed'))
    try {
      // A processor module (runFile), or a registered goroutine function by its id (runFn).
      const file = this.#file
      if (file === undefined && this.#fnId < 0) this.#fnId = funcid(host.heap, this.#meta!)
      const fn = file !== undefined ? bullmqjob.runFile : bullmqjob.runFn
      run.g = host.spawn(fn, [file ?? this.#fnId, run.init, run.token], undefined, 0, run, onEnd) as CallbackGoroutine<Run>
      run.init = ''
      if (run.cancelled !== undefined) run.g.cancel(run.cancelled.reason, { graceMs: this.#graceMs })
    } catch (e) {
      finish(run, false, e)
    }
  }

  /**
   * BullMQ's cancelJob: cancels job `jobId` if this Worker runs it (its
   * goroutine gets `reason` thrown in at its next yield, a string as an
   * Error with that message; a processor that never yields has its M
   * terminated after cancelGraceMs). Returns whether the job was found.
   */
  override cancelJob(jobId: string, reason?: string): boolean {
    const run = this.#running.get(jobId)
    if (run === undefined) return false
    this.#cancelRun(run, reason)
    return true
  }

  /** BullMQ's cancelAllJobs: cancels every job this Worker runs (cancelJob). */
  override cancelAllJobs(reason?: string): void {
    for (const run of this.#running.values()) this.#cancelRun(run, reason)
  }

  #cancelRun(run: Run, reason: unknown): void {
    if (run.cancelled !== undefined) return // as BullMQ's: an AbortController aborts once
    run.cancelled = { reason: cancelReason(reason) }
    run.g?.cancel(run.cancelled.reason, { graceMs: this.#graceMs })
  }

  /**
   * BullMQ's close(): stops fetching jobs, waits for the running ones
   * (unless `force`), closes the connections and emits 'closed'; then the
   * runtime: the Worker's own is closed (destroyed with `force`), a shared
   * one is left running, with this Worker's running jobs cancelled if
   * `force`. A second call returns the first one's promise, as BullMQ's.
   */
  override close(force = false): Promise<void> {
    if (force) this.#forced = true
    this.#closingGort ??= (async () => {
      try {
        await super.close(force)
      } finally {
        if (this.#rtOptions !== undefined) {
          // (Once BullMQ is closed no job starts, so no runtime is made after this.)
          if (this.#rt !== undefined) await (force ? this.#rt.destroy() : this.#rt.close())
        } else if (force) {
          for (const run of this.#running.values()) run.g?.cancel(new Error('worker closed'), { graceMs: this.#graceMs })
        }
      }
    })()
    return this.#closingGort
  }
}
