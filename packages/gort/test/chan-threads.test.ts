// Channels across Ms and the app's thread: handles as arguments, the prime
// sieve over the Ms, a worker pool fed by the app, ping-pong between Ms.

import test from 'ava'
import { Runtime, chan } from 'gort'
import { sieve } from './fixtures/sieve.js'

function firstPrimes(n: number): number[] {
  const out: number[] = []
  for (let k = 2; out.length < n; k++) if (out.every((p) => k % p !== 0)) out.push(k)
  return out
}

async function watchdog<T>(rt: Runtime, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`watchdog: stuck after ${ms} ms; state: ${JSON.stringify(rt.stats())}`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

for (const procs of [1, 2]) {
  test.serial(`the concurrent prime sieve gives the first 1,000 primes (procs ${procs})`, async (t) => {
    const rt = await Runtime.start({ procs })
    try {
      const result = chan<number>(16)
      void rt.run(sieve.primes, 1000, result)
      const got: number[] = []
      await watchdog(rt, 120_000, (async () => {
        for await (const p of result) got.push(p)
      })())
      t.deepEqual(got, firstPrimes(1000))
      if (procs > 1) t.true(rt.stats().ms.filter((m) => m.started > 10).length >= 2, `filters on one M only: ${JSON.stringify(rt.stats().ms)}`)
    } finally {
      const { left } = await rt.close()
      t.is(left, 0, 'the sieve tore itself down')
    }
  })
}

test.serial('the app and a pool of worker goroutines share channels: every job exactly once', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const jobs = chan<number>(64)
    const results = chan<[number, number]>(64)
    const workers = Array.from({ length: 8 }, () => rt.run(sieve.worker, jobs, results))
    const n = 20_000
    const seen = new Uint8Array(n)
    const threads = new Set<number>()
    const reader = (async () => {
      for (let i = 0; i < n; i++) {
        const [v, tid] = (await results.recv())!
        seen[v / 2]++
        threads.add(tid)
      }
    })()
    for (let i = 0; i < n; i++) await jobs.send(i)
    jobs.close()
    await watchdog(rt, 60_000, reader)
    const counts = await Promise.all(workers)
    t.is(counts.reduce((a, b) => a + b, 0), n)
    t.is(seen.filter((c) => c === 1).length, n, 'each job once')
    t.log(`threads that ran workers: ${threads.size}`)
  } finally {
    await rt.close()
  }
})

test.serial('ping-pong between goroutines that may live on different Ms', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const a = chan<number>()
    const b = chan<number>()
    void rt.run(sieve.ponger, a, b)
    t.is(await watchdog(rt, 60_000, rt.run(sieve.pinger, a, b, 20_000)), 20_000)
  } finally {
    await rt.close()
  }
})
