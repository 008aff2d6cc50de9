// rt.trace: the execution tracer's API on a Runtime (docs/trace.md).

import { writeFile } from 'node:fs/promises'
import type { RawEvent } from './buffer.js'
import { toChrome, type ChromeTrace } from './chrome.js'

/** The host's half (host.ts). */
export interface TraceHost {
  traceStart(): void
  traceStop(): void
  traceRead(): { events: RawEvent[]; dropped: number; procs: number }
  readonly traceUnpublished: boolean
  readonly tracing: boolean
}

export interface TraceStopOptions {
  /** Also write the JSON to this file. */
  file?: string
}

/**
 * How long stop() waits for the Ms to publish the events they wrote
 * before the stop (an M publishes at each stamp and at the end of each
 * burst, within a few ms; one inside a long goroutine step publishes
 * when the step ends).
 */
const STOP_WAIT_MS = 200
/** stopNow's wait, blocking the exiting thread. */
const STOP_NOW_WAIT_MS = 100
const nap = new Int32Array(new SharedArrayBuffer(4))

/**
 * Records what every M, P and goroutine does, as Go's runtime/trace does:
 * `rt.trace.start()`, run something, `await rt.trace.stop()` for Chrome
 * trace-event JSON (open it in ui.perfetto.dev or chrome://tracing).
 */
export class RuntimeTrace {
  readonly #host: TraceHost

  constructor(host: TraceHost) {
    this.#host = host
  }

  /** Whether a trace is being recorded. */
  get recording(): boolean {
    return this.#host.tracing
  }

  /** Starts recording. Throws if a recording is under way or the runtime is closed. */
  start(): void {
    this.#host.traceStart()
  }

  /**
   * Stops recording and resolves to the trace as Chrome trace-event JSON
   * (an object; JSON.stringify it to save it), after writing it to
   * `file` if given. Throws if no recording is under way.
   */
  async stop(opts: TraceStopOptions = {}): Promise<ChromeTrace> {
    if (opts === null || typeof opts !== 'object') throw new TypeError('trace.stop: options must be an object such as { file: \'out.json\' }')
    if (opts.file !== undefined && (typeof opts.file !== 'string' || opts.file === '')) {
      throw new TypeError(`trace.stop: file must be a non-empty path, got ${typeof opts.file === 'string' ? '""' : typeof opts.file}`)
    }
    this.#host.traceStop()
    // The Ms' last events before the stop: published at their next stamp or burst end.
    const until = performance.now() + STOP_WAIT_MS
    while (this.#host.traceUnpublished && performance.now() < until) await new Promise((r) => setTimeout(r, 1))
    const json = toChrome(this.#host.traceRead())
    if (opts.file !== undefined) await writeFile(opts.file, JSON.stringify(json))
    return json
  }

  /**
   * Stops recording and returns what every thread has published, without
   * waiting (the process is about to end: gort run's exit paths). Internal.
   */
  stopNow(): ChromeTrace {
    this.#host.traceStop()
    // The Ms run on while the host's thread exits: give a busy one a moment to publish its burst.
    const until = performance.now() + STOP_NOW_WAIT_MS
    while (this.#host.traceUnpublished && performance.now() < until) Atomics.wait(nap, 0, 0, 1)
    return toChrome(this.#host.traceRead())
  }
}
