// chan: Go's channel benchmarks (runtime/chan_test.go) on gort, next to Go's
// own figures for the same workloads (benchmarks/go/chan_test.go, run with
// `go test -bench` by go.ts), plus this project's three channel targets.
//
//  - ChanSync, ChanProdCons{0,10,100}, ChanUncontended, ChanContended: Go's
//    benchmarks with the same names, procs 2 against `go test -cpu 2`.
//  - PingPongOneP: one goroutine sends i on an unbuffered channel, another
//    answers i + 1 on a second one; procs 1 against GOMAXPROCS 1. Target: at
//    most 2 × Go's time per round trip.
//  - PingPongTwoMs: the same round trip between two goroutines pinned to two
//    Ms (procs 2), each M also running a local goroutine that loops on
//    gosched(), so that both Ms stay busy and a wake-up never has to wake a
//    sleeping thread. Target: at most 2 µs per round trip. The row without
//    the busy goroutines (the Ms park between messages) is for comparison.
//    Go has no way to pin goroutines to Ps; its figure is the same ping-pong
//    at GOMAXPROCS 2, for reference.
//  - BufferedNumbers: a producer on one M sends 0..n-1 through a channel of
//    1024 numbers to a consumer on another M (procs 2). Target: at least
//    5,000,000 numbers per second.
//
// How each sample is timed, and how goroutines are pinned to Ms: see
// changoroutines.ts.

import { chan, type Chan, type Runtime } from 'gort'
import { type Suite } from '../harness.js'
import { cb, type Timed } from '../changoroutines.js'
import { runVsGo, type Workload } from '../vsgo.js'

/** Scales every sample's size (env CHAN_SCALE, default 1). */
const SCALE = Number(process.env.CHAN_SCALE) || 1
const PROCS = Number(process.env.GOMAXPROCS) || 2
/** x × CHAN_SCALE operations, rounded to a multiple of 2 × procs so that the workers' shares add up to it. */
const n = (x: number): number => Math.max(2 * PROCS, Math.round((x * SCALE) / (2 * PROCS)) * 2 * PROCS)

/**
 * Starts the two goroutines of a two-M workload from the app and returns
 * the first one's result. The second starts only once the first is running
 * (and spinning in pin()), so that it arrives in the global run queue while
 * the other P is idle, rather than in the first one's local queue behind a
 * goroutine that does not yield.
 */
async function twoMs(rt: Runtime, first: (ready: Chan<number>) => Promise<Timed>, second: (ready: Chan<number>) => Promise<void>): Promise<Timed> {
  const ready = chan<number>(2, { runtime: rt })
  const a = first(ready)
  const deadline = performance.now() + 5000
  while (ready.len() === 0) {
    if (performance.now() > deadline) throw new Error('twoMs: the first goroutine did not start within 5 s')
    await new Promise((r) => setImmediate(r))
  }
  const [r] = await Promise.all([a, second(ready)])
  return r
}

export const workloads: Workload[] = [
  {
    name: 'ChanSync',
    op: 'one value handed over an unbuffered channel (2 goroutines)',
    procs: PROCS,
    go: { name: 'ChanSync', cpu: PROCS },
    ops: n(2_000),
    sample: (rt) => rt.run(cb.chanSync, n(2_000)),
  },
  ...[0, 10, 100].map((cap): Workload => {
    const ops = n(cap === 0 ? 50_000 : cap === 10 ? 100_000 : 250_000)
    return {
      name: `ChanProdCons${cap}`,
      op: `one value through a channel of ${cap} (a producer and a consumer per P)`,
      procs: PROCS,
      go: { name: `ChanProdCons${cap}`, cpu: PROCS },
      ops,
      sample: (rt) => rt.run(cb.prodCons, cap, PROCS, ops),
    }
  }),
  {
    name: 'ChanUncontended',
    op: '100 sends + 100 receives on a channel of 100 of its own (one goroutine per P)',
    procs: PROCS,
    go: { name: 'ChanUncontended', cpu: PROCS },
    ops: n(4_000),
    sample: (rt) => rt.run(cb.fillDrain, false, PROCS, n(4_000)),
  },
  {
    name: 'ChanContended',
    op: '100 sends + 100 receives on one shared channel of 100 × procs (one goroutine per P)',
    procs: PROCS,
    go: { name: 'ChanContended', cpu: PROCS },
    ops: n(4_000),
    sample: (rt) => rt.run(cb.fillDrain, true, PROCS, n(4_000)),
  },
  {
    name: 'PingPongOneP',
    op: 'one round trip over two unbuffered channels, both goroutines on one M',
    procs: 1,
    go: { name: 'PingPongOneP', cpu: 1 },
    ops: n(100_000),
    sample: (rt) => rt.run(cb.pingPongOneP, n(100_000)),
    target: { ratioToGo: 2 },
  },
  {
    name: 'PingPongTwoMs',
    op: 'one round trip between goroutines pinned to two Ms, both Ms kept busy',
    procs: 2,
    go: { name: 'PingPongOneP', cpu: 2, note: '(PingPongOneP at GOMAXPROCS 2: Go cannot pin goroutines to threads)' },
    ops: n(30_000),
    sample: (rt) => {
      const ping = chan<number>(0, { runtime: rt })
      const pong = chan<number>(0, { runtime: rt })
      return twoMs(
        rt,
        (ready) => rt.run(cb.pingTwoMs, ready, ping, pong, n(30_000), true),
        (ready) => rt.run(cb.pongTwoMs, ready, ping, pong, true),
      )
    },
    target: { maxNs: 2_000 },
  },
  {
    name: 'PingPongTwoMs, idle Ms',
    op: 'the same, without the busy goroutines: each M parks while it waits',
    procs: 2,
    go: { name: 'PingPongOneP', cpu: 2, note: '(as above)' },
    ops: n(5_000),
    sample: (rt) => {
      const ping = chan<number>(0, { runtime: rt })
      const pong = chan<number>(0, { runtime: rt })
      return twoMs(
        rt,
        (ready) => rt.run(cb.pingTwoMs, ready, ping, pong, n(5_000), false),
        (ready) => rt.run(cb.pongTwoMs, ready, ping, pong, false),
      )
    },
  },
  {
    name: 'BufferedNumbers',
    op: 'one number through a channel of 1024, producer and consumer on two Ms',
    procs: 2,
    go: { name: 'BufferedNumbers', cpu: 2 },
    ops: n(500_000),
    sample: (rt) => {
      const c = chan<number>(1024, { runtime: rt })
      const sum = chan<number>(0, { runtime: rt })
      return twoMs(
        rt,
        (ready) => rt.run(cb.numbersProducer, ready, c, sum, n(500_000)),
        (ready) => rt.run(cb.numbersConsumer, ready, c, sum),
      )
    },
    target: { minPerSec: 5_000_000, unit: 'numbers' },
  },
]

export const chanSuite: Suite = {
  name: 'chan',
  description: "Go's channel benchmarks on gort and on Go (ns/op, gort ÷ Go), and the ping-pong and buffered-numbers targets",
  run: () =>
    runVsGo(workloads, {
      suite: 'chan',
      notes: [
        `procs ${PROCS} against \`go test -cpu ${PROCS}\` unless the row says otherwise; one sample = the ops per row above × CHAN_SCALE (${SCALE})`,
      ],
    }),
}
