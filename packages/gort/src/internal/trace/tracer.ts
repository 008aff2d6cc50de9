// rt.trace: the execution tracer's API on a Runtime (docs/trace.md).

import { writeFile } from 'node:fs/promises'
import type { RawEvent } from './buffer.js'
import { toChrome, type ChromeTrace } from './chrome.js'

/** The host's half (host.ts). */
export interface TraceHost {
  traceStart(): void
  traceStop(): { events: RawEvent[]; dropped: number; procs: number }
  readonly tracing: boolean
}

export interface TraceStopOptions {
  /** Also write the JSON to this file. */
  file?: string
}

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

  /** Starts recording. Throws if a recording is already under way or the runtime is closed. */
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
    const json = toChrome(this.#host.traceStop())
    if (opts.file !== undefined) await writeFile(opts.file, JSON.stringify(json))
    return json
  }
}
