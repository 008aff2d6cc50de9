// The tracer for the gort command: `gort run --trace out.json` starts a
// recording with the runtime and writes it when the program ends;
// `gort trace summary out.json` prints the goroutine analysis.

import { readFileSync, writeFileSync, writeSync } from 'node:fs'
import { formatSummary } from './summary.js'
import { traceEnd } from './buffer.js'
import type { ChromeTrace } from './chrome.js'
import type { RuntimeTrace } from './tracer.js'

/** What startTrace needs of a Runtime. */
interface Traced {
  readonly trace: RuntimeTrace
}

let current: { rt: Traced; file: string } | undefined

/**
 * Starts recording rt's trace, to be written to file by stopTrace, or, if
 * the process ends first (exit(code), a panic, a deadlock, SIGQUIT: each
 * ends in process.exit on the host's thread), by the process's 'exit'
 * handler: Go writes the trace it has when the program exits.
 */
export function startTrace(rt: Traced, file: string): void {
  if (typeof file !== 'string' || file === '') throw new TypeError('startTrace: file must be a non-empty path')
  if (current !== undefined) throw new Error(`startTrace: already recording to ${current.file}`)
  rt.trace.start()
  current = { rt, file }
  process.once('exit', writeAtExit)
}

/** Stops the recording startTrace began and writes its file; resolves to the file's path (undefined if none was recording). */
export async function stopTrace(): Promise<string | undefined> {
  const c = current
  process.off('exit', writeAtExit)
  if (c === undefined || !c.rt.trace.recording) return undefined
  current = undefined
  await c.rt.trace.stop({ file: c.file })
  return c.file
}

/**
 * The process is exiting with a recording under way: stop it and write
 * what every thread has published, synchronously (the buffers are shared
 * memory the host reads; the Ms are still alive while 'exit' handlers run).
 */
function writeAtExit(): void {
  const c = current
  current = undefined
  if (c === undefined || !c.rt.trace.recording) return
  try {
    writeFileSync(c.file, JSON.stringify(c.rt.trace.stopNow()))
  } catch (e) {
    try {
      writeSync(2, `gort run --trace: cannot write ${c.file}: ${(e as Error).message}\n`)
    } catch {
      // stderr is gone
    }
  }
}

/** `gort trace summary file`: the per-function table. */
export function traceSummary(file: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`trace summary: cannot read ${file}: ${(e as Error).message}`, { cause: e })
  }
  let json: ChromeTrace
  try {
    json = JSON.parse(text) as ChromeTrace
  } catch (e) {
    throw new SyntaxError(`trace summary: ${file} is not JSON: ${(e as Error).message}`, { cause: e })
  }
  return formatSummary(json)
}

/**
 * Stops rt's recording without reading it (benchmarks: the cost of
 * recording, not of building the JSON). Internal.
 */
export function traceDiscard(heap: { tw: { sab?: SharedArrayBuffer } }): void {
  if (heap.tw.sab !== undefined) traceEnd(heap.tw.sab)
}
