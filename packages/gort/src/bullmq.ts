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
  type GortJob, type JobInit, type JobNote,
} from './internal/bullmqjob.js'
import type { Host } from './internal/host.js'

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

/** One job's run in a runtime: its notes, applied to the Job in order. */
interface Run {
  readonly job: Job
  /** Its goroutine, once spawned (#spawn). */
  g: { cancel(reason?: unknown, o?: { graceMs?: number }): boolean } | undefined
  /** cancelJob's reason, if it came before the goroutine was spawned. */
  cancelled: { reason: unknown } | undefined
  /** Notes received so far. */
  received: number
  /** Notes the job posted (from its JobEnd), -1 until it has ended. */
  expected: number
  /** The notes applied so far, one after the other. */
  chain: Promise<void>
  /** The first note that failed to apply: the job fails with it, as a sandboxed job's does. */
  error: unknown
  /** Set while #process waits for the last notes. */
  allIn: (() => void) | undefined
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
  run.chain = run.chain.then(async () => {
    if (run.error !== undefined) return
    if (n.k === NOTE_PROGRESS) await job.updateProgress(n.v as number | object)
    else if (n.k === NOTE_LOG) await job.log(n.v as string)
    else if (n.k === NOTE_DATA) await job.updateData(n.v)
  }).catch((e: unknown) => {
    run.error ??= e
  })
  run.received++
  if (run.received === run.expected) run.allIn?.()
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

  /** close(true) was called: jobs whose spawn is still pending (#spawn) fail instead of starting. */
  #forced = false

  /** The spawns of the jobs BullMQ handed over in this turn of the event loop, run together by #spawn. */
  #pending: Array<() => void> = []

  /**
   * Runs spawn (one job's rt.go) at the end of this turn of the event loop
   * (setImmediate), together with the other jobs BullMQ handed over in the
   * same turn, in one host batch (Host.batchBegin): one push onto the
   * global queue and one round of M wake-ups for all of them, instead of
   * one each. Only this Worker's spawns are held back: an app's own rt.go
   * on a shared runtime is published at once, as always.
   */
  #spawn<G>(host: Host, spawn: () => G): Promise<G> {
    return new Promise<G>((resolve, reject) => {
      if (this.#pending.push(() => {
        // A forced close between the hand-over and this turn's end cancels
        // the running jobs; one not started yet must not start after it.
        if (this.#forced) return reject(new Error('worker closed'))
        try {
          resolve(spawn())
        } catch (e) {
          reject(e)
        }
      }) === 1) {
        setImmediate(() => {
          const todo = this.#pending
          this.#pending = []
          host.batchBegin()
          try {
            for (const f of todo) f()
          } finally {
            host.batchEnd()
          }
        })
      }
    })
  }

  /** BullMQ's processFn: runs the job as a goroutine, resolving with its result. */
  async #process(job: Job, token: string | undefined): Promise<unknown> {
    const rt = this.runtime
    const host = hostOf(rt)
    const t = tableOf(host)
    const key = nextKey++
    const run: Run = { job, g: undefined, cancelled: undefined, received: 0, expected: -1, chain: Promise.resolve(), error: undefined, allIn: undefined }
    t.runs.set(key, run)
    // BullMQ tracks a job by its id while it runs (LockManager.trackJob), so one id runs once here at a time.
    const id = job.id
    if (id !== undefined) this.#running.set(id, run)
    try {
      const init = jobInit(key, job)
      const g = await this.#spawn(host, () => {
        if (this.#file !== undefined) return rt.go(bullmqjob.runFile, this.#file, init, token)
        if (this.#fnId < 0) this.#fnId = funcid(host.heap, this.#meta!)
        return rt.go(bullmqjob.runFn, this.#fnId, init, token)
      })
      run.g = g
      if (run.cancelled !== undefined) g.cancel(run.cancelled.reason, { graceMs: this.#graceMs })
      const [ok, value, notes] = await g.result
      run.expected = notes
      if (run.received < notes) await new Promise<void>((r) => { run.allIn = r })
      await run.chain
      if (run.error !== undefined) throw run.error
      if (!ok) throw value
      return value
    } finally {
      if (id !== undefined && this.#running.get(id) === run) this.#running.delete(id)
      t.runs.delete(key)
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
