// The goroutines of the sysmon suite (suites/sysmon.ts). Every M imports
// this module at start (the suite passes it in Runtime.start's modules), so
// that no M loads it in the middle of a measurement: a spare M that takes a
// retaken P would otherwise spend tens of ms on its first import.
//
// Times that cross threads (a spawn on the app's thread, a start on an M)
// use performance.timeOrigin + performance.now(), which agree between the
// threads of one process to a few µs.

import { chan, go, goroutines, select, type Chan } from 'gort'

/** Wall-clock ms, comparable between threads. */
const now = (): number => performance.timeOrigin + performance.now()

/** Two turns of the hog's loop further apart than this had another goroutine (or the event loop) between them. */
const HOG_GAP_MS = 0.05

export const sg = goroutines(import.meta.url, {
  // --- Go's BenchmarkPingPongHog (runtime/proc_test.go), on procs 1.

  /**
   * Starts the hog and the two ping-pong goroutines, then (as Go's
   * benchmark function does) sends the first ping and waits until the
   * ponger closes stop after n round trips. Returns the ms from the first
   * ping to stop, timed on this M, 1 (one M), and the ms the hog ran in
   * that time (it reports them on done).
   */
  *pingPongHog(n: number): Generator<unknown, [ms: number, threads: number, hogMs: number]> {
    const stop = chan<boolean>()
    const done = chan<number>(3)
    go(sg.hog, stop, done)
    const ping = chan<boolean>()
    const pong = chan<boolean>()
    go(sg.hogPonger, ping, pong, n, stop, done)
    go(sg.hogPinger, ping, pong, n, done)
    const t0 = performance.now()
    yield* ping.send(true)
    yield* stop.recv() // returns once stop is closed
    const ms = performance.now() - t0
    yield* ping.recv() // the pinger's last ping, which nobody answers
    let hogMs = 0
    for (let i = 0; i < 3; i++) hogMs += (yield* done.recv())!
    return [ms, 1, hogMs]
  },

  /**
   * The hog: never blocks. Each turn of its loop is a plain `yield` (a safe
   * point, where sysmon's preemption request takes effect) and a select with
   * a default that checks stop without waiting. It also adds up how long it
   * ran from the first ping until it saw stop: a gap of over HOG_GAP_MS
   * between two turns of its loop means another goroutine ran meanwhile.
   */
  *hog(stop: Chan<boolean>, done: Chan<number>): Generator<unknown, void> {
    const cases = [stop.recvCase()]
    let ran = 0
    let last = performance.now()
    for (;;) {
      yield
      const t = performance.now()
      if (t - last < HOG_GAP_MS) ran += t - last
      last = t
      const r = yield* select(cases, { default: true })
      if (r.index === 0) break
    }
    yield* done.send(ran)
  },

  /** Answers n pings with pongs, then closes stop. */
  *hogPonger(ping: Chan<boolean>, pong: Chan<boolean>, n: number, stop: Chan<boolean>, done: Chan<number>): Generator<unknown, void> {
    for (let i = 0; i < n; i++) yield* pong.send((yield* ping.recv())!)
    stop.close()
    yield* done.send(0)
  },

  /** Answers n pongs with pings. */
  *hogPinger(ping: Chan<boolean>, pong: Chan<boolean>, n: number, done: Chan<number>): Generator<unknown, void> {
    for (let i = 0; i < n; i++) yield* ping.send((yield* pong.recv())!)
    yield* done.send(0)
  },

  // --- A runaway goroutine, and the goroutines spawned while it runs.

  /**
   * Runs a synchronous loop for ms without a single yield, so its step
   * holds the M (and, until sysmon retakes it, the P). Returns when the
   * loop began and ended.
   */
  *runaway(ms: number): Generator<unknown, [start: number, end: number]> {
    const start = now()
    const end = performance.now() + ms
    while (performance.now() < end) {
      // no yield: the step runs to the end of the loop
    }
    return [start, now()]
  },

  /** A trivial goroutine: returns the time it started running. */
  *stamp(): Generator<unknown, number> {
    return now()
  },
})
