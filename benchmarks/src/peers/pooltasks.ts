// The task file of the pool suite (suites/pool.ts), loaded unchanged by
// piscina's workers and by gort/pool's Ms: a piscina task file as its users
// write them, with no gort import.
//
//   default / add  the tiny task, a + b: what is measured is the trip of a
//                  task and its result, not the work;
//   sha            a CPU-bound task: a chain of `rounds` sha256 digests, each
//                  of the previous one, from a 32-byte seed; one plain
//                  synchronous loop, as piscina users write them;
//   shaGen         the same chain as a generator function that `yield`s every
//                  `every` rounds: on gort/pool it runs as a goroutine, and a
//                  bare `yield` is a safe point (sysmon's preemption and, once
//                  it exists, cancellation reach it there). piscina cannot
//                  run it (it would try to send the generator object back).
//
// Both chains return the first 8 bytes of the last digest in hex, so the
// suite can check every result against the chain it computed itself.

import { createHash } from 'node:crypto'

export interface AddTask {
  a: number
  b: number
}

export interface ShaTask {
  /** The seed byte: the chain starts from 32 bytes of it. */
  seed: number
  rounds: number
  /** shaGen only: rounds between two yields. */
  every?: number
}

export function add({ a, b }: AddTask): number {
  return a + b
}

export default add

/** rounds sha256 digests chained from the seed; the first 8 bytes of the last, in hex. */
export function sha({ seed, rounds }: ShaTask): string {
  let d = Buffer.alloc(32, seed & 0xff)
  for (let i = 0; i < rounds; i++) d = createHash('sha256').update(d).digest()
  return d.toString('hex', 0, 8)
}

/** sha's chain with a bare `yield` (a safe point on gort) every `every` rounds. */
export function* shaGen({ seed, rounds, every = 250 }: ShaTask): Generator<undefined, string> {
  let d = Buffer.alloc(32, seed & 0xff)
  for (let i = 1; i <= rounds; i++) {
    d = createHash('sha256').update(d).digest()
    if (i % every === 0) yield
  }
  return d.toString('hex', 0, 8)
}
