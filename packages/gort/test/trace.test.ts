// The execution tracer (docs/trace.md): a real program across Ms, traced,
// checked structurally. No timing is asserted: only the trace's shape (lanes,
// slices that never overlap on a P, flows from creation and unblocking to the
// next run, counters equal to rt.stats()), and the summary's counts.

import test from 'ava'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Runtime, Mutex, chan, type ChromeTrace, type TraceEvent } from 'gort'
import { summarize, formatSummary } from 'gort/internal'
import { traced } from './fixtures/traced.js'

/** Runs fn, failing with the runtime's state instead of hanging. */
async function watchdog<T>(rt: Runtime, ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const fired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: ${what} after ${ms} ms; state: ${JSON.stringify(rt.stats())}\n${rt.dump()}`)), ms)
  })
  try {
    return await Promise.race([fn(), fired])
  } finally {
    clearTimeout(timer)
  }
}

async function quiet(rt: Runtime): Promise<void> {
  await watchdog(rt, 60_000, 'goroutines still alive', async () => {
    while (rt.numGoroutine() !== 0) await new Promise((r) => setTimeout(r, 5))
  })
}

const PRIMES = 30
const ROUNDS = 300

test.serial('a traced program across Ms: well-formed Chrome JSON, lanes, slices, flows, counters, summary', async (t) => {
  const rt = await Runtime.start({ procs: 2, modules: [new URL('./fixtures/traced.js', import.meta.url)] })
  const dir = mkdtempSync(join(tmpdir(), 'gort-trace-'))
  try {
    await t.throwsAsync(() => rt.trace.stop(), { instanceOf: Error, message: /no trace is being recorded/ })
    rt.trace.start()
    t.true(rt.trace.recording)
    t.throws(() => rt.trace.start(), { instanceOf: Error, message: /already being recorded/ })
    const mu = new Mutex()
    const gs = [
      rt.go(traced.pipeline, PRIMES),
      rt.go(traced.pingpong, ROUNDS),
      rt.go(traced.spin, 30),
      rt.go(traced.spin, 30),
      rt.go(traced.sleeper, 2),
      rt.go(traced.locker, mu, 20),
      rt.go(traced.locker, mu, 20),
    ]
    const results = await watchdog(rt, 60_000, 'traced program did not finish', () => Promise.all(gs.map((g) => g.result)))
    t.deepEqual((results[0] as number[]).slice(0, 5), [2, 3, 5, 7, 11])
    t.is(results[1], ROUNDS)
    await quiet(rt)
    const stats = rt.stats()
    const file = join(dir, 'out.json')
    const trace = await rt.trace.stop({ file })
    t.false(rt.trace.recording)

    // Well-formed: the file is the same JSON, every event has its fields.
    const fromFile = JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace
    t.deepEqual(fromFile, JSON.parse(JSON.stringify(trace)))
    t.is(trace.gort.dropped, 0)
    for (const e of trace.traceEvents) {
      t.true(typeof e.name === 'string' && typeof e.ph === 'string' && Number.isFinite(e.ts) && e.ts >= 0 && e.ts <= trace.gort.durationUs && e.pid === 1 && Number.isInteger(e.tid), JSON.stringify(e))
    }
    const ev = trace.traceEvents
    const laneNames = new Map(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]))
    t.is(laneNames.get(1), 'P0')
    t.is(laneNames.get(2), 'P1')
    const mLanes = [...laneNames].filter(([, n]) => /^M\d+ \(thread \d+\)$/.test(n))
    t.true(mLanes.length >= 1, 'a lane per M')

    // Slices: on each P's lane they never overlap.
    const slices = ev.filter((e) => e.ph === 'X' && e.cat === 'goroutine')
    for (let p = 0; p < 2; p++) {
      const lane = slices.filter((e) => e.tid === 1 + p).sort((a, b) => a.ts - b.ts)
      for (let i = 1; i < lane.length; i++) {
        t.true(lane[i - 1].ts + lane[i - 1].dur! <= lane[i].ts, `P${p}: ${JSON.stringify(lane[i - 1])} overlaps ${JSON.stringify(lane[i])}`)
      }
    }
    // Every slice is on a P lane and on an M lane, named "G<id> <function>".
    const pSlices = slices.filter((e) => e.tid <= 2)
    t.is(pSlices.length * 2, slices.length, 'no retakes here: each slice on a P lane and an M lane')
    for (const e of slices) t.regex(e.name, /^G\d+ \w+$/)

    // Every goroutine that ran has a slice; the app's goroutines among them.
    const ran = new Set(pSlices.map((e) => (e.args as { goid: number }).goid))
    for (const g of gs) t.true(ran.has(g.id), `G${g.id} has a slice`)
    for (const g of trace.gort.goroutines) t.is(ran.has(g.goid), g.runs > 0, `G${g.goid} ${g.fn}`)
    for (const g of trace.gort.goroutines) t.true(g.created && g.ended, `G${g.goid} ${g.fn} created and ended in the trace`)

    // Flows: each finish has its one start, no later; creation flows end at the goroutine's first run.
    const starts = new Map<number, TraceEvent>()
    for (const e of ev.filter((x) => x.ph === 's')) {
      t.false(starts.has(e.id!), `flow ${e.id} starts once`)
      starts.set(e.id!, e)
    }
    const firstRun = new Map<number, TraceEvent>()
    for (const e of pSlices.slice().sort((a, b) => a.ts - b.ts)) {
      const goid = (e.args as { goid: number }).goid
      if (!firstRun.has(goid)) firstRun.set(goid, e)
    }
    let goFlows = 0
    let unblockFlows = 0
    for (const f of ev.filter((x) => x.ph === 'f')) {
      const s = starts.get(f.id!)
      t.truthy(s, `flow ${f.id} has a start`)
      t.true(s!.ts <= f.ts, `flow ${f.id}: start ${s!.ts} <= end ${f.ts}`)
      t.is(s!.cat, f.cat)
      t.true(f.tid <= 2, 'a flow ends on a P lane')
      if (f.cat === 'go') {
        goFlows++
        const run = [...firstRun.values()].find((r) => r.ts === f.ts && r.tid === f.tid)
        t.truthy(run, `creation flow ${f.id} ends at a goroutine's first run`)
      } else unblockFlows++
    }
    t.is(goFlows, trace.gort.goroutines.length, 'a creation flow per goroutine')
    t.true(unblockFlows >= ROUNDS, 'the ping-pong unblocks its partner each round')

    // Counters: the last samples (taken at stop, with nothing running) agree with rt.stats().
    const last = (name: string): Record<string, number> => ev.filter((e) => e.ph === 'C' && e.name === name).at(-1)!.args as Record<string, number>
    t.is(last('goroutines').goroutines, stats.goroutines)
    t.is(last('runnable goroutines').runnable, stats.byStatus.runnable)
    t.is(last('shared heap bytes').bytes, stats.heapInuseBytes)
    // Preemption instants, if any (they depend on timing), sit on a P lane and name a goroutine that ran.
    for (const e of ev.filter((x) => x.name === 'preempted')) t.true(e.tid <= 2 && ran.has((e.args as { goid: number }).goid))

    // The summary: goroutines per function, run time, blocked time by reason.
    const sum = new Map(summarize(trace).map((s) => [s.fn, s]))
    t.is(sum.get('pipeline')?.goroutines, 1)
    t.is(sum.get('primes')?.goroutines, 1)
    t.is(sum.get('generate')?.goroutines, 1)
    t.is(sum.get('filter')?.goroutines, PRIMES)
    t.is(sum.get('pingpong')?.goroutines, 1)
    t.is(sum.get('ponger')?.goroutines, 1)
    t.is(sum.get('spin')?.goroutines, 2)
    t.is(sum.get('sleeper')?.goroutines, 1)
    t.is(sum.get('locker')?.goroutines, 2)
    t.true((sum.get('spin')?.runUs ?? 0) > 0)
    t.true((sum.get('sleeper')?.blockedUs.sleep ?? 0) > 0, 'the sleeper was blocked in sleep')
    const pp = sum.get('pingpong')!.blockedUs
    t.true((pp['chan receive'] ?? 0) + (pp['chan send'] ?? 0) > 0, 'the pinger waited on its channels')
    t.true((sum.get('locker')?.blockedUs.syscall ?? 0) > 0, 'the lockers made syscalls')
    const text = formatSummary(trace)
    t.regex(text, /^function\s+goroutines\s+run ms\s+runnable ms/m)
    t.regex(text, /^filter\s+30\s/m)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    t.deepEqual(await rt.close(), { left: 0 })
  }
})

