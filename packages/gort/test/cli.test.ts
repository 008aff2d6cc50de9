// The gort command (issue 16): the built bin (dist/cli.js) runs fixture
// programs in child processes, and their exit statuses, stdout and stderr
// are checked; where Go has a format (a panic, a deadlock, SIGQUIT), the
// text is compared line by line, in shape, with what Go 1.19 printed for
// the same program (captured once, below; Go need not be installed).
//
// Serial: each child is a runtime with its threads, on a 2-core machine.
// A child that does not end by itself within its watchdog gets SIGQUIT,
// which makes gort print every goroutine's stack, and the test fails with
// that dump.

import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs `gort ...args` (node dist/cli.js). The watchdog: a child still
 * running after ms gets SIGQUIT (gort's goroutine dump), then SIGKILL, and
 * the test fails with what it printed. onOutput sees stdout and stderr so
 * far whenever either grows (with the child, to signal it).
 */
function gort(
  t: ExecutionContext,
  args: string[],
  opts: { ms?: number; env?: NodeJS.ProcessEnv; onOutput?: (stdout: string, stderr: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => {
      stdout += String(b)
      opts.onOutput?.(stdout, stderr, child)
    })
    child.stderr.on('data', (b: Buffer) => {
      stderr += String(b)
      opts.onOutput?.(stdout, stderr, child)
    })
    const watchdog = setTimeout(() => {
      t.log(`watchdog: gort ${args.join(' ')} still runs after ${opts.ms ?? 60_000} ms; SIGQUIT for its goroutine dump`)
      child.kill('SIGQUIT')
      setTimeout(() => child.kill('SIGKILL'), 2000).unref()
    }, opts.ms ?? 60_000)
    child.on('close', (status, signal) => {
      clearTimeout(watchdog)
      resolve({ status, signal, stdout, stderr })
    })
  })
}

