// No output is lost (issue 12, item 3): what a goroutine writes to stdout
// or stderr reaches the process in order, before its rt.run resolves and
// before close, destroy or exit completes, even when its M is busy. Each
// case runs a small program in a child process with its output piped.

import test from 'ava'
import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./fixtures/print-main.js', import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs print-main in mode; a child that hangs is killed after 20 s (then code is null and the test fails on it). */
function run(mode: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [script, mode], { timeout: 20_000 }, (_e, stdout, stderr) => {
      resolve({ code: child.exitCode, stdout, stderr })
    })
  })
}

const lines = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag} line ${i}`)

test.serial('5 lines from a goroutine are all out, in order, before the rt.run result; then close()', async (t) => {
  const r = await run('close')
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stdout.split('\n'), [...lines('g', 5), 'result 5', 'done', ''])
})

test.serial('destroy() right after the result loses none of them', async (t) => {
  const r = await run('destroy')
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stdout.split('\n'), [...lines('g', 5), 'result 5', 'done', ''])
})

test.serial('process.exit() right after the result loses none of them', async (t) => {
  const r = await run('exit')
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stdout.split('\n'), [...lines('g', 5), 'result 5', ''])
})

test.serial('stderr: the same, in order before the result', async (t) => {
  const r = await run('stderr')
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stderr.split('\n'), [...lines('g', 5), 'result 5', ''])
  t.is(r.stdout, 'done\n')
})

test.serial('a goroutine on a busy M: its lines are out before the result, and destroy() loses none', async (t) => {
  const t0 = Date.now()
  const r = await run('busy')
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stdout.split('\n'), [...lines('g', 5), 'result 5', 'done', ''])
  t.log(`the child ran ${Date.now() - t0} ms (the busy M spins 3 s; destroy ends it)`)
})

test.serial('a full non-blocking pipe (EAGAIN): an M waits and writes on; 20,000 lines arrive whole and in order', async (t) => {
  const child = spawn(process.execPath, [script, 'flood'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })
  // Read nothing for 500 ms: the 64 KiB pipe fills long before the 1.3 MB are written.
  child.stdout.pause()
  const chunks: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => chunks.push(b))
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => { stderr += String(b) })
  setTimeout(() => child.stdout.resume(), 500)
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
  t.is(code, 0, stderr)
  const out = Buffer.concat(chunks).toString().split('\n')
  const want = Array.from({ length: 20_000 }, (_, i) => `flood ${String(i).padStart(8, '0')} ${'x'.repeat(48)}`)
  t.is(out.length, 20_000 + 4)
  t.deepEqual(out, ['start', ...want, 'result 20000', 'done', ''])
})
