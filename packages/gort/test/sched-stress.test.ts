// Stress: a seeded mix of every scheduling path (spawns from the host and
// from goroutines, Gosched, safe points, promises, timers, blocking calls,
// local closures) at procs 1, 2 and 3. Every goroutine the host spawned
// must report exactly once, everything spawned inside must finish, and a
// watchdog dumps the scheduler's state instead of hanging.

import test from 'ava'
import { Runtime } from 'gort'
import { mix } from './fixtures/mix.js'
import { seeded } from './helpers.js'

for (const procs of [1, 2, 3]) {
  test.serial(`mixed workload at procs ${procs}: every goroutine exactly once, nothing left behind`, async (t) => {
    const rnd = seeded(t)
    const rt = await Runtime.start({ procs })
    const n = 3000
    const seen = new Uint8Array(n)
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const all = Promise.all(
        Array.from({ length: n }, (_, i) =>
          rt.run(mix.leaf, i, rnd.next(), 1 + rnd.n(40)).then((id) => {
            seen[id]++
          })),
      )
      const watchdog = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`watchdog: stuck after 60 s; state: ${JSON.stringify(rt.stats())}`)), 60_000)
      })
      await Promise.race([all, watchdog])
      const t0 = Date.now()
      while (rt.numGoroutine() > 0) {
        if (Date.now() - t0 > 30_000) throw new Error(`watchdog: ${rt.numGoroutine()} goroutines left; state: ${JSON.stringify(rt.stats())}`)
        await new Promise((r) => setTimeout(r, 5))
      }
      t.is(seen.filter((c) => c === 1).length, n, 'each host-spawned goroutine reported exactly once')
      const stats = rt.stats()
      t.log(`goroutines started per M: ${stats.ms.map((m) => m.started).join(' ')}`)
      t.true(stats.ms.reduce((a, m) => a + m.started, 0) >= n)
    } finally {
      clearTimeout(timer)
      t.deepEqual(await rt.close(), { left: 0 })
    }
  })
}
