// A worker that dies: its P is handed on, its unstarted goroutines run
// elsewhere, the goroutines that lived on it fail with an Error naming the
// M and the cause, and a new M replaces it (issue 5).

import test from 'ava'
import { chan, select, ThreadLostError, type Chan, type Runtime } from 'gort'
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

/**
 * Kills an M while 1,000 one-step goroutines run, with two goroutines parked
 * on channels whose fate is known in advance: a survivor parked on another
 * M, which must still receive, and a closure parked on the dying M, which
 * must be lost with it (its wait withdrawn, so a send finds no receiver).
 * kill(avoid, token, lost) runs a killer goroutine; four run together per
 * try, so that they land on every M. One that lands on thread `avoid` (the
 * survivor's M), or finds the one `token` taken, returns false without
 * killing; the one that takes it kills its M.
 */
async function deathScenario(
  t: import('ava').ExecutionContext,
  rt: Runtime,
  kill: (avoid: number, token: Chan<number>, lost: Chan<number>) => Promise<boolean>,
  cause: RegExp,
): Promise<void> {
  const reports: string[] = []
  rt.on('error', (e: Error) => reports.push(e.message))
  const threadsBefore = new Map(rt.stats().ms.map((m) => [m.id, m.threadId]))
  // One step each: none lives on an M between steps, so none can be lost with
  // the dying M (goroutines parked or preempted on it are, by design).
  const others = Array.from({ length: 1000 }, (_, i) => rt.run(hogs.compute, i))
  // The survivor: parked on a channel the app sends on later, on an M it reports.
  const where = chan<number>(1)
  const parked = chan<number>(0)
  const survivor = rt.run(hogs.waitRecvWhere, where, parked)
  const survivorThread = (await where.recv())!
  const lost = chan<number>(0)
  let err: Error | undefined
  let tries = 0
  while (err === undefined) {
    t.true(++tries <= 30, 'no killer landed off the survivor\'s M in 30 tries')
    if (tries > 30) return
    const token = chan<number>(1)
    await token.send(1)
    const killers = await Promise.allSettled(Array.from({ length: 4 }, () => kill(survivorThread, token, lost)))
    for (const k of killers) {
      if (k.status === 'rejected') err = k.reason as Error
      else t.is(k.value, false, 'a killer returns only when it did not kill')
    }
    t.true(killers.filter((k) => k.status === 'rejected').length <= 1, 'at most one killer killed')
  }
  t.log(`${tries} round(s) of four killers to land one on another M than the survivor's (thread ${survivorThread})`)
  t.regex(err.message, /^gort: goroutine \d+ was lost: M\d+, the thread it lived on, died: /)
  t.true(err instanceof ThreadLostError && err.name === 'ThreadLostError', 'recognisable: gort\'s ThreadLostError')
  t.true((err as ThreadLostError).cause instanceof Error, 'what ended the thread is its cause')
  t.regex(err.message, cause)
  t.deepEqual(await Promise.all(others), Array.from({ length: 1000 }, (_, i) => i), 'the 1,000 others all finished')
  // A new M takes the dead one's place, in its record (newm.ts reuses a dead M's id).
  const deadId = Number(/was lost: M(\d+),/.exec(err.message)![1])
  const replaced = (): boolean => {
    const m = rt.stats().ms.find((x) => x.id === deadId)
    return m !== undefined && m.state !== 'dead' && m.threadId > 0 && m.threadId !== threadsBefore.get(deadId)
  }
  t.true(await until(replaced, 10_000), `a new M was started in M${deadId}'s record: ${JSON.stringify(rt.stats().ms)}`)
  t.true(reports.some((r) => r.startsWith(`gort: M${deadId} died: `)), reports.join('\n'))
  // The runtime goes on: new goroutines run.
  t.deepEqual(await Promise.all([rt.run(hogs.work, 7), rt.run(hogs.work, 8)]), [7, 8])
  // The closure lived on the dead M: its receive was withdrawn, so nobody takes a send.
  t.is((await select([lost.sendCase(1)], { default: true })).index, -1, 'the closure on the dead M is gone')
  // The survivor lived on another M: it receives.
  await parked.send(5)
  t.is(await survivor, 5, 'the survivor on another M received')
}

test.serial('a goroutine calls process.exit(1) in its M while 1,000 others run: they finish, it fails naming the cause, a new M takes its place', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    await deathScenario(t, rt, (avoid, token, lost) => rt.run(hogs.exitThreadAway, avoid, token, 1, lost), /the thread exited with code 1/)
  })
})

test.serial('an M killed by running out of memory under resourceLimits: the same recovery', async (t) => {
  await withRuntime(t, 2, 20_000, async (rt) => {
    await deathScenario(t, rt, (avoid, token, lost) => rt.run(hogs.oomAway, avoid, token, lost), /out of memory|ERR_WORKER_OUT_OF_MEMORY/i)
  }, { resourceLimits: { maxOldGenerationSizeMb: 48 } })
})
