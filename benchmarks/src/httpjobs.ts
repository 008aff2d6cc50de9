// The goroutine module of the http suite (suites/http.ts, httpserver.ts):
// the CPU-bound job of peers/pooltasks.ts (a chain of sha256 digests with a
// bare `yield`, a safe point, every `every` rounds) registered as a
// goroutine, so that the gort server can `rt.run` it. `every` larger than
// `rounds` makes it a job without a safe point.

import { threadId } from 'node:worker_threads'
import { goroutines } from 'gort'
import { shaGen, type ShaTask } from './peers/pooltasks.js'

export const httpJobs = goroutines(import.meta.url, {
  /** The job: the first 8 bytes of the chain's last digest, in hex. */
  *sha(task: ShaTask): Generator<unknown, string> {
    return yield* shaGen(task)
  },

  /**
   * The same job, also returning when it started and ended
   * (performance.timeOrigin + performance.now(), comparable with the app
   * thread's clock to a few µs), the thread it ran on, and the number of
   * times it was resumed after a safe point more than 1 ms after it
   * yielded, with the total of those waits: how long the goroutine, once
   * started, waited for its M (the diagnosis of the http suite,
   * scripts/http-diag.mjs). Not used by the suite's timed runs.
   */
  *shaStamped(task: ShaTask): Generator<unknown, [digest: string, start: number, end: number, thread: number, stalls: number, stalledMs: number]> {
    const start = performance.timeOrigin + performance.now()
    const gen = shaGen(task)
    let stalls = 0
    let stalledMs = 0
    for (;;) {
      const r = gen.next()
      if (r.done === true) return [r.value, start, performance.timeOrigin + performance.now(), threadId, stalls, stalledMs]
      const t0 = performance.now()
      yield r.value
      const waited = performance.now() - t0
      if (waited > 1) {
        stalls++
        stalledMs += waited
      }
    }
  },
})