test.serial('a ping-pong across two Ms, traced: every unblock is placed before the run it leads to', async (t) => {
  // The wake-ups across Ms are unstamped on both sides (UnblockX, Drain):
  // the reader orders them (trace/buffer.ts keepCausal), checked here on a
  // real run where every hand-off crosses threads.
  const N = 2_000
  const rt = await Runtime.start({ procs: 2, modules: [new URL('./fixtures/traced.js', import.meta.url)] })
  try {
    const ready = chan<number>(2, { runtime: rt })
    const a = chan<number>(0, { runtime: rt })
    const b = chan<number>(0, { runtime: rt })
    rt.trace.start()
    const ping = rt.go(traced.pinnedSide, ready, a, b, N, true)
    const pong = rt.go(traced.pinnedSide, ready, a, b, N, false)
    const [tids] = await watchdog(rt, 60_000, 'the pinned ping-pong did not finish', () => Promise.all([ping.result, pong.result]))
    await quiet(rt)
    const trace = await rt.trace.stop()
    t.is(new Set(tids as number[]).size, 2, 'the two sides ran on two Ms')
    const ev = trace.traceEvents
    const starts = new Map(ev.filter((e) => e.ph === 's').map((e) => [e.id!, e]))
    const sideIds = new Set([ping.id, pong.id])
    let crossing = 0
    for (const f of ev.filter((x) => x.ph === 'f')) {
      const s = starts.get(f.id!)!
      t.true(s.ts <= f.ts, `flow ${f.id} (${s.cat}): start ${s.ts} <= end ${f.ts}`)
      t.is(s.cat, f.cat)
      if (f.cat === 'unblock' && s.tid !== f.tid) crossing++
    }
    // Each side's runs: slices on one M lane, never overlapping. Every
    // hand-off on an unbuffered channel parks one of the two (whichever came
    // first), 2 per round, and each park ends a run; which side parks
    // depends on timing (a side whose thread waits for a core finds its
    // partner already parked), so the runs are counted for both together.
    const slices = ev.filter((e) => e.ph === 'X' && e.cat === 'goroutine' && e.tid >= 1000)
    let runs = 0
    for (const id of sideIds) {
      const mine = slices.filter((e) => (e.args as { goid: number }).goid === id).sort((x, y) => x.ts - y.ts)
      runs += mine.length
      t.is(new Set(mine.map((e) => e.tid)).size, 1, `G${id} stays on its M`)
      for (let k = 1; k < mine.length; k++) t.true(mine[k - 1].ts + mine[k - 1].dur! <= mine[k].ts + 1e-6)
    }
    t.true(runs >= N, `the two sides ran ${runs} times in all`)
    t.true(crossing >= N / 2, `unblock flows from one lane to another: ${crossing}`)
    const g = new Map(trace.gort.goroutines.map((x) => [x.goid, x]))
    for (const id of sideIds) t.true(Object.values(g.get(id)!.blockedUs).reduce((x, y) => x + y, 0) > 0, `G${id} was blocked on its channels`)
  } finally {
    t.deepEqual(await rt.close(), { left: 0 })
  }
})

