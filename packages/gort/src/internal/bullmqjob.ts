// gort/bullmq's goroutines: runFile and runFn, which run one BullMQ job's
// processor on an M. The Worker (bullmq.ts, on the app's thread) spawns one
// per job with rt.go, like any registered goroutine; an M imports this
// module by URL when it meets one (the Worker's own runtime imports it on
// every M at start). This module must not import bullmq: the Ms never load
// it.
//
// The job a processor gets is what BullMQ's sandboxed processors get
// (bullmq's ChildProcessor.wrapJob, child-processor.ts): the job's fields
// (id, name, data, opts, attemptsMade, timestamp, ...), and methods that
// reach the real Job on the Worker's side: updateProgress(), log() and
// updateData(). Each posts a note to the host (mmsg.ts postNote, on the
// M's parentPort), so the notes of one job, all posted from its M (a
// started goroutine never leaves its M), arrive in the order they were
// posted. The host applies them to the Job in that order (bullmq.ts). As
// in the sandbox, the returned promise resolves once the message is
// posted, not once Redis has it; and it can be yield*ed too, so a
// generator processor writes `yield* job.updateProgress(50)` or simply
// `job.updateProgress(50)`.
//
// A note travels on the M's port and the goroutine's result through the
// shared heap: the result can overtake the job's last notes. So the
// goroutine returns how many notes it posted, and the Worker completes
// the job only when it has applied that many (bullmq.ts #process). For
// the same reason runFile never throws: a failure is returned as
// [false, error, notes], so that its count arrives too.
//
// Cancellation (the Worker's cancelJob and cancelAllJobs, BullMQ's
// signatures): the Worker cancels the goroutine (Goroutine.cancel,
// cancel.ts), so the reason is thrown in at the processor's next yield (a
// generator) or at the until() awaiting its promise (an async processor),
// and the job's signal (`job.signal`, also the third argument of a
// processor that declares one, BullMQ's rule) is aborted with it, for the
// work an async processor started. The signal's AbortController is made
// only when someone asks for the signal. A plain function that never
// returns is ended by the Worker's grace period, which terminates its M.

import { goroutines, isGeneratorFunction, funcById, funcKey } from './registry.js'
import { handlerFor } from './pooltask.js'
import { importModule } from './loader.js'
import { until } from './ops.js'
import { cancelled } from './cancel.js'
import { postNote } from './mmsg.js'
import { mheap } from './proc.js'

/**
 * The job's fields as the Worker sends them to the M, as one JSON string
 * (the Worker's JSON.stringify, the M's JSON.parse): BullMQ's sandboxed
 * job (Job.asJSONSandbox) with data and opts parsed. One string crosses
 * the shared heap with a single copy, where the codec would write the
 * object's ~20 fields one by one on the app's thread (the thread that
 * limits tiny jobs: docs/bullmq.md); and the data came from JSON in Redis,
 * so JSON loses nothing.
 */
export interface JobInit {
  /** The Worker's key for this run of the job (bullmq.ts Run), which its notes carry. */
  key: number
  id: string | undefined
  name: string
  data: unknown
  opts: unknown
  progress: unknown
  attemptsMade: number
  attemptsStarted: number
  stalledCounter: number
  timestamp: number
  processedOn: number | undefined
  delay: number
  priority: number
  parentKey: string | undefined
  repeatJobKey: string | undefined
  queueName: string
  queueQualifiedName: string
  prefix: string
}

/** A note's kinds: which Job method the Worker calls with the note's value. */
export const NOTE_PROGRESS = 0
export const NOTE_LOG = 1
export const NOTE_DATA = 2

/** A job's note to the Worker (postNote); `bullmq` is the run's key. */
export interface JobNote {
  bullmq: number
  k: typeof NOTE_PROGRESS | typeof NOTE_LOG | typeof NOTE_DATA
  v: unknown
}

/** What runFile and runFn return: ok and the result or the error, and how many notes the job posted. */
export type JobEnd = [ok: boolean, value: unknown, notes: number]

/**
 * What updateProgress() and friends return: a promise already resolved (the
 * note is posted), which a generator can also yield* (it does nothing).
 */
export type Posted = Promise<void> & Iterable<never>

function posted(): Posted {
  return Object.assign(Promise.resolve(), {
    *[Symbol.iterator](): Generator<never, void> {},
  })
}

/** The job object a processor gets on the M (BullMQ's sandboxed job). */
export class GortJob {
  id: string | undefined
  name: string
  data: unknown
  opts: unknown
  progress: unknown
  attemptsMade: number
  attemptsStarted: number
  stalledCounter: number
  timestamp: number
  processedOn: number | undefined
  delay: number
  priority: number
  parentKey: string | undefined
  repeatJobKey: string | undefined
  queueName: string
  queueQualifiedName: string
  prefix: string
  readonly #key: number
  /**
   * Made when first asked for (job.signal, or a processor that takes the
   * signal as its third parameter): most jobs never look, and an
   * AbortController per job was a measurable share of a tiny job's cost on
   * the M (docs/bullmq.md, "What limits throughput").
   */
  #ac: AbortController | undefined
  /** Why the job was cancelled, if it was before anyone asked for the signal. */
  #abortedWith: { reason: unknown } | undefined
  /** Notes posted so far (the Worker waits for this many before it completes the job). */
  #notes = 0

