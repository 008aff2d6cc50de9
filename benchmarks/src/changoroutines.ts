// The goroutines of the chan, select and mutex suites: gort versions of Go's
// channel and mutex benchmarks (benchmarks/go/chan_test.go holds the Go
// originals). Every M imports this module by URL (the suites pass it in
// Runtime.start's modules).
//
// Each workload has a driver that is itself a goroutine. It makes the
// channels, starts the workers with go() (registered functions, so that the
// other Ps can steal them, as Go's scheduler would), waits until they are
// done and returns how long that took in milliseconds, timed on its M with
// performance.now(). Starting the driver from the app and sending its result
// back are outside the figure. Go's RunParallel hands out iterations to its
// goroutines dynamically (pb.Next); here each of the procs workers gets an
// equal share up front, because goroutines on different Ms share no memory
// but the channels themselves.
//
// Workers report the threadId of their M when they finish, and the drivers
// return how many different Ms ran the workers: a started goroutine never
// moves, so a pair that landed on one M stays there for the whole sample.
//
// The two-M workloads (ping-pong between two Ms, buffered numbers) need
// their two goroutines on two different Ms. Each first announces itself on
// a channel and then spins, without yielding, until the other has announced
// itself too (pin()): while one spins, its M runs nothing else (sysmon may
// hand its P on, but not its thread), so the other is running on another
// M. The app starts the second only once the first is spinning (twoMs in
// suites/chan.ts), so that the second arrives in the global run queue with
// a P idle, rather than queued behind the spinner on its P.

import { threadId } from 'node:worker_threads'
import { goroutines, go, gosched, chan, select, type Chan, type Mutex } from 'gort'

/** What a driver returns: the milliseconds the workload took on the M, and how many Ms ran its workers. */
export type Timed = [ms: number, threads: number]

/** Counts the distinct thread ids in done's first k values (one per worker). */
function* collect(done: Chan<number>, k: number): Generator<unknown, number, unknown> {
  const ids = new Set<number>()
  for (let i = 0; i < k; i++) ids.add((yield* done.recv())!)
  return ids.size
}

/**
 * Announces this goroutine on ready (capacity 2) and spins until its partner
 * has too; throws after 5 s. While it spins it holds its M, so the partner
 * is running on another M; neither ever moves afterwards.
 */
function* pin(ready: Chan<number>): Generator<unknown, void, unknown> {
  yield* ready.send(threadId)
  const deadline = performance.now() + 5000
  while (ready.len() < 2) {
    if (performance.now() > deadline) throw new Error('pin: the partner goroutine did not start on another M within 5 s')
  }
}

/** After pin(): how many Ms the two pinned goroutines ran on (2, unless pin is broken). */
function* pinned(ready: Chan<number>): Generator<unknown, number, unknown> {
  const a = yield* ready.recv()
  const b = yield* ready.recv()
  return a === b ? 1 : 2
}

/** A local goroutine that keeps its M busy (gosched in a loop) until stop() is called. */
function busy(): () => void {
  let running = true
  go(function* () {
    while (running) yield* gosched()
  })
  return () => {
    running = false
  }
}

