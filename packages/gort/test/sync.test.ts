// sync: WaitGroup inside goroutines, across Ms and on the app's thread.

import test from 'ava'
import { Runtime, WaitGroup, chan } from 'gort'
import { syncs } from './fixtures/syncs.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

test.serial('Go\'s TestWaitGroup', async (t) => {
  t.is(await rt.run(syncs.testWaitGroup, 16), '')
})

test.serial('Go\'s TestWaitGroupMisuse: "sync: negative WaitGroup counter"', async (t) => {
  t.is(await rt.run(syncs.misuse), 'sync: negative WaitGroup counter')
  const wg = new WaitGroup()
  t.throws(() => wg.done(), { message: 'sync: negative WaitGroup counter' })
  t.throws(() => wg.add(1.5), { instanceOf: TypeError })
})

test.serial('a WaitGroup made by the app, passed to goroutines on any M, awaited by the app', async (t) => {
  const n = 200
  const wg = new WaitGroup()
  const out = chan<number>(n)
  wg.add(n)
  for (let i = 0; i < n; i++) rt.go(syncs.part, wg, out, i)
  await wg.wait()
  t.is(wg.count(), 0)
  t.is(out.len(), n)
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) seen.add((await out.recv())!)
  t.is(seen.size, n)
  await wg.wait() // zero: returns at once
})
