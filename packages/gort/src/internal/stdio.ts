// An M's stdout and stderr, written synchronously to the process's file
// descriptors, as Go's print and os.Stdout are.
//
// Node gives a worker thread its own process.stdout and process.stderr,
// whose writes travel to the parent thread as messages: the first chunk is
// posted at once, and every later one waits in the stream's buffer until the
// parent's acknowledgement comes back through the worker's event loop. An M
// turns its event loop only between bursts of goroutines, and not at all
// while it spins, runs a long step or sleeps in a blocking notesleep; a
// terminated worker drops what is still buffered. So a goroutine that
// console.logged five lines and returned showed one of them, even after
// close(), and none of what destroy() or process.exit() cut off.
//
// installSyncStdio() replaces the two streams' _writev (the one method
// Node's worker stdio implements) with fs.writeSync on fd 1 and fd 2,
// which belong to the whole process. Everything above it stays Node's:
// console's formatting, Writable's encoding, callbacks and events. A write
// is out of the process when it returns, so a goroutine's lines precede
// anything the app prints after the goroutine's result, and nothing is left
// to lose when the runtime closes, is destroyed or the process exits.
//
// Ordering with the app's own writes holds where the app's thread writes
// synchronously too. On Linux, Node writes the app's stdout and stderr at
// once to files, terminals and pipes, but a pipe is non-blocking (libuv
// opens it so, for the whole process): once it is full, the app's writes
// queue in its event loop, and an M's line written meanwhile can overtake
// them. Pipes on macOS and Windows are asynchronous on the app's side.
//
// That non-blocking pipe refuses an M's write with EAGAIN while it is full:
// the M waits 1 ms (Atomics.wait: a worker may block) and tries again, as a
// blocking write would wait. Any other error (EPIPE: the reader is
// gone) drops the write, as Go's print ignores write errors: handing it to
// Writable would destroy the stream for every later goroutine on the M, and,
// with no 'error' listener, end the M's thread.

import { writeSync } from 'node:fs'
import type { Writable } from 'node:stream'

/** One chunk as Writable hands it to _writev (decodeStrings is false in a worker: strings keep their encoding). */
interface Chunk {
  chunk: string | Uint8Array
  encoding: BufferEncoding | 'buffer'
}

/** How long to wait for a full non-blocking pipe before trying again. */
const EAGAIN_WAIT_MS = 1
const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Writes all of buf to fd, synchronously; retries partial writes and EAGAIN. Throws other errors. */
export function writeAllSync(fd: number, buf: Uint8Array): void {
  let off = 0
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e
      Atomics.wait(sleeper, 0, 0, EAGAIN_WAIT_MS)
    }
  }
}

function bytes(c: Chunk): Uint8Array {
  if (typeof c.chunk !== 'string') return c.chunk
  return Buffer.from(c.chunk, c.encoding === 'buffer' ? 'utf8' : c.encoding)
}

/** Makes stream write to fd synchronously (see the top of this file). */
function syncStream(stream: Writable, fd: number): void {
  stream._writev = (chunks: Chunk[], cb: (err?: Error | null) => void): void => {
    try {
      for (const c of chunks) writeAllSync(fd, bytes(c))
    } catch {
      // Dropped (see the top of this file).
    }
    cb()
  }
}

let installed = false

/**
 * Installs synchronous stdout and stderr on this thread (an M, at start,
 * before any goroutine module loads). Idempotent.
 */
export function installSyncStdio(): void {
  if (installed) return
  installed = true
  syncStream(process.stdout, 1)
  syncStream(process.stderr, 2)
}
