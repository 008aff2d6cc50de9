// One failure mode per call, and arguments that wait for arena space (issue
// 12, contract item 10; docs/design/errors.md): a promise-returning call
// rejects for a bad value instead of throwing; a burst of large arguments
// waits for space as goroutines start instead of failing; only a value that
// can never fit fails, with a RangeError naming heapSize.

import test from 'ava'
import { Runtime, chan } from 'gort'
import { bigargs, patternByte } from './fixtures/bigargs.js'
import { tasks } from './fixtures/tasks.js'
import { seeded, withWatchdog } from './helpers.js'

const MB = 1 << 20

test.serial('rt.run rejects, never throws, for an argument that cannot cross threads; rt.go throws it at the call site', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    for (const v of [() => 1, Symbol('s'), { f: () => 1 }]) {
      let p: Promise<unknown> | undefined
      t.notThrows(() => {
        p = rt.run(tasks.echo, v)
      })
      const e = await p!.then(() => undefined, (x: unknown) => x)
      t.true(e instanceof DOMException && e.name === 'DataCloneError', String(e))
      t.regex((e as DOMException).message, /^argument 0: /)
      let thrown: unknown
      try {
        rt.go(tasks.echo, v)
      } catch (x) {
        thrown = x
      }
      t.is((thrown as DOMException | undefined)?.name, 'DataCloneError', 'rt.go throws at the call site')
    }
    // The app's channel send is a promise too: it rejects.
    const c = chan<unknown>(1)
    let sent: Promise<void> | undefined
    t.notThrows(() => {
      sent = c.send(() => 1) as unknown as Promise<void>
    })
    t.is(await sent!.then(() => '', (x: unknown) => (x as DOMException).name), 'DataCloneError')
    t.is(c.len(), 0)
    t.is(await rt.run(tasks.inc, 1), 2, 'the runtime goes on')
    t.is(rt.numGoroutine(), 0)
  } finally {
    await rt.close()
  }
})

test.serial('a value larger than the heap rejects rt.run with a RangeError naming heapSize (rt.go and go() on an M throw it)', async (t) => {
  const heapSize = 4 * MB
  const rt = await Runtime.start({ procs: 1, heapSize })
  try {
    const huge = new Uint8Array(5 * MB)
    await t.throwsAsync(rt.run(bigargs.check, 0, 0, huge), { instanceOf: RangeError, message: /more than it can ever hold \(heapSize is 4194304 bytes\); raise the heapSize option/ })
    t.throws(() => rt.go(bigargs.check, 0, 0, huge), { instanceOf: RangeError, message: /heapSize/ })
    const [name, message] = await rt.run(bigargs.goBig, 3 * MB)
    t.is(name, 'RangeError')
    t.regex(message, /heapSize/)
    t.is(rt.numGoroutine(), 0, 'nothing left waiting')
  } finally {
    await rt.close()
  }
})

test.serial('100 concurrent rt.run with 0.5-1 MB arguments on a heap that holds about 10: every one runs, exactly once', async (t) => {
  const rand = seeded(t)
  const rt = await Runtime.start({ procs: 2, heapSize: 11 * MB })
  try {
    await withWatchdog(t, 60_000, () => JSON.stringify({ stats: rt.stats(), alive: rt.numGoroutine() }), () => [], async () => {
      const pattern = Uint8Array.from({ length: 2 * MB }, (_, j) => patternByte(j))
      const sizes = Array.from({ length: 100 }, () => MB / 2 + rand.n(MB / 2 + 1))
      const offs = sizes.map(() => rand.n(MB))
      let peak = 0
      const runs = sizes.map((n, i) => {
        // Small spawns in between need no arena block and never wait.
        const small = i % 10 === 0 ? rt.run(tasks.inc, i) : undefined
        const r = rt.run(bigargs.check, i, offs[i], pattern.subarray(offs[i], offs[i] + n))
        peak = Math.max(peak, rt.numGoroutine())
        return Promise.all([r, small])
      })
      const results = await Promise.all(runs)
      const seen = new Map<number, number>()
      for (const [[i, n], small] of results) {
        t.is(seen.has(i), false, `goroutine ${i} ran once`)
        seen.set(i, n)
        if (i % 10 === 0) t.is(small, i + 1)
      }
      t.is(seen.size, 100)
      for (let i = 0; i < 100; i++) t.is(seen.get(i), sizes[i], `argument ${i} arrived whole`)
      t.log(`${sizes.reduce((a, b) => a + b, 0) >> 20} MB of arguments through an 11 MB heap; ${peak} spawns alive at the peak`)
      t.true(peak > 20, 'the spawns were all accepted at once, more than the heap holds')
    })
  } finally {
    await rt.close()
  }
})

test.serial('a spawn waiting for space fails with a RangeError when nothing running could free any, and the heap is usable after', async (t) => {
  const rt = await Runtime.start({ procs: 1, heapSize: 4 * MB })
  try {
    // The app holds most of the heap in a channel's buffer; no goroutine runs.
    const c = chan<Uint8Array>(3)
    for (let i = 0; i < 3; i++) await c.send(new Uint8Array(MB))
    const t0 = performance.now()
    await t.throwsAsync(rt.run(bigargs.check, 0, 0, new Uint8Array(2 * MB)), {
      instanceOf: RangeError, message: /no room for the arguments .*heapSize is 4194304 bytes.* no goroutine is running that could free any/,
    })
    t.true(performance.now() - t0 >= 400, 'it waited for a free first')
    for (let i = 0; i < 3; i++) await c.recv()
    t.deepEqual(await rt.run(bigargs.check, 1, 0, Uint8Array.from({ length: 2 * MB }, (_, j) => patternByte(j))), [1, 2 * MB])
  } finally {
    await rt.close()
  }
})

test.serial('spawns waiting for space when the runtime is destroyed reject', async (t) => {
  const rt = await Runtime.start({ procs: 1, heapSize: 4 * MB })
  const c = chan<Uint8Array>(3)
  for (let i = 0; i < 3; i++) await c.send(new Uint8Array(MB))
  const waiting = [rt.run(bigargs.check, 0, 0, new Uint8Array(2 * MB)), rt.go(bigargs.check, 1, 0, new Uint8Array(2 * MB)).result]
  t.is(rt.numGoroutine(), 2)
  await rt.destroy()
  for (const w of waiting) await t.throwsAsync(w, { message: /destroyed|closed/ })
})
