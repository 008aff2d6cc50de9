// gort/bench: Go's b.RunParallel for tinybench (issue 6).

import test from 'ava'
import { chan } from 'gort'
import { parallel } from 'gort/bench'
import { bodies } from './fixtures/parallel.js'
import { withRuntime } from './helpers.js'

test.serial('parallel(): the iterations are shared by procs × parallelism goroutines on every P, each run exactly once', async (t) => {
  await withRuntime(t, 2, 60_000, async (rt) => {
    const out = chan<[number, number]>(16)
    const iterations = 1_000_003
    const run = parallel(rt, bodies.count, { iterations, args: [out], parallelism: 2 })
    for (let round = 0; round < 3; round++) {
      await run()
      const got: Array<[number, number]> = []
      for (let i = 0; i < 4; i++) got.push((await out.recv())!)
      t.is(got.reduce((a, [n]) => a + n, 0), iterations, `round ${round}: every iteration ran exactly once`)
      t.log(`round ${round}: iterations per goroutine ${got.map(([n]) => n).join(' ')}; threads ${new Set(got.map(([, th]) => th)).size}`)
    }
  })
})

test.serial('parallel(): bad options are RangeErrors naming the option', async (t) => {
  await withRuntime(t, 1, 10_000, async (rt) => {
    const out = chan<[number, number]>(1)
    t.throws(() => parallel(rt, bodies.count, { iterations: 0, args: [out] }), { instanceOf: RangeError, message: /iterations/ })
    t.throws(() => parallel(rt, bodies.count, { iterations: 10, args: [out], parallelism: 0 }), { instanceOf: RangeError, message: /parallelism/ })
  })
})
