// errgroup (issue 16): ports of golang.org/x/sync/errgroup's
// errgroup_test.go (TestZeroGroup, TestWithContext, TestGoLimit,
// TestTryGo) and its examples (JustErrors, Parallel, Pipeline), on a
// runtime with two Ps: the group's goroutines are registered functions
// that start on any M, and groups are used both inside goroutines (yield*)
// and on the app's thread (await). Each test runs under a watchdog that
// dumps the scheduler's state instead of hanging.

import test from 'ava'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Runtime, background, errgroup, type Context } from 'gort'
import { eg, errDoom } from './fixtures/errgroups.js'
import { schedWords, seeded, withWatchdog } from './helpers.js'

let rt: Runtime
test.before(async () => {
  rt = await Runtime.start({ procs: 2 })
})
test.after.always(async () => {
  await rt.close()
})

/** Runs fn under a 60 s watchdog that dumps the runtime's state and goroutines. */
function watched<T>(t: import('ava').ExecutionContext, fn: () => Promise<T>): Promise<T> {
  return withWatchdog(t, 60_000, () => JSON.stringify({ stats: rt.stats(), sched: schedWords(rt) }) + '\n' + rt.dump(), () => [], fn)
}

/** Goroutines each M has started so far. */
const startedByM = (): number[] => rt.stats().ms.map((m) => m.started)

test.serial('TestZeroGroup (in a goroutine): wait returns the first error after each go', async (t) => {
  t.is(await watched(t, () => rt.run(eg.testZeroGroup)), '')
})

test.serial('TestWithContext (in a goroutine and on the app\'s thread): the first error, and the context is done after wait', async (t) => {
  t.is(await watched(t, () => rt.run(eg.testWithContext)), '')
  // The same cases from the app's thread: g.go and g.wait awaited.
  const cases: Array<{ errs: Array<string | null>; want: Error | null }> = [
    { errs: [], want: null },
    { errs: [null], want: null },
    { errs: ['errDoom'], want: errDoom },
    { errs: ['errDoom', null], want: errDoom },
  ]
  for (const tc of cases) {
    const [g, ctx] = errgroup.withContext(background())
    for (const e of tc.errs) await g.go(eg.returnErr, e)
    t.is(await watched(t, async () => g.wait()), tc.want, JSON.stringify(tc.errs))
    t.not(ctx.err(), null, `ctx.done() was not closed after ${JSON.stringify(tc.errs)}`)
    t.is(await g.wait(), tc.want, 'a second wait returns the same error')
  }
})

test.serial('TestGoLimit (from the app\'s thread): never more than the limit running; each of 1025 goroutines ran once', async (t) => {
  const rand = seeded(t)
  const limit = 10
  const g = new errgroup.Group()
  g.setLimit(limit)
  // [active, most seen at once, ran], shared with every M.
  const counts = new Int32Array(new SharedArrayBuffer(12))
  const before = startedByM()
  const n = (1 << 10) + 1
  await watched(t, async () => {
    for (let i = 0; i < n; i++) await g.go(eg.limited, counts, limit, rand.n(3))
    t.is(await g.wait(), null)
  })
  t.is(counts[2], n, 'every goroutine ran once')
  t.is(counts[0], 0)
  t.true(counts[1] >= 1 && counts[1] <= limit, `most at once: ${counts[1]}`)
  const after = startedByM()
  t.log(`goroutines started per M: ${after.map((s, i) => s - (before[i] ?? 0)).join(', ')}; most running at once ${counts[1]}`)
  t.throws(() => g.setLimit(1.5), { instanceOf: RangeError })
})

test.serial('TestTryGo (in a goroutine): tryGo up to the limit, after wait, after a limit change, and never at 0', async (t) => {
  t.is(await watched(t, () => rt.run(eg.testTryGo)), '')
})

test.serial('ExampleGroup_justErrors (on the app\'s thread): fetch URLs from a real HTTP server; the failure is the error', async (t) => {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : 200
    res.end(req.url)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    const fetchAll = async (paths: string[]): Promise<Error | null> => {
      const g = new errgroup.Group()
      for (const p of paths) await g.go(eg.fetchURL, `${base}${p}`)
      return g.wait()
    }
    t.is(await watched(t, () => fetchAll(['/golang', '/google', '/somestupidname'])), null, 'Successfully fetched all URLs.')
    const err = await watched(t, () => fetchAll(['/golang', '/missing', '/google']))
    t.is(err?.message, `${base}/missing: 404 Not Found`)
  } finally {
    server.close()
  }
})

test.serial('ExampleGroup_parallel (in a goroutine): closures on the caller\'s M share its results', async (t) => {
  t.is(await watched(t, () => rt.run(eg.exampleParallel, 'golang')), 'web result for "golang"\nimage result for "golang"\nvideo result for "golang"')
})

test.serial('ExampleGroup_pipeline: MD5All over a real directory with 20 digesters; a file that cannot be read cancels the rest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gort-errgroup-'))
  try {
    const want: Record<string, string> = {}
    for (let i = 0; i < 60; i++) {
      const path = join(dir, `f${String(i).padStart(2, '0')}`)
      const data = `file ${i}\n`.repeat(i + 1)
      writeFileSync(path, data)
      want[path] = createHash('md5').update(data).digest('hex')
    }
    t.deepEqual(await watched(t, () => rt.run(eg.md5All, dir)), want)
    // A directory among the files: reading it fails (EISDIR), the group's error.
    mkdirSync(join(dir, 'f30-dir'))
    const err = await watched(t, () => rt.run(eg.md5All, dir).then(() => null, (e: unknown) => e as Error & { code?: string }))
    t.is(err?.code, 'EISDIR', String(err))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.serial('bad calls fail at the call site', async (t) => {
  const g = new errgroup.Group()
  t.throws(() => g.tryGo((() => 1) as never), { instanceOf: TypeError, message: /Group\.tryGo: fn must be a generator function/ })
  t.throws(() => g.go(function* () {}), { instanceOf: TypeError, message: /on the app's thread fn must be registered with goroutines\(\)/ })
  // An argument that cannot cross threads: nothing starts, nothing is left counted.
  t.throws(() => g.tryGo(eg.returnErr, (() => null) as never), { any: true, name: 'DataCloneError' })
  t.is(await g.wait(), null)
  const [, ctx]: [errgroup.Group, Context] = errgroup.withContext(background())
  t.is(ctx.err(), null)
})
