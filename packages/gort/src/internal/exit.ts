// exit(code): Go's os.Exit. The program ends at once with that status,
// from a goroutine on any M or from the app's thread; deferred work (a
// goroutine's finally blocks, the app's pending callbacks) does not run.
//
// Only the process's main thread can end the process: process.exit() in a
// worker ends that thread alone (and gort would take the M for dead and
// replace it). So on an M, exit() posts gort's own 'exit' message to the
// host (mmsg.ts), which ends the process as soon as its event loop turns,
// and the calling M blocks for good meanwhile: the goroutine that called
// exit never runs another statement, as with Go's os.Exit. Goroutines on
// other Ms may run for the moment the message takes (tens of
// microseconds; Go stops every thread at once).
//
// What goroutines printed is out already (an M writes synchronously,
// stdio.ts). The host waits for its own stdout and stderr to drain before
// it exits (exitProcess): on Linux an app's write to a full pipe queues
// in its event loop, and process.exit() would drop it. On the app's own
// thread exit() cannot wait (it never returns), so it is process.exit().

import { isMainThread, parentPort } from 'node:worker_threads'
import { once } from 'node:events'
import { MMSG_TAG, type MExit } from './mmsg.js'

/** Set by an M's worker at start (mworker.ts): this thread is an M, and exit() goes through its host. */
let onM = false
/** What the M does before it asks the host to end the process: publish its trace events (the host writes a trace being recorded as it exits). */
let beforeExit: () => void = () => {}

/** Marks this thread as an M (mworker.ts); before runs when a goroutine here calls exit(). */
export function setExitOnM(before: () => void = () => {}): void {
  onM = true
  beforeExit = before
}

/** Checks an exit status as the call site passed it. */
function checkCode(code: unknown): number {
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) {
    throw new RangeError(`exit: code must be an integer from 0 to 255 (Go's os.Exit: 0 is success), got ${typeof code === 'number' ? code : typeof code}`)
  }
  return code
}

/**
 * Go's os.Exit: ends the program now with status `code` (0 to 255). In a
 * goroutine, on any M, the calling goroutine stops at once and the
 * process exits as soon as the runtime's host (the app's main thread)
 * hears of it; on the app's main thread it is process.exit(code). Nothing
 * deferred runs: no finally block of the caller, no pending callback.
 *
 * @example
 * export function* main() {
 *   if (process.argv.length < 3) { console.error('usage: main FILE'); exit(2) }
 * }
 */
export function exit(code = 0): never {
  const c = checkCode(code)
  if (onM && parentPort !== null) {
    beforeExit()
    parentPort.postMessage({ [MMSG_TAG]: 'exit', code: c } satisfies MExit)
    // This goroutine and its M never go on: the host ends the process.
    const forever = new Int32Array(new SharedArrayBuffer(4))
    for (;;) Atomics.wait(forever, 0, 0)
  }
  if (!isMainThread) {
    // A worker that is not an M: it cannot reach the process's main thread.
    throw new Error('exit: called on a worker thread that is not one of gort\'s Ms; call it in a goroutine or on the app\'s main thread')
  }
  process.exit(c)
}

/** How long the host waits for its own stdout and stderr to drain before it exits anyway. */
const DRAIN_MS = 2000

/**
 * Ends the process with code once the host thread's stdout and stderr have
 * drained (at most DRAIN_MS): how the host carries out an M's exit(), and
 * how the gort CLI ends when main returns. Host thread.
 */
export async function exitProcess(code: number): Promise<never> {
  for (const s of [process.stdout, process.stderr]) {
    if (s.writableLength > 0 && !s.destroyed) {
      await Promise.race([once(s, 'drain'), new Promise((r) => setTimeout(r, DRAIN_MS))])
    }
  }
  process.exit(code)
}