export const cb = goroutines(import.meta.url, {
  // --- BenchmarkChanSync: two goroutines hand a value to each other over one unbuffered channel.

  *chanSync(n: number): Generator<unknown, Timed> {
    const c = chan<number>()
    const done = chan<number>(2)
    const t0 = performance.now()
    go(cb.chanSyncWorker, c, n >> 1, true, done)
    go(cb.chanSyncWorker, c, n >> 1, false, done)
    const ms = yield* collect(done, 2)
    return [performance.now() - t0, ms]
  },

  /** k exchanges: receive then send (recvFirst), or the other way round. */
  *chanSyncWorker(c: Chan<number>, k: number, recvFirst: boolean, done: Chan<number>): Generator<unknown, void> {
    if (recvFirst) {
      for (let i = 0; i < k; i++) {
        yield* c.recv()
        yield* c.send(0)
      }
    } else {
      for (let i = 0; i < k; i++) {
        yield* c.send(0)
        yield* c.recv()
      }
    }
    yield* done.send(threadId)
  },

  // --- BenchmarkChanProdCons{0,10,100}: a producer and a consumer per P on one channel.

  *prodCons(capacity: number, procs: number, n: number): Generator<unknown, Timed> {
    const c = chan<number>(capacity)
    const done = chan<number>(2 * procs)
    const each = Math.floor(n / procs)
    const t0 = performance.now()
    for (let p = 0; p < procs; p++) {
      go(cb.producer, c, each, done)
      go(cb.consumer, c, done)
    }
    const ms = yield* collect(done, 2 * procs)
    return [performance.now() - t0, ms]
  },

  /** Sends k ones, then a 0 that stops one consumer. */
  *producer(c: Chan<number>, k: number, done: Chan<number>): Generator<unknown, void> {
    for (let i = 0; i < k; i++) yield* c.send(1)
    yield* c.send(0)
    yield* done.send(threadId)
  },

  /** Receives until a 0. */
  *consumer(c: Chan<number>, done: Chan<number>): Generator<unknown, void> {
    while ((yield* c.recv()) !== 0) {
      // nothing: Go's localWork is 0 in these benchmarks
    }
    yield* done.send(threadId)
  },

  // --- BenchmarkChanUncontended / BenchmarkChanContended: 100 sends then 100 receives per op.

  /** shared: one channel of 100 × procs for everyone (Contended), else one of 100 per worker (Uncontended). */
  *fillDrain(shared: boolean, procs: number, n: number): Generator<unknown, Timed> {
    const c = shared ? chan<number>(100 * procs) : null
    const done = chan<number>(procs)
    const each = Math.floor(n / procs)
    const t0 = performance.now()
    for (let p = 0; p < procs; p++) go(cb.fillDrainWorker, c, each, done)
    const ms = yield* collect(done, procs)
    return [performance.now() - t0, ms]
  },

  *fillDrainWorker(shared: Chan<number> | null, k: number, done: Chan<number>): Generator<unknown, void> {
    const c = shared ?? chan<number>(100)
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < 100; j++) yield* c.send(0)
      for (let j = 0; j < 100; j++) yield* c.recv()
    }
    yield* done.send(threadId)
  },

  // --- BenchmarkSelectUncontended: each worker moves a token between its own two channels of 1.

  *selectUncontended(procs: number, n: number): Generator<unknown, Timed> {
    const done = chan<number>(procs)
    const each = Math.floor(n / procs)
    const t0 = performance.now()
    for (let p = 0; p < procs; p++) go(cb.selectUncontendedWorker, each, done)
    const ms = yield* collect(done, procs)
    return [performance.now() - t0, ms]
  },

  *selectUncontendedWorker(k: number, done: Chan<number>): Generator<unknown, void> {
    const x = chan<number>(1)
    const y = chan<number>(1)
    yield* x.send(0)
    const cases = [x.recvCase(), y.recvCase()]
    for (let i = 0; i < k; i++) {
      const r = yield* select(cases)
      if (r.index === 0) yield* y.send(0)
      else yield* x.send(0)
    }
    yield* done.send(threadId)
  },

  // --- BenchmarkSelectSyncContended: three shared unbuffered channels; per worker a sending helper.

  *selectSyncContended(procs: number, n: number): Generator<unknown, Timed> {
    const c1 = chan<number>()
    const c2 = chan<number>()
    const c3 = chan<number>()
    const stop = chan<number>()
    const done = chan<number>(procs)
    const helpersDone = chan<number>(procs)
    const each = Math.floor(n / procs)
    const t0 = performance.now()
    for (let p = 0; p < procs; p++) go(cb.selectSyncWorker, c1, c2, c3, stop, each, done, helpersDone)
    const ms = yield* collect(done, procs)
    stop.close()
    const t = performance.now() - t0
    // The helpers leave once stop is closed; wait for them outside the clock.
    for (let p = 0; p < procs; p++) yield* helpersDone.recv()
    return [t, ms]
  },

  *selectSyncWorker(
    c1: Chan<number>, c2: Chan<number>, c3: Chan<number>, stop: Chan<number>, k: number, done: Chan<number>, helpersDone: Chan<number>,
  ): Generator<unknown, void> {
    go(cb.selectSyncSender, c1, c2, c3, stop, helpersDone)
    const cases = [c1.recvCase(), c2.recvCase(), c3.recvCase()]
    for (let i = 0; i < k; i++) yield* select(cases)
    yield* done.send(threadId)
  },

  /** Sends 0 on whichever of c1, c2, c3 has a receiver, until stop is closed. */
  *selectSyncSender(c1: Chan<number>, c2: Chan<number>, c3: Chan<number>, stop: Chan<number>, helpersDone: Chan<number>): Generator<unknown, void> {
    const cases = [c1.sendCase(0), c2.sendCase(0), c3.sendCase(0), stop.recvCase()]
    for (;;) {
      const r = yield* select(cases)
      if (r.index === 3) break
    }
    yield* helpersDone.send(threadId)
  },

  // --- sync's BenchmarkMutex: every worker locks and unlocks one shared Mutex.

  *mutex(mu: Mutex, procs: number, n: number): Generator<unknown, Timed> {
    const done = chan<number>(procs)
    const each = Math.floor(n / procs)
    const t0 = performance.now()
    for (let p = 0; p < procs; p++) go(cb.mutexWorker, mu, each, done)
    const ms = yield* collect(done, procs)
    return [performance.now() - t0, ms]
  },

  *mutexWorker(mu: Mutex, k: number, done: Chan<number>): Generator<unknown, void> {
    for (let i = 0; i < k; i++) {
      yield* mu.lock()
      mu.unlock()
    }
    yield* done.send(threadId)
  },

  // --- PingPongOneP: an unbuffered round trip between two goroutines of one M (procs 1).

  *pingPongOneP(n: number): Generator<unknown, Timed> {
    const ping = chan<number>()
    const pong = chan<number>()
    go(cb.ponger, ping, pong)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      yield* ping.send(i)
      if ((yield* pong.recv()) !== i + 1) throw new Error('pingPongOneP: pong answered the wrong value')
    }
    const ms = performance.now() - t0
    ping.close()
    return [ms, 1]
  },

  /** Answers every v on ping with v + 1 on pong, until ping is closed. */
  *ponger(ping: Chan<number>, pong: Chan<number>): Generator<unknown, void> {
    for (;;) {
      const v = yield* ping.recv() // undefined once ping is closed
      if (v === undefined) return
      yield* pong.send(v + 1)
    }
  },

  // --- PingPongTwoMs: the same round trip between two goroutines pinned to two Ms.

  /**
   * The pinger: pins itself against the ponger, then (if keepBusy) starts a
   * local goroutine that keeps this M running, and times n round trips.
   */
  *pingTwoMs(ready: Chan<number>, ping: Chan<number>, pong: Chan<number>, n: number, keepBusy: boolean): Generator<unknown, Timed> {
    yield* pin(ready)
    const stop = keepBusy ? busy() : undefined
    yield* ping.send(-1) // the ponger is ready too (and busy, if asked)
    yield* pong.recv()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      yield* ping.send(i)
      if ((yield* pong.recv()) !== i + 1) throw new Error('pingTwoMs: pong answered the wrong value')
    }
    const ms = performance.now() - t0
    ping.close()
    stop?.()
    return [ms, yield* pinned(ready)]
  },

  *pongTwoMs(ready: Chan<number>, ping: Chan<number>, pong: Chan<number>, keepBusy: boolean): Generator<unknown, void> {
    yield* pin(ready)
    const stop = keepBusy ? busy() : undefined
    for (;;) {
      const v = yield* ping.recv()
      if (v === undefined) break
      yield* pong.send(v + 1)
    }
    stop?.()
  },

  // --- BufferedNumbers: numbers through a channel of 1024 from one M to another.

  /** Sends 0..n-1 and closes; returns the time until the consumer has reported its sum. */
  *numbersProducer(ready: Chan<number>, c: Chan<number>, sum: Chan<number>, n: number): Generator<unknown, Timed> {
    yield* pin(ready)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) yield* c.send(i)
    c.close()
    const s = yield* sum.recv()
    const ms = performance.now() - t0
    if (s !== (n * (n - 1)) / 2) throw new Error(`numbers: the consumer summed ${s}, want ${(n * (n - 1)) / 2}`)
    return [ms, yield* pinned(ready)]
  },

  *numbersConsumer(ready: Chan<number>, c: Chan<number>, sum: Chan<number>): Generator<unknown, void> {
    yield* pin(ready)
    let s = 0
    for (;;) {
      const v = yield* c.recv()
      if (v === undefined) break
      s += v
    }
    yield* sum.send(s)
  },
})