test.serial('trace.stop checks its options; a second recording starts afresh; a closure started before it is named', async (t) => {
  const rt = await Runtime.start({ procs: 1, modules: [new URL('./fixtures/traced.js', import.meta.url)] })
  try {
    rt.trace.start()
    await t.throwsAsync(() => rt.trace.stop({ file: 3 as unknown as string }), { instanceOf: TypeError, message: /file must be a non-empty path/ })
    const first = await rt.trace.stop()
    t.true(first.traceEvents.some((e) => e.ph === 'C'))
    rt.trace.start()
    const second = await rt.trace.stop()
    t.is(second.gort.goroutines.length, 0)
    // A closure asleep when the recording starts runs under its own name (GoName), not 'func'.
    await rt.run(traced.napLater, 100)
    await watchdog(rt, 60_000, 'the napper did not park', async () => {
      while (rt.stats().byStatus.waiting === 0) await new Promise((r) => setTimeout(r, 2))
    })
    rt.trace.start()
    await quiet(rt)
    const third = await rt.trace.stop()
    t.deepEqual(third.gort.goroutines.map((g) => g.fn), ['napper'])
    t.true(third.traceEvents.some((e) => e.ph === 'X' && / napper$/.test(e.name)))
  } finally {
    await rt.close()
  }
})

test('Runtime options: traceBufferSize is checked', (t) => {
  t.throws(() => Runtime.create({ traceBufferSize: 10 }), { instanceOf: RangeError, message: /traceBufferSize must be an integer/ })
})

test.serial('gort run --trace out.json writes the program\'s trace; gort trace summary prints its goroutine analysis', async (t) => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
  const fixture = fileURLToPath(new URL('./fixtures/cli-hello.js', import.meta.url))
  const dir = mkdtempSync(join(tmpdir(), 'gort-trace-cli-'))
  const gort = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGQUIT' })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  try {
    const file = join(dir, 'out.json')
    const run = gort(['run', '--trace', file, fixture, 'a'])
    t.is(run.status, 0, run.stderr)
    t.regex(run.stdout, /main returns/)
    const trace = JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace
    const fns = new Set(trace.gort.goroutines.map((g) => g.fn))
    t.true(fns.has('main'), [...fns].join(', '))
    t.true(trace.traceEvents.some((e) => e.ph === 'X' && e.cat === 'goroutine' && / main$/.test(e.name)))
    const sum = gort(['trace', 'summary', file])
    t.is(sum.status, 0, sum.stderr)
    t.regex(sum.stdout, /^function\s+goroutines\s+run ms/m)
    t.regex(sum.stdout, /^main\s+1\s/m)
    const missing = gort(['trace', 'summary', join(dir, 'nope.json')])
    t.not(missing.status, 0)
    t.regex(missing.stderr, /cannot read .*nope\.json/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