/** The 1-based line of the compiled fixture that holds text (V8's frames name the .js file's lines). */
function lineOf(name: string, text: string): number {
  return readFileSync(fixture(name), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1
}

/** Shows a run when an assertion fails. */
const show = (r: Run): string => `status ${r.status} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

/**
 * A goroutine dump's shape, line by line: goroutine ids become N, a frame's
 * function line F, its place line \tPLACE; Go's "created by" frames (gort
 * records no spawning site), its "PC=" line and register dump are dropped.
 * What is left must read the same in Go's output and in gort's.
 */
function shape(text: string): string[] {
  const out: string[] = []
  const lines = text.replace(/\n+$/, '').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.startsWith('created by ')) { i++; continue }
    if (/^PC=|^(r[a-z0-9]+|[cfg]s|rflags)\s+0x/.test(line)) continue
    if (line.startsWith('\t')) out.push('\tPLACE')
    else if (/^goroutine \d+ \[/.test(line)) out.push(line.replace(/^goroutine \d+/, 'goroutine N'))
    else if (line === '' || /^(panic|fatal error|SIGQUIT): /.test(line)) out.push(line)
    else out.push('F')
  }
  return out
}

// What Go 1.19.8 printed (linux/amd64) for the same programs, written in Go:
// a goroutine's panic(errors.New("boom")) while main sleeps;
const goPanic = `panic: boom

goroutine 17 [running]:
main.main.func1()
	/home/gopher/prog/panic.go:10 +0x49
created by main.main
	/home/gopher/prog/panic.go:9 +0x25
`
// main and one goroutine receiving on a channel nobody sends on.
const goDeadlock = `fatal error: all goroutines are asleep - deadlock!

goroutine 1 [chan receive]:
main.main()
	/home/gopher/prog/dead.go:6 +0x76

goroutine 3 [chan receive]:
main.main.func1()
	/home/gopher/prog/dead.go:5 +0x1f
created by main.main
	/home/gopher/prog/dead.go:5 +0x6a
`
// `go run nofile.go`, and an unknown flag (the go command's usage error).
const goMissing = 'stat nofile.go: no such file or directory\n' // status 1
const goBadFlagStatus = 2

test.serial('hello: stdout, the program\'s own arguments, every line of a goroutine, status 0', async (t) => {
  const r = await gort(t, ['run', fixture('cli-hello'), 'a b', '--flag', '-x'])
  t.is(r.status, 0, show(r))
  t.is(r.stderr, '')
  t.deepEqual(r.stdout.split('\n'), [
    'hello, gort: ["a b","--flag","-x"]',
    ...Array.from({ length: 5 }, (_, i) => `goroutine line ${i}`),
    'main returns',
    '',
  ])
})

test.serial('main returns while goroutines run, wait and sleep: status 0 at once, the others end with it', async (t) => {
  const r = await gort(t, ['run', fixture('cli-busy')])
  t.is(r.status, 0, show(r))
  t.is(r.stdout, 'main returns\n')
  t.is(r.stderr, '')
})

test.serial('exit(3) in a goroutine: status 3; nothing after it runs, in that goroutine or in main', async (t) => {
  const r = await gort(t, ['run', fixture('cli-exit')])
  t.is(r.status, 3, show(r))
  t.is(r.stdout, 'exiting\n')
  t.is(r.stderr, '')
})

test.serial('a goroutine\'s panic: Go\'s text and status 2', async (t) => {
  const r = await gort(t, ['run', fixture('cli-panic')])
  t.is(r.status, 2, show(r))
  t.is(r.stdout, '')
  t.regex(r.stderr, /^panic: boom\n\ngoroutine \d+ \[running\]:\n/)
  t.deepEqual(shape(r.stderr), shape(goPanic), r.stderr)
  // Its frame is the fixture's own line, not the runtime's.
  t.true(r.stderr.includes(`\t${pathToFileURL(fixture('cli-panic')).href}:${lineOf('cli-panic', "throw new Error('boom')")}:`), r.stderr)
})

test.serial('main\'s own panic: goroutine 1, the error\'s class named, status 2', async (t) => {
  const r = await gort(t, ['run', fixture('cli-mainpanic')])
  t.is(r.status, 2, show(r))
  t.regex(r.stderr, /^panic: TypeError: main failed\n\ngoroutine 1 \[running\]:\nmain\(\.\.\.\)\n\tfile:\/\/\/.*cli-mainpanic\.js:\d+:\d+\n$/)
  t.true(r.stderr.includes(`cli-mainpanic.js:${lineOf('cli-mainpanic', "throw new TypeError('main failed')")}:`), r.stderr)
})

test.serial('deadlock: Go\'s fatal error, main as goroutine 1 first, status 2', async (t) => {
  const r = await gort(t, ['run', fixture('cli-deadlock')])
  t.is(r.status, 2, show(r))
  t.regex(r.stderr, /^fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 \[chan receive\]:\nmain\(\.\.\.\)\n\tfile:\/\/\/.*cli-deadlock\.js on M\d+\n/)
  t.deepEqual(shape(r.stderr), shape(goDeadlock), r.stderr)
})

test.serial('SIGQUIT: every goroutine\'s stack, status 2 (and GOMAXPROCS, GODEBUG from the environment)', async (t) => {
  // Sent once main printed "ready" and sysmon's schedtrace shows
  // gomaxprocs=3: the environment reached the runtime. main may still be
  // on its way to its receive then, so a goroutine's state is not checked.
  let sent = false
  const r = await gort(t, ['run', fixture('cli-quit')], {
    env: { GOMAXPROCS: '3', GODEBUG: 'schedtrace=10' },
    onOutput: (stdout, _stderr, child) => {
      if (!sent && stdout.includes('ready\n') && /^SCHED \d+ms: gomaxprocs=3 /m.test(stdout)) {
        sent = true
        child.kill('SIGQUIT')
      }
    },
  })
  t.true(sent, show(r))
  t.is(r.status, 2, show(r))
  t.is(r.signal, null)
  // (gort's SCHED lines go to stdout; Go's runtime prints them on stderr.)
  const dump = r.stderr
  t.deepEqual(shape(dump).map((l) => l.replace(/\[.*\]/, '[S]')), [
    'SIGQUIT: quit', '',
    'goroutine N [S]:', 'F', '\tPLACE', '',
    'goroutine N [S]:', 'F', '\tPLACE',
  ], r.stderr)
  t.regex(dump, /^SIGQUIT: quit\n\ngoroutine 1 \[(chan receive|running|runnable)\]:\nmain\(\.\.\.\)\n\tfile:\/\/\/.*cli-quit\.js on M\d+\n\ngoroutine \d+ \[(sleep|running|runnable)\]:\n/)
})

test.serial('gort run --trace writes the trace on every ending: exit(3), a panic, a deadlock, SIGQUIT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gort-cli-trace-'))
  try {
    // (cli-quit's sleeper may not have started when the signal comes: main alone is checked.)
    const cases: Array<[string, number, string]> = [['cli-exit', 3, 'exitWith'], ['cli-panic', 2, 'func'], ['cli-deadlock', 2, 'func'], ['cli-quit', 2, 'main']]
    for (const [name, status, other] of cases) {
      const file = join(dir, `${name}.json`)
      let sent = false
      const r = await gort(t, ['run', '--trace', file, fixture(name)], {
        onOutput: (stdout, _stderr, child) => {
          if (name === 'cli-quit' && !sent && stdout.includes('ready\n')) {
            sent = true
            child.kill('SIGQUIT')
          }
        },
      })
      t.is(r.status, status, `${name}: ${show(r)}`)
      // Well-formed, with a slice for main and for the other goroutine.
      const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<{ ph: string; cat?: string; name: string; tid: number }> }
      const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'goroutine' && e.tid < 900).map((e) => e.name.replace(/^G\d+ /, ''))
      t.true(slices.includes('main') && slices.includes(other), `${name}: ${slices.join(', ')}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.serial('a TypeScript main loads through tsx, and so does a goroutine of its module on the Ms', async (t) => {
  const main = fileURLToPath(new URL('../test/fixtures-ts/cli-main.ts', import.meta.url))
  const r = await gort(t, ['run', main, 'x', 'y'])
  t.is(r.status, 0, show(r))
  t.is(r.stdout, 'ts: sum 14 args x,y\n')
  t.is(r.stderr, '')
})

test.serial('a program that cannot start: a missing file (go run\'s text), no main, a main that is not a generator function; status 1', async (t) => {
  const missing = await gort(t, ['run', 'nofile.js'])
  t.is(missing.status, 1, show(missing))
  t.is(missing.stderr, goMissing.replace('nofile.go', 'nofile.js'))
  const nomain = await gort(t, ['run', fixture('cli-nomain')])
  t.is(nomain.status, 1, show(nomain))
  t.regex(nomain.stderr, /cli-nomain\.js has no exported main: write export function\* main\(\)/)
  const notgen = await gort(t, ['run', fixture('cli-notgen')])
  t.is(notgen.status, 1, show(notgen))
  t.regex(notgen.stderr, /cli-notgen\.js: main is a function, not a generator function/)
  t.is(notgen.stdout, '')
  const procs = await gort(t, ['run', fixture('cli-hello')], { env: { GOMAXPROCS: '0' } })
  t.is(procs.status, 1, show(procs))
  t.regex(procs.stderr, /procs must be an integer from 1 to 1024, got 0 \(from the GOMAXPROCS environment variable\)/)
})

test.serial('the command line: an unknown flag or command is a usage error (status 2, as Go\'s); version and help', async (t) => {
  const flag = await gort(t, ['run', '--bogus', fixture('cli-hello')])
  t.is(flag.status, goBadFlagStatus, show(flag))
  t.regex(flag.stderr, /unknown option '--bogus'/)
  t.is(flag.stdout, '')
  const cmd = await gort(t, ['frob'])
  t.is(cmd.status, 2, show(cmd))
  t.regex(cmd.stderr, /unknown command 'frob'/)
  const v = await gort(t, ['version'])
  t.is(v.status, 0, show(v))
  t.is(v.stdout, `gort version ${version} node ${process.version} ${process.platform}/${process.arch}\n`)
  const help = await gort(t, ['help', 'run'])
  t.is(help.status, 0, show(help))
  t.regex(help.stdout, /Usage: gort run \[options\] <file> \[args\.\.\.\]/)
  t.regex(help.stdout, /--trace <out\.json>/)
})

test.serial('exit() in an app\'s own runtime: a bad code is a RangeError at the call; exit(4) in a goroutine ends the process with 4', async (t) => {
  const r = await new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [fixture('exit-app')], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => { stdout += String(b) })
    child.stderr.on('data', (b: Buffer) => { stderr += String(b) })
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }))
  })
  t.is(r.status, 4, show(r))
  t.is(r.stdout, 'RangeError: exit: code must be an integer from 0 to 255 (Go\'s os.Exit: 0 is success), got 1.5\nexiting\n')
})
