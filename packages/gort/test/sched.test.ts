// The scheduler across real worker threads: spawning from the host, results,
// distribution over Ms, fairness between started and unstarted goroutines,
// local closures, nested spawns, until() with real I/O, syscall().

import test from 'ava'
import { fileURLToPath } from 'node:url'
import { Runtime } from 'gort'
import { tasks } from './fixtures/tasks.js'

const waitFor = async (cond: () => boolean, ms: number, what: string, dump: () => unknown): Promise<void> => {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`watchdog: ${what} after ${ms} ms; state: ${JSON.stringify(dump())}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Runs fn, failing with the runtime's state instead of hanging. */
async function watchdog<T>(rt: Runtime, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const fired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: no result after ${ms} ms; state: ${JSON.stringify(rt.stats())}`)), ms)
  })
  try {
    return await Promise.race([fn(), fired])
  } finally {
    clearTimeout(timer)
  }
}

for (const procs of [1, 2, 4]) {
  test.serial(`100,000 goroutines from the host complete exactly once with the right results at procs ${procs}`, async (t) => {
    const rt = await Runtime.start({ procs })
    try {
      const n = 100_000
      const seen = new Uint8Array(n)
      const ids = new Set<number>()
      const all: Array<Promise<void>> = []
      for (let i = 0; i < n; i++) {
        const g = rt.go(tasks.inc, i)
        ids.add(g.id)
        all.push(g.result.then((v) => {
          seen[v - 1]++
        }))
      }
      await watchdog(rt, 60_000, () => Promise.all(all))
      t.is(ids.size, n, 'goroutine ids are unique')
      t.is(seen.reduce((a, b) => a + (b === 1 ? 1 : 0), 0), n, 'every result arrived exactly once')
      t.is(rt.numGoroutine(), 0)
    } finally {
      t.deepEqual(await rt.close(), { left: 0 })
    }
  })
}

test.serial('one goroutine spawns 10,000 CPU-bound goroutines at procs 2: both Ms run some (stealing)', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    t.is(await rt.run(tasks.spawnCpu, 10_000, 20_000), 10_000)
    await waitFor(() => rt.numGoroutine() === 0, 60_000, 'goroutines still alive', () => rt.stats())
    const started = rt.stats().ms.map((m) => m.started)
    t.log(`goroutines started per M: ${started.join(' ')}`)
    t.is(started.reduce((a, b) => a + b, 0), 10_001)
    t.true(started.filter((s) => s >= 100).length >= 2, 'at least two Ms ran a share')
  } finally {
    await rt.close()
  }
})

test.serial('goroutines report the worker thread they ran on; the host is not one of them', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const ids = await Promise.all(Array.from({ length: 200 }, () => rt.run(tasks.thread)))
    const workers = new Set(rt.stats().ms.map((m) => m.threadId))
    t.true(ids.every((id) => workers.has(id)))
  } finally {
    await rt.close()
  }
})

test.serial('fairness: a ping-pong pair does not keep 100 unstarted goroutines from starting (procs 1)', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    const pair = rt.run(tasks.pingpong, 10_000)
    const starts = Array.from({ length: 100 }, () => rt.run(tasks.startedAt))
    const [end, ...begun] = await watchdog(rt, 60_000, () => Promise.all([pair, ...starts]))
    const late = begun.filter((s) => s > end).length
    t.is(late, 0, `${late} of 100 goroutines started only after the pair's 10,000 rounds`)
  } finally {
    await rt.close()
  }
})

test.serial('a local closure captures variables and runs on the spawning M', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    t.is(await rt.run(tasks.closure, 100), 5050)
  } finally {
    await rt.close()
  }
})

test.serial('recursion with yield* and goroutines spawning goroutines to depth 3', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    t.is(await rt.run(tasks.fib, 20), 6765)
    const ids = await rt.run(tasks.tree, 3, 4)
    t.is(ids.length, 4)
    await waitFor(() => rt.numGoroutine() === 0, 30_000, 'tree still alive', () => rt.stats())
    // 1 root + 4 + 16 + 64
    t.is(rt.stats().ms.reduce((a, m) => a + m.started, 0), 1 + 4 + 16 + 64 + 1 /* fib */)
  } finally {
    await rt.close()
  }
})

test.serial('until(): real file I/O and a timer while other goroutines keep running', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    const self = fileURLToPath(import.meta.url)
    const [len, spins] = await watchdog(rt, 30_000, () => rt.run(tasks.io, self))
    const { readFileSync } = await import('node:fs')
    t.is(len, readFileSync(self, 'utf8').length)
    t.true(spins > 10, `the other goroutine ran ${spins} times while the first waited`)
    t.is(await rt.run(tasks.ioError), 'ENOENT')
  } finally {
    await rt.close()
  }
})

test.serial('syscall(): a real blocking call hands the P on; other goroutines finish meanwhile (procs 1)', async (t) => {
  // No spare M is up at the start: the call asks for one (entersyscall)
  // and sysmon hands the P to it. No clock: the call blocks its thread
  // until the other goroutines have all run, which they can only do on
  // another M while it blocks.
  const rt = await Runtime.start({ procs: 1 })
  try {
    const n = 50
    const word = new Int32Array(new SharedArrayBuffer(4))
    const blocked = rt.run(tasks.blockUntil, word, n)
    await watchdog(rt, 30_000, async () => {
      while (rt.stats().byStatus.syscall === 0) await new Promise((r) => setTimeout(r, 5))
    })
    const others = await watchdog(rt, 30_000, () => Promise.all(Array.from({ length: n }, () => rt.run(tasks.arrive, word, n))))
    t.true(others.every((waiting) => waiting), 'every other goroutine ran while the call blocked')
    t.is(await watchdog(rt, 30_000, () => blocked), 'ok', 'the call returned once they had')
    t.is(await rt.run(tasks.syscallThrows), 'inside')
  } finally {
    await rt.close()
  }
})
