// The goroutine module of the benchmarks. Every M imports it by URL (the
// suites pass it in Runtime.start's modules, so no M loads it mid-run), and
// the suites' host imports it for the registered functions.

import { goroutines, go, gosched } from 'gort'

export const bench = goroutines(import.meta.url, {
  /** The trivial goroutine: x + 1. */
  *inc(x: number): Generator<unknown, number> {
    return x + 1
  },

  /**
   * Go's BenchmarkCreateGoroutines: each goroutine starts the next, n - 1,
   * and exits; the one started with 0 ends the chain. Nobody awaits the
   * goroutines after the first (no result is encoded for them), so the
   * host learns that the chain is done from rt.numGoroutine() (see
   * suites/create.ts).
   */
  *chain(n: number): Generator<unknown, void> {
    if (n > 0) go(bench.chain, n - 1)
  },

  /** One goroutine that starts n trivial goroutines and returns. */
  *spawner(n: number): Generator<unknown, number> {
    for (let i = 0; i < n; i++) go(bench.inc, i)
    return n
  },

  /**
   * The Gosched round trip: this goroutine and a local closure (started,
   * and staying, on this M) take turns through a shared variable, each
   * handing the M over with `yield* gosched()`. One round: this goroutine
   * sets turn = 1 and yields until the closure has set it back to 0, so a
   * round is two gosched switches when nothing else is runnable. Returns
   * the milliseconds the k rounds took, timed on the M (the closure has
   * started before the clock starts; spawning this goroutine and sending
   * its result back are outside the figure).
   */
  *pingpong(k: number): Generator<unknown, number> {
    let turn = 0
    let done = false
    go(function* () {
      while (!done) {
        if (turn === 1) turn = 0
        yield* gosched()
      }
    })
    yield* gosched() // the closure's first step
    const t0 = performance.now()
    for (let i = 0; i < k; i++) {
      turn = 1
      while (turn === 1) yield* gosched()
    }
    const ms = performance.now() - t0
    done = true
    return ms
  },
})
