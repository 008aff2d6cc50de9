// gort/pool loads both ways, as piscina does: require() returns the class
// itself, the ESM default export is the same object, and the ESM named
// exports are exactly its statics. No module in gort's import graph may use
// top-level await (require() of one fails with ERR_REQUIRE_ASYNC_MODULE).
// Child processes: the module caches of this test process do not count.

import test from 'ava'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const fixture = (name: string): string => fileURLToPath(new URL(`../test/fixtures/pool/${name}`, import.meta.url))

function runNode(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: 30_000 }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : ((e as { code?: number }).code ?? null), stdout, stderr })
    })
  })
}

test('require(\'gort\') and require(\'gort/pool\') work; the CommonJS class is the ESM default; named exports are its statics', async (t) => {
  const r = await runNode(fixture('load-require.cjs'))
  t.is(r.code, 0, r.stderr)
  t.notRegex(r.stderr, /ERR_REQUIRE_ASYNC_MODULE/)
  const out = JSON.parse(r.stdout) as Record<string, unknown>
  t.is(out.runtime, 'function')
  t.is(out.pool, 'function')
  t.true(out.sameAsDefault)
  t.true(out.namedIsPiscina)
  t.deepEqual(out.named, out.statics)
  t.deepEqual(out.statics, ['ArrayTaskQueue', 'FixedQueue', 'Piscina', 'isWorkerThread', 'move', 'queueOptionsSymbol', 'threadId', 'transferableSymbol', 'valueSymbol', 'version', 'workerData'])
  t.true(out.namedMatch)
})

test('import Piscina, { Piscina, isWorkerThread, ... } from \'gort/pool\' on the main thread', async (t) => {
  const r = await runNode(fixture('load-import.mjs'))
  t.is(r.code, 0, r.stderr)
  t.deepEqual(JSON.parse(r.stdout), {
    same: true, isWorkerThread: false, workerData: null, threadId: 0, version: '5.3.2', move: true,
    symbols: ['Symbol(Piscina.transferable)', 'Symbol(Piscina.valueOf)', 'Symbol(Piscina.queueOptions)'],
    queues: true,
  })
})
