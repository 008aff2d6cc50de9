// Runtime.create: a runtime usable the moment it is constructed (issue 14),
// and the runtime's threads as the app sees them (issue 13): the Ms'
// Worker objects in rt.threads, 'threadCreate' and 'threadExit', the
// minThreads option, and a goroutine's parentPort messages as 'message'.
// Real worker threads throughout; the app's thread really blocks.

import test from 'ava'
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { Runtime, ModuleLoadError, type ThreadExit } from 'gort'
import { malloc, runtimeHeap } from 'gort/internal'
import { threads, Word } from './fixtures/threads.js'
import { bad } from './fixtures/badmodule.js'

const modules = [new URL('./fixtures/threads.js', import.meta.url)]

/** A fresh word of rt's heap, 0. */
function word(rt: Runtime): Word {
  const h = runtimeHeap(rt)
  const ptr = malloc(h, 8)
  Atomics.store(h.i32, ptr >> 2, 0)
  return new Word(h.i32, ptr)
}

/**
 * Blocks the app's thread (Atomics.wait, no event loop) until w reaches n;
 * the watchdog: after ms, returns false, and the caller fails the test
 * with the runtime's state instead of hanging.
 */
function blockUntil(w: Word, n: number, ms: number): boolean {
  const end = performance.now() + ms
  for (let v = Atomics.load(w.i32, w.index); v < n; v = Atomics.load(w.i32, w.index)) {
    const left = end - performance.now()
    if (left <= 0) return false
    Atomics.wait(w.i32, w.index, v, left)
  }
  return true
}

function state(rt: Runtime): string {
  return `${JSON.stringify(rt.stats())}\n${rt.dump()}`
}

