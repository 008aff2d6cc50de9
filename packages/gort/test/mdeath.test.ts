// A worker that dies: its P is handed on, its unstarted goroutines run
// elsewhere, the goroutines that lived on it fail with an Error naming the
// M and the cause, and a new M replaces it (issue 5).

import test from 'ava'
import { chan, type Runtime } from 'gort'
import { hogs } from './fixtures/hogs.js'
import { withRuntime } from './helpers.js'

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

async function deathScenario(t: import('ava').ExecutionContext, rt: Runtime, kill: () => Promise<unknown>, cause: RegExp): Promise<void> {
  const reports: string[] = []
  rt.on('error', (e: Error) => reports.push(e.message))
  const msBefore = rt.stats().ms.length
  // One step each: none lives on an M between steps, so none can be lost with
  // the dying M (goroutines parked or preempted on it are, by design).
  const others = Array.from({ length: 1000 }, (_, i) => rt.run(hogs.compute, i))
  const parked = chan<number>(0)
  // A goroutine parked on a channel the app will send on later: whichever M it lives on, the send must find a live receiver.
  const survivor = rt.run(hogs.waitRecv, parked)
  const err = await t.throwsAsync(kill())
  t.regex(err!.message, /^gort: goroutine \d+ was lost: M\d+, the thread it lived on, died: /)
  t.regex(err!.message, cause)
  t.deepEqual(await Promise.all(others), Array.from({ length: 1000 }, (_, i) => i), 'the 1,000 others all finished')
  t.true(await until(() => rt.stats().ms.length > msBefore, 10_000), 'a new M was started')
  const dead = rt.stats().ms.filter((m) => m.state === 'dead')
  t.is(dead.length, 1)
  t.true(reports.some((r) => r.startsWith(`gort: M${dead[0].id} died: `)), reports.join('\n'))
  // The runtime goes on: new goroutines run, the parked one can still be reached or was lost with its M.
  t.deepEqual(await Promise.all([rt.run(hogs.work, 7), rt.run(hogs.work, 8)]), [7, 8])
  const s = await Promise.race([
    parked.send(1).then(() => survivor).then(() => 'received'),
    survivor.then(() => 'received', (e: Error) => `lost: ${e.message}`),
  ])
  t.log(`the parked goroutine: ${s}`)
  if (s !== 'received') t.regex(s, /was lost: M\d+/)
}

test.serial('a goroutine calls process.exit(1) in its M while 1,000 others run: they finish, it fails naming the cause, a new M appears', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    await deathScenario(t, rt, () => rt.run(hogs.exitThread, 1), /the thread exited with code 1/)
  })
})

test.serial('an M killed by running out of memory under resourceLimits: the same recovery', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    await deathScenario(t, rt, () => rt.run(hogs.oom), /out of memory|ERR_WORKER_OUT_OF_MEMORY/i)
  }, { resourceLimits: { maxOldGenerationSizeMb: 48 } })
})
