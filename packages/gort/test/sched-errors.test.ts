// Errors and bad input: each at the call site, with the right class and the
// name of what was wrong, and the runtime keeps running.

import test from 'ava'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Runtime, go, goroutines } from 'gort'
import { tasks } from './fixtures/tasks.js'
import { bad } from './fixtures/badmodule.js'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  return undefined
}

test.serial('a goroutine that throws rejects its result with the error and its goroutine id', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const g = rt.go(tasks.boom, 'kaboom')
    const e = await t.throwsAsync(g.result, { instanceOf: TypeError, message: 'kaboom' })
    t.is((e as unknown as { goid: number }).goid, g.id)
    t.is((e as unknown as { code: string }).code, 'E_BOOM')
    t.is(await rt.run(tasks.inc, 1), 2, 'the runtime keeps running')
  } finally {
    await rt.close()
  }
})

test.serial('an error in a goroutine nobody awaits is emitted as rt.on("error") with its id', async (t) => {
  const rt = await Runtime.start({ procs: 2 })
  try {
    const got = new Promise<Error & { goid: number }>((resolve) => rt.once('error', (e) => resolve(e as Error & { goid: number })))
    const id = await rt.run(tasks.spawnBoom, 'unawaited')
    const e = await got
    t.is(e.message, 'unawaited')
    t.is(e.goid, id)
  } finally {
    await rt.close()
  }
})

test.serial('bad input at the call site', async (t) => {
  await t.throwsAsync(Runtime.start({ procs: 0 }), { instanceOf: RangeError, message: /procs/ })
  await t.throwsAsync(Runtime.start({ procs: 1.5 }), { instanceOf: RangeError, message: /procs/ })
  const rt = await Runtime.start({ procs: 1 })
  try {
    function* notRegistered(): Generator<unknown, number> {
      return 1
    }
    t.throws(() => rt.go(notRegistered), { instanceOf: TypeError, message: /notRegistered is not a registered goroutine function.*goroutines\(import\.meta\.url/ })
    // Thrown synchronously, as structuredClone does: a DOMException named DataCloneError.
    for (const v of [() => 1, Symbol('s'), { f: () => 1 }]) {
      const e = thrown(() => rt.go(tasks.echo, v))
      t.true(e instanceof DOMException, `${String(e)}`)
      t.is((e as DOMException).name, 'DataCloneError')
    }
    t.throws(() => go(tasks.inc, 1), { instanceOf: Error, message: /outside a goroutine.*rt\.go/ })
    t.throws(() => goroutines('not a url', {}), { instanceOf: TypeError, message: /moduleUrl/ })
    t.throws(() => goroutines(import.meta.url, { f: (() => 1) as never }), { instanceOf: TypeError, message: /f is not a generator function/ })
    goroutines(import.meta.url, { *dup() {} })
    t.throws(() => goroutines(import.meta.url, { *dup() {} }), { instanceOf: TypeError, message: /dup is registered twice/ })
    t.is(await rt.run(tasks.goOutsideArgs), 'DataCloneError', 'go() inside a goroutine throws DataCloneError synchronously')
    t.regex(await rt.run(tasks.goUnregistered), /^TypeError: go: expected a goroutine function/)
    const r = await rt.run(tasks.returnsFunction).then(() => undefined, (e: unknown) => e)
    t.is((r as DOMException).name, 'DataCloneError', 'a result that cannot be cloned rejects with DataCloneError')
    t.is(rt.numGoroutine(), 0, 'nothing leaked')
  } finally {
    await rt.close()
  }
  t.throws(() => rt.go(tasks.inc, 1), { instanceOf: Error, message: /closing/ })
})

test.serial('a goroutine module that fails to load on an M fails its goroutines; the M survives', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    await t.throwsAsync(rt.run(bad.never), { message: /refuses to load on an M/ })
    await t.throwsAsync(rt.run(bad.never), { message: /refuses to load on an M/ })
    t.is(await rt.run(tasks.inc, 41), 42)
  } finally {
    await rt.close()
  }
})

test.serial('close() reports goroutines that can never run again; destroy() rejects the rest', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  const pending = rt.run(tasks.block, 1)
  t.deepEqual(await pending.then(() => 'ok'), 'ok')
  t.deepEqual(await rt.close(), { left: 0 })
  const rt2 = await Runtime.start({ procs: 1 })
  const p = rt2.run(tasks.block, 2000)
  await new Promise((r) => setTimeout(r, 50))
  await rt2.destroy()
  await t.throwsAsync(p, { message: /destroyed/ })
})

test.serial('with no error listener, an unawaited failure is printed like a Go panic and the runtime goes on', (t) => {
  const script = fileURLToPath(new URL('./fixtures/panic-main.js', import.meta.url))
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 })
  t.is(r.status, 0, r.stderr)
  const id = Number(/spawned (\d+)/.exec(r.stdout)?.[1])
  t.regex(r.stdout, /still running: 2/)
  t.regex(r.stderr, /^panic: TypeError: nobody listens/m)
  t.true(r.stderr.includes(`goroutine ${id} [running]`), r.stderr)
})
