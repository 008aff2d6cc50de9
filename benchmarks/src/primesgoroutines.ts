// The goroutines of the primes suite (suites/primes.ts): one chunk of the
// candidates per goroutine, counted by trial division, with a safe point
// (a plain `yield`, which gives up the M only if sysmon asked for it) every
// 1,024 candidates, as in packages/demo.

import { threadId } from 'node:worker_threads'
import { goroutines } from 'gort'
import { isPrime } from './primeswork.js'

/** Wall-clock ms, comparable between the threads of one process. */
const now = (): number => performance.timeOrigin + performance.now()

export const pg = goroutines(import.meta.url, {
  /** Primes in [lo, hi). */
  *count(lo: number, hi: number): Generator<unknown, number> {
    let c = 0
    for (let n = lo; n < hi; n++) {
      if (isPrime(n)) c++
      if ((n & 1023) === 0) yield
    }
    return c
  },

  /**
   * The same count, reporting where and when it ran: the count, the thread
   * (M) it ran on, the wall-clock ms of its first and last step, and the
   * safe points at which it lost the M (a yield that took more than 0.2 ms
   * to come back: sysmon's preemption or the M's event-loop turn).
   */
  *countTraced(lo: number, hi: number): Generator<unknown, [count: number, thread: number, start: number, end: number, switches: number]> {
    const start = now()
    let c = 0
    let switches = 0
    for (let n = lo; n < hi; n++) {
      if (isPrime(n)) c++
      if ((n & 1023) === 0) {
        const t = performance.now()
        yield
        if (performance.now() - t > 0.2) switches++
      }
    }
    return [c, threadId, start, now(), switches]
  },
})
