// The host (internal/host.ts) seen from the app: the contract of issue 12
// that can be checked inside one process. Real runtimes, real worker
// threads. The exit behaviour is in host-exit.test.ts (child processes).

import test from 'ava'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ModuleLoadError, Mutex, Runtime, WaitGroup, after, chan, newTimer, select, ticker } from 'gort'
import { hostops } from './fixtures/hostops.js'

/** p, or a rejection naming what did not settle within ms. */
function within<T>(p: PromiseLike<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([Promise.resolve(p), late]).finally(() => clearTimeout(timer))
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

test.serial('two runtimes in one app: channel, WaitGroup, Mutex and select of the second settle on the app\'s thread while the first is live', async (t) => {
  const rt1 = await Runtime.start({ procs: 1 })
  const rt2 = await Runtime.start({ procs: 1 })
  try {
    const c = chan<number>(0, { runtime: rt2 })
    rt2.go(hostops.sendAfter, c, 7, 20)
    t.is(await within(c.recv(), 'recv on rt2'), 7)

    const back = chan<number>(0, { runtime: rt2 })
    const got = rt2.run(hostops.recvOne, back)
    await within(back.send(8), 'send on rt2')
    t.is(await within(got, 'rt2 goroutine'), 8)

    const wg = new WaitGroup({ runtime: rt2 })
    wg.add(2)
    rt2.go(hostops.doneAfter, wg, 10)
    rt2.go(hostops.doneAfter, wg, 30)
    await within(wg.wait(), 'WaitGroup.wait on rt2')
    t.is(wg.count(), 0)

    const mu = new Mutex({ runtime: rt2 })
    const held = rt2.run(hostops.holdMutex, mu, 30)
    await until(() => mu.locked(), 'the goroutine locks the mutex')
    await within(mu.lock(), 'Mutex.lock on rt2')
    t.true(mu.locked())
    mu.unlock()
    await held

    const a = chan<number>(0, { runtime: rt2 })
    const b = chan<number>(0, { runtime: rt2 })
    rt2.go(hostops.sendAfter, b, 9, 20)
    const r = await within(select([a.recvCase(), b.recvCase()]), 'select on rt2')
    t.deepEqual([r.index, r.value, r.ok], [1, 9, true])

    // The first runtime, the default one, works alongside.
    const c1 = chan<number>(0)
    rt1.go(hostops.sendAfter, c1, 1, 10)
    t.is(await within(c1.recv(), 'recv on rt1'), 1)
  } finally {
    await rt2.close()
    await rt1.close()
  }
})

test.serial('two runtimes: the second keeps working on the app\'s thread after the first closed', async (t) => {
  const rt1 = await Runtime.start({ procs: 1 })
  const rt2 = await Runtime.start({ procs: 1 })
  try {
    const c = chan<number>(0, { runtime: rt2 })
    await rt1.close()
    rt2.go(hostops.sendAfter, c, 5, 20)
    t.is(await within(c.recv(), 'recv on rt2'), 5)
    const wg = new WaitGroup({ runtime: rt2 })
    wg.add(1)
    rt2.go(hostops.doneAfter, wg, 10)
    await within(wg.wait(), 'WaitGroup.wait on rt2')
    // The second is now the default: records made without { runtime } belong to it.
    const d = chan<number>(0)
    rt2.go(hostops.sendAfter, d, 6, 10)
    t.is(await within(d.recv(), 'recv on a default channel'), 6)
  } finally {
    await rt2.close()
  }
})

test.serial('select over channels of two runtimes is refused at the call site', async (t) => {
  const rt1 = await Runtime.start({ procs: 1 })
  const rt2 = await Runtime.start({ procs: 1 })
  try {
    const a = chan<number>(0, { runtime: rt1 })
    const b = chan<number>(0, { runtime: rt2 })
    t.throws(() => select([a.recvCase(), b.recvCase()]), { instanceOf: TypeError, message: /select: case 1's channel belongs to another runtime/ })
  } finally {
    await rt2.close()
    await rt1.close()
  }
})

test.serial('timers of a second runtime: after, newTimer and ticker take { runtime } and meet its channels in a select', async (t) => {
  const rt1 = await Runtime.start({ procs: 1 })
  const rt2 = await Runtime.start({ procs: 1 })
  try {
    const b = chan<number>(0, { runtime: rt2 })
    const t0 = Date.now()
    const r = await within(select([b.recvCase(), after(30, { runtime: rt2 }).recvCase()]), 'select over rt2 channel and rt2 timer')
    t.is(r.index, 1, 'the timer case fired')
    t.true(Date.now() - t0 >= 25, 'not before its time')
    const tm = newTimer(10, { runtime: rt2 })
    t.is((await within(select([b.recvCase(), tm.c.recvCase()]), 'newTimer on rt2')).index, 1)
    const tk = ticker(10, { runtime: rt2 })
    t.is((await within(select([b.recvCase(), tk.c.recvCase()]), 'ticker on rt2')).index, 1)
    tk.stop()
    // The default runtime is rt1: a timer made without { runtime } cannot meet rt2's channel.
    t.throws(() => select([b.recvCase(), after(10).recvCase()]), { instanceOf: TypeError, message: /belongs to another runtime/ })
    t.throws(() => after(10, { runtme: rt2 } as never), { instanceOf: TypeError, message: /after|newTimer: unknown option 'runtme'/ })
  } finally {
    await rt2.close()
    await rt1.close()
  }
})

test.serial('Runtime.start checks every option before any thread starts, naming the option', async (t) => {
  const bad: Array<[unknown, new (...a: never[]) => Error, RegExp]> = [
    [{ prcos: 2 }, TypeError, /unknown option "prcos" \(did you mean "procs"\?\)/],
    [{ runawayMS: 5 }, TypeError, /unknown option "runawayMS" \(did you mean "runawayMs"\?\)/],
    [{ zzz: 1 }, TypeError, /unknown option "zzz"; the options are procs, /],
    [{ runawayMs: 0 }, RangeError, /runawayMs must be a finite number of at least 1, got 0/],
    [{ runawayMs: Infinity }, RangeError, /runawayMs/],
    [{ mIdleTimeoutMs: -1 }, RangeError, /mIdleTimeoutMs/],
    [{ godebug: 5 }, TypeError, /godebug must be a string/],
    [{ main: 'yes' }, TypeError, /main must be a boolean/],
    [{ modules: 'file:///x.js' }, TypeError, /modules must be an array/],
    [{ modules: ['./tasks.js'] }, TypeError, /modules\[0\] must be a module URL.*"\.\/tasks\.js"/],
    [{ resourceLimits: { maxOldGenerationSize: 64 } }, TypeError, /resourceLimits: unknown option "maxOldGenerationSize" \(did you mean "maxOldGenerationSizeMb"\?\)/],
    [{ resourceLimits: { stackSizeMb: -4 } }, RangeError, /resourceLimits\.stackSizeMb must be a positive number/],
    [null, TypeError, /options must be an object/],
  ]
  const threadsBefore = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
  for (const [opts, cls, message] of bad) {
    await t.throwsAsync(Runtime.start(opts as never), { instanceOf: cls, message }, JSON.stringify(opts))
  }
  t.is(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length, threadsBefore, 'no worker or port was left holding the process')
})

test.serial('rt.go() failures: to the result when it was asked for, else to the error listeners; a result asked for afterwards still rejects', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    const errors: Array<Error & { goid?: number }> = []
    rt.on('error', (e) => errors.push(e))
    const g = rt.go(hostops.fail, 'nobody asked')
    await until(() => errors.length > 0, 'the error event')
    t.is(errors[0].message, 'nobody asked')
    t.is(errors[0].goid, g.id)
    await t.throwsAsync(g.result, { message: 'nobody asked' }, 'asked for after the failure')
    const asked = rt.go(hostops.fail, 'asked')
    await t.throwsAsync(asked.result, { message: 'asked' })
    await new Promise((r) => setTimeout(r, 50))
    t.is(errors.length, 1, 'a failure whose result was asked for is not emitted')
  } finally {
    await rt.close()
  }
})

test.serial('Runtime.start({ modules }) with a module that does not parse or does not exist rejects naming the module', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gort-modules-'))
  try {
    const syntax = pathToFileURL(join(dir, 'syntax.mjs'))
    writeFileSync(syntax, 'export const x = ;\n')
    const missing = pathToFileURL(join(dir, 'missing.mjs'))
    const e1 = await t.throwsAsync(Runtime.start({ procs: 1, modules: [syntax] }), { instanceOf: ModuleLoadError })
    t.is(e1!.url, syntax.href)
    t.regex(e1!.message, new RegExp(`^Runtime\\.start: module ${syntax.href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed to load on an M: SyntaxError: `))
    const e2 = await t.throwsAsync(Runtime.start({ procs: 1, modules: [missing.href] }), { instanceOf: ModuleLoadError })
    t.is(e2!.url, missing.href)
    t.regex(e2!.message, /failed to load on an M: Error: Cannot find module/)
    // A good module still starts.
    const rt = await Runtime.start({ procs: 1, modules: [new URL('./fixtures/hostops.js', import.meta.url)] })
    t.is(await rt.run(hostops.nap, 1), 1)
    await rt.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.serial('no phantom goroutine: the app\'s own channel waits are neither counted in stats().byStatus nor listed by dump()', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    const c = chan<number>(0)
    const produced = rt.run(hostops.produce, c, 3)
    const got: Array<number | undefined> = []
    for (let i = 0; i < 3; i++) got.push(await c.recv())
    t.deepEqual(got, [0, 1, 2])
    t.is(await produced, 3)
    await until(() => rt.numGoroutine() === 0, 'the producer is gone')
    t.deepEqual(rt.stats().byStatus, { runnable: 0, running: 0, syscall: 0, waiting: 0 })
    t.is(rt.dump(), '')
    // While the app waits, its wait is not a goroutine either.
    const pending = c.recv()
    await new Promise((r) => setTimeout(r, 20))
    t.deepEqual(rt.stats().byStatus, { runnable: 0, running: 0, syscall: 0, waiting: 0 })
    t.is(rt.dump(), '')
    await c.send(1) // the app's send completes its own pending receive
    t.is(await pending, 1)
  } finally {
    await rt.close()
  }
})

test.serial('messages say what happened: destroyed vs closing, and what was passed instead of a goroutine function', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  const c = chan<number>(1)
  for (const [v, what] of [[undefined, 'undefined'], [null, 'null'], [42, 'a number'], ['f', 'a string'], [{}, 'an object']] as const) {
    t.throws(() => rt.go(v as never), { instanceOf: TypeError, message: new RegExp(`^go: ${what} is not a registered goroutine function; export it from a module`) })
  }
  await rt.destroy()
  t.throws(() => rt.run(hostops.nap, 1), { message: /^go: the runtime was destroyed \(destroy\(\) was called\); no new goroutines can start$/ })
  await t.throwsAsync(c.recv(), { message: /^recv: this object's runtime was destroyed$/ })
  const rt2 = await Runtime.start({ procs: 1 })
  const closing = rt2.close()
  t.throws(() => rt2.run(hostops.nap, 1), { message: /^go: the runtime is closing \(close\(\) was called\); no new goroutines can start$/ })
  await closing
})
