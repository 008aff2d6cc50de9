// The job of the pool-http example (server.mjs): a CPU-bound piscina task
// file, run by gort/pool, with no gort import.
//
// hash({ seed, rounds }) digests the seed string with sha256 and then
// digests the digest `rounds` more times; it returns the last one in hex.
// It is a generator function: under gort/pool it runs as a goroutine, and
// each bare `yield` is a safe point where the runtime may switch to another
// task (sysmon's preemption) and where an abort reaches a running task (it
// is thrown in there). A plain `function` works too, as in piscina; an
// aborted one is ended by terminating its thread after the pool's
// abortGraceMs (250 ms by default).

import { createHash } from 'node:crypto'

/** Rounds between two safe points: about a quarter of a millisecond of hashing. */
const EVERY = 256

export default function* hash({ seed, rounds }) {
  let d = createHash('sha256').update(seed).digest()
  for (let i = 1; i <= rounds; i++) {
    d = createHash('sha256').update(d).digest()
    if (i % EVERY === 0) yield
  }
  return d.toString('hex')
}
