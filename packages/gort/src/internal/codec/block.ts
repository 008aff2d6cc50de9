// codec: a block's life. encodeValue/encodeArgs (encode.ts) malloc it and
// write it; a value that holds counted handles (refs.ts) or shared memory
// (sabs.ts) starts with a prefix, [T_HREFS, n, kind, ptr, ...], listing
// them: the block holds a reference on each handle's record, and owns each
// SharedArrayBuffer id, listed as (HREF_SAB, id). decodeValue/decodeArgs
// (decode.ts) start after the prefix; freeValue drops the references and
// the ids, and frees the block.

import type { SharedHeap } from '../heap.js'
import { release } from '../refs.js'
import { free } from '../malloc.js'
import { HREF_SAB, T_HREFS } from './format.js'
import { sabdrop } from './sabs.js'

/** Where the value of the block at p starts: after its T_HREFS prefix, if it has one. */
export function valueStart(h: SharedHeap, p: number): number {
  const w = p >> 2
  return h.i32[w] === T_HREFS ? p + 8 + h.i32[w + 1] * 8 : p
}

/**
 * Frees a block from encodeValue or encodeArgs, drops the references it
 * held on shared records (which may free them) and the SharedArrayBuffer
 * ids it owned; 0 is a no-op. Its last owner, once.
 */
export function freeValue(h: SharedHeap, p: number): void {
  if (p === 0) return
  const i32 = h.i32
  const w = p >> 2
  if (i32[w] !== T_HREFS) {
    free(h, p)
    return
  }
  const n = i32[w + 1]
  const held = i32.slice(w + 2, w + 2 + n * 2)
  free(h, p)
  dropHeld(h, held)
}

/** Drops what a block's prefix entries (kind, word pairs) hold: a reference on a record, or a SharedArrayBuffer id. */
export function dropHeld(h: SharedHeap, held: Int32Array): void {
  for (let i = 0; i < held.length; i += 2) {
    if (held[i] === HREF_SAB) sabdrop(h, held[i + 1])
    else release(h, held[i], held[i + 1])
  }
}
