// The goroutine module of the jobs suite (suites/jobs.ts): the job itself,
// a trivial one, so that what the suite measures is the trip of a job from
// the app to a thread and of its result back, not the work.

import { goroutines } from 'gort'

export const jobs = goroutines(import.meta.url, {
  /** One job: the sum of two numbers. */
  *add(a: number, b: number): Generator<unknown, number> {
    return a + b
  },

  /**
   * The same job, also returning when it ran (performance.timeOrigin +
   * performance.now(), comparable with the app thread's clock to a few µs),
   * so that a job's latency can be split into the way there and the way
   * back. Not used by the suite's timed runs.
   */
  *addStamped(a: number, b: number): Generator<unknown, [sum: number, ranAt: number]> {
    return [a + b, performance.timeOrigin + performance.now()]
  },
})
