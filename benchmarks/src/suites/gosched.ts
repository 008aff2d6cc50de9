// gosched: the Gosched round trip between two goroutines on one M (procs 1).
// A goroutine starts a local closure (go(function* () {...}): it runs, and
// stays, on the same M) and the two take turns through a shared variable,
// each giving up the M with `yield* gosched()`, for K rounds (bench.pingpong
// in goroutines.ts). A round is two switches: to the closure and back.
//
// Target (issue: the M's run loop): at most 200 ns per round trip.
//
// The gort row is timed on the M, around the K rounds only (pingpong returns
// that time). The second gort row is the same call timed from the host, so
// it also holds the spawn of the goroutine, the wake-up of the M and the
// result's trip back, spread over the K rounds. The baseline is the floor of
// a switch in JavaScript: the same two bodies, with the same turn variable
// and the same one-level `yield*`, driven by a plain loop of .next() calls
// in one thread.

import { Runtime } from 'gort'
import { runRounds, type Suite } from '../harness.js'
import { bench } from '../goroutines.js'

const K = Number(process.env.GOSCHED_K) || 100_000

const TOKEN = {}

function* pause(): Generator<unknown, void, unknown> {
  yield TOKEN
}

/** The same round trip as bench.pingpong, without a scheduler. Returns turns seen (a sink). */
function plainPingpong(k: number): number {
  let turn = 0
  let done = false
  let seen = 0
  const closure = (function* () {
    while (!done) {
      if (turn === 1) {
        turn = 0
        seen++
      }
      yield* pause()
    }
  })()
  const main = (function* () {
    for (let i = 0; i < k; i++) {
      turn = 1
      while (turn === 1) yield* pause()
    }
    done = true
  })()
  closure.next()
  while (main.next().done !== true) closure.next()
  closure.next()
  return seen
}

export const goschedSuite: Suite = {
  name: 'gosched',
  description: `Gosched round trip of two goroutines on one M (procs 1), ${K.toLocaleString('en-US')} rounds per sample; ratio to plain generators`,
  async run() {
    const rt = await Runtime.start({ procs: 1, modules: [new URL('../goroutines.js', import.meta.url)] })
    try {
      const rows = await runRounds(
        [
          {
            name: 'plain generators: .next() loop, same bodies',
            ops: K,
            fn: async () => {
              if (plainPingpong(K) !== K) throw new Error('gosched: plain pingpong lost a turn')
            },
          },
          {
            name: 'gort: yield* gosched() round trip, timed on the M',
            ops: K,
            baseline: 'plain generators: .next() loop, same bodies',
            target: 200,
            fn: () => rt.run(bench.pingpong, K),
          },
          {
            name: 'gort: the same, timed from the host (+ spawn, wake-up, result)',
            ops: K,
            baseline: 'plain generators: .next() loop, same bodies',
            fn: async () => {
              await rt.run(bench.pingpong, K)
            },
          },
        ],
        { samples: 5, warmup: 3 },
      )
      return {
        suite: 'gosched',
        rows,
        notes: [`one op = one round trip (two switches); ${K.toLocaleString('en-US')} per sample; procs 1`],
      }
    } finally {
      await rt.close()
    }
  },
}
