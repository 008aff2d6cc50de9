// gort/bench: Go's b.RunParallel for tinybench.
//
// Go's RunParallel runs a benchmark body in GOMAXPROCS goroutines that share
// b.N iterations: each body loops `for pb.Next() { ... }`, and pb hands out
// the iterations in grains from one atomic counter. Here the body is a
// registered goroutine that takes a PB first; parallel() returns the async
// function tinybench times: one call runs `iterations` iterations of the
// body across every P and resolves when they are all done.
//
// @example
// // tasks.ts
// export const tasks = goroutines(import.meta.url, {
//   *hash(pb: PB, size: number) { while (pb.next()) sha256(size) },
// })
// // bench.ts
// for (const procs of [1, 2, 4]) {
//   const rt = await Runtime.start({ procs })
//   bench.add(`hash procs=${procs}`, parallel(rt, tasks.hash, { iterations: 10_000, args: [64] }))
// }
// await bench.run()  // per-iteration time: a task's mean latency / 10,000

import type { Runtime } from './runtime.js'
import { newpb, type PB } from './internal/pb.js'
import { hostOf } from './internal/hostref.js'

export { PB } from './internal/pb.js'

export interface ParallelOptions<A extends unknown[]> {
  /** Iterations per call (one tinybench iteration of the task). */
  iterations: number
  /** Arguments after the PB. */
  args?: A
  /** Goroutines per P (Go's b.SetParallelism); default 1. */
  parallelism?: number
}

type Body<A extends unknown[]> = (pb: PB, ...args: A) => Generator<unknown, unknown, any>

/**
 * Go's b.RunParallel for a tinybench task: returns an async function that
 * runs opts.iterations iterations of body spread over every P of rt (procs ×
 * parallelism goroutines sharing one count, in grains) and resolves when
 * all have returned. body must be a registered goroutine taking a PB first.
 */
export function parallel<A extends unknown[]>(rt: Runtime, body: Body<A>, opts: ParallelOptions<A>): () => Promise<void> {
  const { iterations } = opts
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 0x7fffffff) {
    throw new RangeError(`parallel: iterations must be an integer from 1 to ${0x7fffffff}, got ${String(iterations)}`)
  }
  const parallelism = opts.parallelism ?? 1
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new RangeError(`parallel: parallelism must be a positive integer, got ${String(parallelism)}`)
  }
  const args = (opts.args ?? []) as A
  const n = rt.stats().gomaxprocs * parallelism
  // Go's grain: enough iterations per grab that the shared count is not a
  // bottleneck, few enough that the goroutines finish together.
  const grain = Math.max(1, Math.min(10_000, Math.floor(iterations / (100 * n))))
  const h = hostOf(rt).heap
  return async () => {
    const pb = newpb(h, iterations, grain)
    const runs: Array<Promise<unknown>> = []
    for (let i = 0; i < n; i++) runs.push(rt.run(body, pb, ...args))
    await Promise.all(runs)
  }
}