/** Waits (event loop turning) until cond() holds, at most ms. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test.serial('goroutines spawned before any M is up run while the app\'s thread blocks in Atomics.wait', async (t) => {
  const rt = Runtime.create({ procs: 2, modules })
  try {
    // Returned at once: procs Ms' threads exist and boot (no spare: one
    // starts on demand); none is in its loop yet.
    t.is(rt.threads.length, 2, 'procs Ms')
    t.true(rt.threads.every((w) => w instanceof Worker))
    t.deepEqual(rt.stats().ms.map((m) => m.state), ['starting', 'starting'])
    const w = word(rt)
    // Several, so that none waits for the end of the app's synchronous code (no batching until a microtask).
    const results = Array.from({ length: 5 }, () => rt.run(threads.bump, w))
    const t0 = performance.now()
    const ok = blockUntil(w, 5, 20_000)
    const ms = performance.now() - t0
    if (!ok) t.fail(`the goroutines did not run while the app's thread blocked:\n${state(rt)}`)
    t.log(`the app's thread blocked ${ms.toFixed(1)} ms until 5 goroutines ran (the Ms' boot included)`)
    t.is(Atomics.load(w.i32, w.index), 5, 'each ran once')
    const tids = await Promise.all(results)
    const mtids = new Set(rt.threads.map((x) => x.threadId))
    t.true(tids.every((id) => mtids.has(id)), 'they ran on the runtime\'s Ms')
    await rt.ready
    t.deepEqual(rt.stats().ms.map((m) => m.state === 'starting'), [false, false], 'every M is up once ready resolves (no spare: it starts on demand)')
    t.is(rt.threads.length, 2)
  } finally {
    await rt.close()
  }
})

test.serial('minThreads: 0 starts no M; a goroutine starts the first one before rt.run returns, and the app\'s thread may block at once', async (t) => {
  const rt = Runtime.create({ procs: 2, minThreads: 0, modules })
  const created: number[] = []
  rt.on('threadCreate', (_w, mid) => created.push(mid))
  try {
    t.is(rt.threads.length, 0)
    await rt.ready
    t.is(rt.threads.length, 0, 'ready with no M: nothing to wait for')
    const w = word(rt)
    const r = rt.run(threads.bump, w)
    t.is(rt.threads.length, 1, 'the spawn started an M')
    if (!blockUntil(w, 1, 20_000)) t.fail(`the goroutine did not run:\n${state(rt)}`)
    t.is(await r, rt.threads[0].threadId)
    // threadCreate for it, first. sysmon starts with this first spawn and,
    // seeing the only M busy and none idle, may ask for a spare M meanwhile
    // (docs/design/scheduler.md, "Spare Ms"): that one is announced after.
    t.is(created[0], 0, 'threadCreate for it')
    t.true(created.length <= 2, `Ms created: ${created.join(', ')}`)
  } finally {
    await rt.close()
  }
})

test.serial('Runtime.create checks options synchronously and names itself; Runtime.start still rejects', async (t) => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
  t.throws(() => Runtime.create({ procs: 0 }), { instanceOf: RangeError, message: /^Runtime\.create: procs must be an integer from 1 to 1024, got 0/ })
  t.throws(() => Runtime.create({ minThreads: -1 }), { instanceOf: RangeError, message: /^Runtime\.create: minThreads must be an integer from 0 to 1024, got -1/ })
  t.throws(() => Runtime.create({ minThreads: 1.5 }), { instanceOf: RangeError, message: /minThreads/ })
  t.throws(() => Runtime.create({ procs: 2, minThreads: 4, maxThreads: 3 }), {
    instanceOf: RangeError, message: /^Runtime\.create: maxThreads must be an integer of at least minThreads \(4\) and 1, got 3/,
  })
  t.throws(() => Runtime.create({ procs: 2, maxThreads: 2 }), { instanceOf: RangeError, message: /maxThreads must be an integer of at least procs \+ 1 \(3\)/ })
  t.throws(() => Runtime.create({ minThreds: 1 } as never), { instanceOf: TypeError, message: /^Runtime\.create: unknown option "minThreds" \(did you mean "minThreads"\?\)/ })
  await t.throwsAsync(Runtime.start({ minThreads: -1 }), { instanceOf: RangeError, message: /^Runtime\.start: minThreads/ })
  t.is(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length, before, 'no thread started')
  // Fewer Ms than Ps is allowed once minThreads is given: the cap is the caller's.
  const rt = Runtime.create({ procs: 2, minThreads: 1, maxThreads: 1, modules })
  try {
    t.is(await rt.run(threads.nap, 1), rt.threads[0].threadId)
  } finally {
    await rt.close()
  }
})

test.serial('a start that fails: ready rejects, goroutines spawned before it reject with the same error, later spawns throw, no thread is left', async (t) => {
  const rt = Runtime.create({ procs: 1, modules: [new URL('./fixtures/badmodule.js', import.meta.url)] })
  const exits: ThreadExit[] = []
  rt.on('threadExit', (_w, why) => exits.push(why))
  const early = rt.run(bad.never)
  const e = await t.throwsAsync(rt.ready, { instanceOf: ModuleLoadError })
  t.regex(e!.message, /^Runtime\.create: module .*badmodule\.js failed to load on an M: Error: badmodule: refuses to load on an M/)
  const e2 = await t.throwsAsync(early)
  t.is(e2, e, 'the goroutine spawned before the failure rejects with the start\'s error')
  const e3 = t.throws(() => rt.go(threads.nap, 1))
  t.regex(e3!.message, /^go: the runtime failed to start: Runtime\.create: module/)
  t.is(e3!.cause, e)
  t.deepEqual(rt.threads, [], 'no M left')
  t.deepEqual(exits.map((x) => x.reason), ['stopped'], 'the M stopped (the spare never started: the first M failed)')
})

test.serial('Runtime.start resolves once the first M is up; rt.ready once every M is; no spare M and no sysmon before there is work', async (t) => {
  const rt = await Runtime.start({ procs: 2, modules })
  try {
    t.true(rt.stats().ms.some((m) => m.state !== 'starting'), 'an M is in its loop')
    t.is(rt.threads.length, 2, 'procs Ms, no spare')
    await rt.ready
    t.deepEqual(rt.stats().ms.map((m) => m.state === 'starting'), [false, false], 'both Ms are up')
    t.is(rt.stats().sysmon.loops, 0, 'sysmon has not run: an idle runtime has no sysmon thread')
    t.true(typeof await rt.run(threads.bump, word(rt)) === 'number')
    const v = await rt.sysmonView()
    t.is(v.ps.length, 2, 'sysmon is up once there was work, and sees every P')
  } finally {
    await rt.close()
  }
})

test.serial('an initial M that fails its eager module after Runtime.start resolved with another: the runtime stops, rt.ready rejects, spawns throw', async (t) => {
  // The module loads on the first M to import it and fails on the other,
  // so one M is up and one fails; which reports first is up to the OS.
  const flag = join(tmpdir(), `gort-oncemodule-${process.pid}-${Date.now()}`)
  const once = new URL(`./fixtures/oncemodule.js?f=${encodeURIComponent(flag)}`, import.meta.url)
  try {
    let rt: Runtime | undefined
    try {
      rt = await Runtime.start({ procs: 2, modules: [once] })
    } catch (e) {
      t.log('the failing M reported first: Runtime.start rejected')
      t.true(e instanceof ModuleLoadError, String(e))
      return
    }
    t.log('Runtime.start resolved with the first M; the other failed after')
    const e = await t.throwsAsync(rt.ready, { instanceOf: ModuleLoadError })
    t.regex(e!.message, /^Runtime\.start: module .*oncemodule\.js\?f=.* failed to load on an M: Error: oncemodule: another M loaded me first/)
    const e2 = t.throws(() => rt.go(threads.nap, 1))
    t.is(e2!.cause, e)
    t.deepEqual(rt.threads, [], 'no M left')
  } finally {
    rmSync(flag, { force: true })
  }
})

test.serial('a goroutine module\'s import \'gort\' on an M loads the Ms\' entry (dist/m.js), whose Runtime refuses to start; the full index when Worker refuses the condition', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/gort-entry-main.js', import.meta.url))
  const run = (execArgv: string[]): Promise<{ url: string; create: string }> => new Promise((resolve, reject) => {
    execFile(process.execPath, [...execArgv, script], { timeout: 60_000 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`${e.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim()) as { url: string; create: string })
    })
  })
  const m = await run([])
  t.regex(m.url, /\/dist\/m\.js$/)
  t.regex(m.create, /^Runtime\.create: a runtime is started on the app's thread, not inside a goroutine/)
  // --expose-gc is refused in a Worker's explicit execArgv (not when inherited): the Ms start without the condition.
  const full = await run(['--expose-gc'])
  t.regex(full.url, /\/dist\/index\.js$/)
})

test.serial('threadCreate and threadExit: the Ms\' Workers, a death and its replacement, retirement down to minThreads, close', async (t) => {
  const rt = Runtime.create({ procs: 2, minThreads: 2, modules, mIdleTimeoutMs: 150 })
  const created: Worker[] = []
  const exited: Array<[Worker, ThreadExit]> = []
  rt.on('threadCreate', (w) => created.push(w))
  rt.on('threadExit', (w, why) => exited.push([w, why]))
  rt.on('error', () => {}) // the M's death is reported; this test looks at the events
  try {
    await rt.ready
    t.is(created.length, 2, 'the Ms made by create are announced (a microtask later)')
    t.deepEqual(created, rt.threads)
    // A death: the thread ends with its code and the runtime starts another.
    const victim = rt.run(threads.exit, 7)
    await t.throwsAsync(victim, { message: /was lost: M\d, the thread it lived on, died: the thread exited with code 7/ })
    // At least one new M: the replacement (in the dead M's record), and the
    // scheduler may start another for the dead M's P (handoffp -> startm).
    await until(() => created.length >= 3, 10_000, 'the replacement M').catch((e: unknown) => {
      t.log(JSON.stringify({ created: created.length, exits: exited.map(([, why]) => ({ ...why, error: String(why.error) })), ms: rt.stats().ms }))
      throw e
    })
    t.is(exited[0][1].reason, 'died')
    t.is(exited[0][1].code, 7)
    t.false(rt.threads.includes(exited[0][0]), 'a dead M is not in threads')
    t.true(rt.threads.length >= 2)
    // More Ms: goroutines that hold their M; sysmon takes their Ps for the
    // queued ones and the runtime starts Ms to run them (Go's handoffp →
    // startm → newm). How soon is up to the scheduler: bursts until it has.
    let bursts = 0
    while (rt.threads.length <= 2 && bursts < 10) {
      bursts++
      await Promise.all(Array.from({ length: 4 }, () => rt.run(threads.hold, 150)))
    }
    t.log(`Ms alive after ${bursts} bursts: ${rt.threads.length}`)
    t.true(rt.threads.length > 2, 'the runtime started Ms beyond minThreads')
    // Idle: the Ms beyond minThreads retire (threadExit 'retired'); minThreads stay.
    await until(() => rt.threads.length === 2, 10_000, 'the retirements')
    t.true(exited.some(([, why]) => why.reason === 'retired'))
    await new Promise((r) => setTimeout(r, 600))
    t.is(rt.threads.length, 2, `minThreads stay (${JSON.stringify(rt.stats().ms)})`)
    t.is(created.length - exited.length, 2, 'every M created and not exited is in threads')
  } finally {
    await rt.close()
  }
  t.is(rt.threads.length, 0)
  t.deepEqual(exited.slice(-2).map(([, why]) => why.reason), ['stopped', 'stopped'], 'close stops the rest')
  t.is(created.length, exited.length, 'every M created has exited')
})

test.serial('a goroutine\'s parentPort.postMessage becomes the runtime\'s \'message\'; gort\'s own message shapes are passed on too', async (t) => {
  const rt = Runtime.create({ procs: 1, modules })
  const got: unknown[] = []
  const from = new Set<Worker>()
  rt.on('message', (v, w) => {
    got.push(v)
    from.add(w)
  })
  try {
    const values = ['some message', { type: 'ready', mid: 0 }, { type: 'newm' }, [1, 2, 3], null]
    t.is(await rt.run(threads.post, values), values.length)
    await until(() => got.length === values.length, 10_000, 'the messages')
    t.deepEqual(got, values)
    t.true([...from].every((w) => rt.threads.includes(w)), 'each names the M\'s Worker')
    // A user's { type: 'ready' } was not taken for an M reporting in: the runtime still runs.
    t.true(rt.threads.map((x) => x.threadId).includes(await rt.run(threads.nap, 1)))
  } finally {
    await rt.close()
  }
})
