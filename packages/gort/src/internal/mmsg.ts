// The messages an M's thread posts to its host, and how the host tells them
// from a goroutine's own.
//
// An M has one channel to the host: its worker's parentPort. gort's own
// messages travel on it (the M is in its loop: 'ready'; startm found no
// idle M: 'newm'; a goroutine called exit(): 'exit'; a blocking call
// found no idle M: 'spare'; a buffer is sent before sysmon is up:
// 'sysmon'), and so does whatever a goroutine passes to
// `parentPort.postMessage(v)` itself (a piscina task file does this to
// reach the pool's 'message' event). The host must not take one for the
// other: a task posting `{ type: 'ready' }` is not an M reporting in. So
// gort's own messages carry MMSG_TAG, a key no user value has by accident
// (it begins with a NUL character), and everything else is the user's: the
// host passes it on as the runtime's 'message' event (newm.ts).
//
// Rejected: a second MessagePort per M for gort's own messages. It costs a
// port and a listener per M, and the host must still read parentPort for
// the user's messages; the tag costs one property.

import { parentPort } from 'node:worker_threads'

/** The key of gort's own messages on an M's parentPort. */
export const MMSG_TAG = '\u0000gort.m'

/** An M reports that it is in its scheduler loop, with the eager modules it could not import. */
export interface MReady {
  [MMSG_TAG]: 'ready'
  mid: number
  failed: Array<{ url: string; message: string }>
}

/** startm found no idle M on this thread (Go's newm hand-off, newm.ts). */
export interface MNewm {
  [MMSG_TAG]: 'newm'
}

/**
 * A goroutine module's word to the code that embeds the runtime on the
 * host (gort/pool: how a task file's function behaves, pooltask.ts). The
 * host hands it to Host.noteListeners. gort/pool's module posts one when
 * it learns something, never per task; gort/bullmq's, one per
 * updateProgress() or log() of a job, as BullMQ's sandboxed processors
 * post one message each.
 */
export interface MNote {
  [MMSG_TAG]: 'note'
  note: unknown
}

/** A goroutine called exit(code) (exit.ts): the host ends the process with it. */
export interface MExit {
  [MMSG_TAG]: 'exit'
  code: number
}

/**
 * A goroutine on this M entered a blocking call (syscall()) while no M was
 * idle: start a spare now, so that the P it lent can be handed to an M
 * that is up by the time sysmon retakes it (newm.ts spare).
 */
export interface MSpare {
  [MMSG_TAG]: 'spare'
}

/**
 * A goroutine on this M sends a SharedArrayBuffer before sysmon is up: the
 * M waits for sysmon's subscription (codec/sabs.ts awaitAnswerer), so the
 * host starts sysmon now.
 */
export interface MSysmon {
  [MMSG_TAG]: 'sysmon'
}

export type MMessage = MReady | MNewm | MNote | MExit | MSpare | MSysmon

/** Posts a note to the host (an M's thread only; a no-op elsewhere). */
export function postNote(note: unknown): void {
  parentPort?.postMessage({ [MMSG_TAG]: 'note', note } satisfies MNote)
}

/** Whether v is one of gort's own messages (else it is a goroutine's). Host only. */
export function isMMessage(v: unknown): v is MMessage {
  return v !== null && typeof v === 'object' && Object.hasOwn(v, MMSG_TAG)
}
