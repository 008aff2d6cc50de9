// The host's contract with the process (issue 12), checked in child
// processes: an app that never calls close() exits by itself when nothing
// is left to do; a failed start leaves nothing behind; an app whose
// awaited operations nothing can complete gets a DeadlockError and exits.
// Each child has a timeout; a hang shows as a killed child.

import test from 'ava'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

interface Run {
  /** Exit status, or null when killed (a hang past the timeout). */
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs test-dist/fixtures/<name>.js in a child node, killed after timeoutMs. */
function runFixture(name: string, timeoutMs = 20_000, args: string[] = []): Promise<Run> {
  const script = fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))
  const t0 = Date.now()
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [script, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (_e, stdout, stderr) => {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr, ms: Date.now() - t0 })
    })
  })
}

function show(r: Run): string {
  return `code ${r.code} signal ${r.signal} after ${r.ms} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`
}

test('an app that never calls close() exits by itself once its goroutines are done, and not before', async (t) => {
  const r = await runFixture('exit-noclose')
  t.is(r.code, 0, show(r))
  t.regex(r.stdout, /^fib 6765$/m)
  t.regex(r.stdout, /^received 42$/m)
  t.regex(r.stdout, /^main done$/m)
  t.regex(r.stdout, /^exit 0: goroutines left 0$/m, 'the goroutines nobody awaited ran to their end first')
})

test('docs/run-parallel.md\'s example (three runtimes, never closed) exits by itself', async (t) => {
  const r = await runFixture('exit-parallel', 30_000)
  t.is(r.code, 0, show(r))
  t.deepEqual(r.stdout.trim().split('\n'), ['primes procs=1: ran', 'primes procs=2: ran', 'primes procs=4: ran'])
})

test('a start that fails on a bad option rejects before any thread starts, and the process exits', async (t) => {
  const r = await runFixture('start-fails', 20_000, ['runaway0'])
  t.is(r.code, 0, show(r))
  t.is(r.stdout, 'rejected RangeError: Runtime.start: runawayMs must be a finite number of at least 1, got 0\n')
  t.is(r.stderr, '')
  const typo = await runFixture('start-fails', 20_000, ['typo'])
  t.is(typo.code, 0, show(typo))
  t.regex(typo.stdout, /^rejected TypeError: Runtime\.start: unknown option "prcos" \(did you mean "procs"\?\)/)
})

test('with resourceLimits too small for an M, start rejects once, nothing restarts or prints afterwards, and the exit is the same every time', async (t) => {
  for (let i = 0; i < 2; i++) {
    const r = await runFixture('start-fails', 20_000, ['tinyheap'])
    t.is(r.code, 0, show(r))
    t.regex(r.stdout, /^rejected Error: Runtime\.start: M\d died while starting: .*memory limit.*\n$/, show(r))
    t.is(r.stderr, '', show(r))
  }
})

test('rt.go() of a goroutine that fails: an error listener gets it and the app goes on; without one, Node\'s unhandled rejection', async (t) => {
  const r = await runFixture('go-fails', 20_000, ['listener'])
  t.is(r.code, 0, show(r))
  const id = /^spawned (\d+)$/m.exec(r.stdout)?.[1]
  t.truthy(id, show(r))
  t.regex(r.stdout, new RegExp(`^error event: nobody asked \\(goroutine ${id}\\)$`, 'm'))
  t.regex(r.stdout, /^still running: 2$/m)
  t.is(r.stderr, '')
  const none = await runFixture('go-fails', 20_000, ['none'])
  t.is(none.code, 1, show(none))
  t.regex(none.stderr, /Error: nobody asked/)
})

test('await chan().recv() with no goroutine that could send rejects with DeadlockError, and the app exits', async (t) => {
  const r = await runFixture('deadlock-app', 20_000, ['recv-alone'])
  t.is(r.code, 0, show(r))
  t.regex(r.stdout, /^recv: DeadlockError: all goroutines are asleep - deadlock!$/m)
  t.regex(r.stdout, /^the app's thread \[chan receive\]:$/m, 'the dump names the app\'s pending operation')
  t.notRegex(r.stdout, /deadlock event/, 'no goroutine is alive: no event')
})

test('await on a nil channel, or a select of nil channels only, on the app\'s thread: DeadlockError, and the app exits', async (t) => {
  const r = await runFixture('deadlock-app', 20_000, ['nil-chan'])
  t.is(r.code, 0, show(r))
  t.regex(r.stdout, /^nil recv: DeadlockError: all goroutines are asleep - deadlock!$/m)
  t.regex(r.stdout, /^nil select: DeadlockError: all goroutines are asleep - deadlock!$/m)
})

test('a goroutine asleep for good and the app awaiting it, a WaitGroup and a select: \'deadlock\' fires and all three reject', async (t) => {
  const r = await runFixture('deadlock-app', 20_000, ['with-goroutine'])
  t.is(r.code, 0, show(r))
  t.regex(r.stdout, /^deadlock event$/m)
  for (const what of ['run', 'wait', 'select']) t.regex(r.stdout, new RegExp(`^${what}: DeadlockError: all goroutines are asleep - deadlock!$`, 'm'))
  t.regex(r.stdout, /^goroutine \d+ \[chan receive\]:\nwaitRecv\(\.\.\.\)$/m, 'the dump shows the goroutine')
})

test('not a deadlock: the app\'s own timer sends later, or a goroutine sleeps and then sends', async (t) => {
  const a = await runFixture('deadlock-app', 20_000, ['app-sends-later'])
  t.is(a.code, 0, show(a))
  t.regex(a.stdout, /^recv: 5$/m)
  t.regex(a.stdout, /^after 600\+ ms$/m)
  const b = await runFixture('deadlock-app', 20_000, ['goroutine-sleeps'])
  t.is(b.code, 0, show(b))
  t.regex(b.stdout, /^recv: 6$/m)
  t.regex(b.stdout, /^after 600\+ ms$/m)
})

test('after a DeadlockError the app can still wake a goroutine and await it', async (t) => {
  const r = await runFixture('deadlock-app', 20_000, ['recover'])
  t.is(r.code, 0, show(r))
  t.regex(r.stdout, /^send: DeadlockError: /m)
  t.regex(r.stdout, /^result: 9$/m)
})
