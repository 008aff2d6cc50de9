// sysmon's latency promises, measured on the clock: preemption, retaking a
// P from a goroutine that never yields, and from a blocking syscall. They
// run after the other test files, alone (ava.timing.config.js), so that a
// busy machine shared with a dozen other test workers does not decide them.

import test from 'ava'
import { chan, type Runtime } from 'gort'
import { hogs } from '../fixtures/hogs.js'
import { withRuntime } from '../helpers.js'

// Every M imports the goroutine module at start: a first use on the spare M
// that takes the P would otherwise cost an import (tens of ms) in the middle
// of what is measured.
const modules = [new URL('../fixtures/hogs.js', import.meta.url)]

// These are sysmon's promises in a runtime that has been at work: sysmon
// watching and a spare M up. A runtime starts with neither (they start with
// the first work, docs/design/scheduler.md "Starting"), and the first
// hand-off of a fresh runtime waits for an M's boot, which is not what is
// measured here. So the runtime starts procs + 1 Ms (minThreads), as it did
// by default before, and each test waits for every M and for sysmon first.
const opts = { modules, minThreads: 2 }

async function warm(rt: Runtime): Promise<void> {
  await rt.ready
  await rt.sysmonView()
}

test.serial('Go\'s TestPreemption: two goroutines that only yield alternate on procs = 1', async (t) => {
  await withRuntime(t, 1, 30_000, async (rt) => {
    await warm(rt)
    const [a, b] = await Promise.all([rt.run(hogs.yielder, 300), rt.run(hogs.yielder, 300)])
    t.log(`a resumed after a gap ${a.gaps.length} times, b ${b.gaps.length} times; preemptions ${rt.stats().sysmon.preemptions}`)
    t.true(a.start < b.end && b.start < a.end, 'their runs overlap in time: neither ran to the end first')
    t.true(a.gaps.length >= 3 && b.gaps.length >= 3, 'each was preempted and resumed several times')
  }, opts)
})

test.serial('a goroutine that never yields for 2 s on procs = 1 loses its P: goroutines spawned meanwhile and those queued on its P all run', async (t) => {
  await withRuntime(t, 1, 60_000, async (rt) => {
    await warm(rt)
    const queued = 20
    const ran = chan<number>(queued)
    const hog = rt.run(hogs.hog, queued, 2000, ran)
    // Let the hog start its loop.
    await new Promise((r) => setTimeout(r, 30))
    const lags: Array<[at: number, lag: number]> = []
    const spawned: Array<Promise<void>> = []
    const t0 = performance.timeOrigin + performance.now()
    while (performance.timeOrigin + performance.now() - t0 < 1800) {
      const at = performance.timeOrigin + performance.now()
      spawned.push(rt.run(hogs.stamp).then((started) => { lags.push([at, started - at]) }))
      await new Promise((r) => setTimeout(r, 10))
    }
    await Promise.all(spawned)
    const children: number[] = []
    for (let i = 0; i < queued; i++) children.push((await ran.recv())!)
    const [h0, h1] = await hog
    // The measure: spawns from 30 ms after the hog's loop began.
    const after = lags.filter(([at]) => at >= h0 + 30).map(([, lag]) => lag).sort((x, y) => x - y)
    t.log(`${after.length} goroutines spawned while the hog ran: lag median ${after[after.length >> 1].toFixed(1)} ms, ` +
      `max ${after[after.length - 1].toFixed(1)} ms; retakes ${rt.stats().sysmon.retakesRunaway}`)
    t.true(h1 - h0 >= 1990, 'the hog really held its thread for 2 s')
    t.true(after.length >= 100, `${after.length} spawned`)
    t.true(after.every((x) => x < 50), 'each started within 50 ms of its spawn')
    t.true(children.every((c) => c < h1), 'the goroutines queued on the hog\'s P ran before it ended')
    t.true(rt.stats().sysmon.retakesRunaway >= 1, 'sysmon retook the P')
  }, opts)
})

test.serial('a syscall that blocks its thread for 200 ms on procs = 1 does not stop other goroutines', async (t) => {
  await withRuntime(t, 1, 30_000, async (rt) => {
    await warm(rt)
    const blocked = rt.run(hogs.block, 200)
    await new Promise((r) => setTimeout(r, 30))
    const stamps = await Promise.all(Array.from({ length: 50 }, () => rt.run(hogs.stamp)))
    const [t0, t1] = await blocked
    t.true(t1 - t0 >= 190, 'the call blocked its thread')
    t.true(stamps.every((s) => s < t1), 'every other goroutine ran while the call blocked')
    t.true(rt.stats().sysmon.retakesSyscall >= 1, 'sysmon took the P from the syscall')
  }, opts)
})

test.serial('a call that blocks its thread for 300 ms without syscall() on procs = 1 loses its P: other goroutines run meanwhile', async (t) => {
  // The runaway rule does not count the time a thread waits for a core
  // (rundelay.ts), but it must count the time it is blocked.
  await withRuntime(t, 1, 30_000, async (rt) => {
    await warm(rt)
    const blocked = rt.run(hogs.blockUnannounced, 300)
    await new Promise((r) => setTimeout(r, 30))
    const stamps = await Promise.all(Array.from({ length: 50 }, () => rt.run(hogs.stamp)))
    const [t0, t1] = await blocked
    t.true(t1 - t0 >= 290, 'the call blocked its thread')
    t.true(stamps.every((s) => s < t1), 'every other goroutine ran while the call blocked')
    t.true(rt.stats().sysmon.retakesRunaway >= 1, 'sysmon took the P from the blocked step')
  }, opts)
})

test.serial('two goroutines that only hand off to each other on procs = 1 do not starve the others (sysmon\'s preemption ends their shared time slice)', async (t) => {
  await withRuntime(t, 1, 30_000, async (rt) => {
    await warm(rt)
    const pair = rt.run(hogs.pingPong, 1000)
    await new Promise((r) => setTimeout(r, 50))
    const lags: number[] = []
    for (let i = 0; i < 20; i++) {
      const at = performance.timeOrigin + performance.now()
      lags.push((await rt.run(hogs.stamp)) - at)
      await new Promise((r) => setTimeout(r, 20))
    }
    const rounds = await pair
    lags.sort((a, b) => a - b)
    t.log(`${rounds} round trips; spawn-to-start lags: median ${lags[10].toFixed(1)} ms, max ${lags[19].toFixed(1)} ms`)
    t.true(lags[19] < 50, 'every goroutine spawned during the ping-pong started within 50 ms')
    t.true(rounds > 1000, 'the ping-pong went on meanwhile')
  }, opts)
})