  constructor(j: JobInit) {
    this.#key = j.key
    this.id = j.id
    this.name = j.name
    this.data = j.data
    this.opts = j.opts
    this.progress = j.progress
    this.attemptsMade = j.attemptsMade
    this.attemptsStarted = j.attemptsStarted
    this.stalledCounter = j.stalledCounter
    this.timestamp = j.timestamp
    this.processedOn = j.processedOn
    this.delay = j.delay
    this.priority = j.priority
    this.parentKey = j.parentKey
    this.repeatJobKey = j.repeatJobKey
    this.queueName = j.queueName
    this.queueQualifiedName = j.queueQualifiedName
    this.prefix = j.prefix
  }

  /** Aborted when the job is cancelled (BullMQ's worker.cancelJob, or a forced close of a shared runtime's Worker). */
  get signal(): AbortSignal {
    if (this.#ac === undefined) {
      this.#ac = new AbortController()
      if (this.#abortedWith !== undefined) this.#ac.abort(this.#abortedWith.reason)
    }
    return this.#ac.signal
  }

  #post(k: JobNote['k'], v: unknown): Posted {
    this.#notes++
    postNote({ bullmq: this.#key, k, v } satisfies JobNote)
    return posted()
  }

  /** Job.updateProgress on the Worker's side: stored in Redis and emitted as the Worker's 'progress', in order. */
  updateProgress(progress: unknown): Posted {
    this.progress = progress
    return this.#post(NOTE_PROGRESS, progress)
  }

  /** Job.log on the Worker's side: one row of the job's log in Redis. */
  log(row: string): Posted {
    return this.#post(NOTE_LOG, row)
  }

  /** Job.updateData on the Worker's side. */
  updateData(data: unknown): Posted {
    this.data = data
    return this.#post(NOTE_DATA, data)
  }

  /** @internal */
  static notes(job: GortJob): number {
    return job.#notes
  }

  /** @internal */
  static abort(job: GortJob, reason: unknown): void {
    if (job.#ac !== undefined) job.#ac.abort(reason)
    else job.#abortedWith ??= { reason }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'
}

/**
 * Runs processor fn on job: a generator function with yield* (as this
 * goroutine), a Promise awaited with until(), anything else is the
 * result. Never throws: see the file comment.
 */
function* runJob(fn: Function, gen: boolean, job: GortJob, token: string | undefined): Generator<unknown, JobEnd> {
  try {
    let r: unknown
    // The signal as third argument only to a processor that declares one
    // (BullMQ's own rule, Worker.processorAcceptsSignal: processor.length
    // >= 3); job.signal is always there.
    const signal = fn.length >= 3 ? job.signal : undefined
    if (gen) r = yield* (fn(job, token, signal) as Generator<unknown, unknown>)
    else {
      r = fn(job, token, signal)
      if (isThenable(r)) r = yield* until(r)
    }
    // BullMQ stores undefined as null (ChildProcessor.start).
    return [true, r === undefined ? null : r, GortJob.notes(job)]
  } catch (e) {
    if (cancelled()) GortJob.abort(job, e)
    return [false, e, GortJob.notes(job)]
  }
}

/** This module's URL: a Worker's own runtime imports it on every M at start. */
export const bullmqjobUrl = import.meta.url

export const bullmqjob = goroutines(import.meta.url, {
  /**
   * Runs the default export of processor module `filename` (a file URL) on
   * the job, as BullMQ's child processor does (`export default`, or
   * `module.exports =`; a function, async function or generator function).
   */
  *runFile(filename: string, init: string, token: string | undefined): Generator<unknown, JobEnd> {
    const job = new GortJob(JSON.parse(init) as JobInit)
    let h
    try {
      h = yield* handlerFor(filename, 'default')
    } catch (e) {
      return [false, e, 0]
    }
    return yield* runJob(h.fn, h.gen, job, token)
  },

  /** Runs registered goroutine function `id` (the runtime's function table) on the job. */
  *runFn(id: number, init: string, token: string | undefined): Generator<unknown, JobEnd> {
    const job = new GortJob(JSON.parse(init) as JobInit)
    const h = mheap()!
    let fn = funcById(h, id)
    if (fn === undefined) {
      const { url, name } = funcKey(h, id)
      try {
        yield* until(importModule(url))
      } catch (e) {
        return [false, e, 0]
      }
      fn = funcById(h, id)
      if (fn === undefined) return [false, new Error(`gort/bullmq: ${url} does not register a goroutine named ${name}`), 0]
    }
    return yield* runJob(fn, isGeneratorFunction(fn), job, token)
  },
})
