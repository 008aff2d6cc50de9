#!/usr/bin/env node
// piscina's own test suite, run against gort/pool: the compatibility check
// of issue 13 (docs/pool.md has the last result).
//
// Copies piscina 5.3.2's test/ (with its fixtures) and package.json from
// the installed package (benchmarks/ depends on it) into packages/gort/
// .compat/ (git-ignored), unchanged except for module specifiers:
//   - piscina itself ('..', '../', '../dist', '../..', '../../dist',
//     'piscina') becomes 'gort/pool';
//   - two internals the tests import values from become small shims:
//     '../dist/common' (getAvailableParallelism) and '../dist/symbols'
//     (kQueueOptions, a Symbol.for both share).
//   (common.js also has piscina's isTransferable, isMovable and markMovable,
//   over gort/pool's move() mark: piscina's own kMovable is a private
//   symbol, which gort/pool's move() cannot set; internal/pooltransfer.ts)
// Then runs each file with node:test under tsx, as piscina's
// scripts/run-tests.js does, and prints per-file pass/fail counts and every
// failing case. Files that test piscina's internal queue classes are
// excluded (EXCLUDED below, with the reason).
//
// Usage: pnpm --filter gort test:compat [file-substring ...]
//   Whole (no file named), it exits 0 when only the known failures fail
//   (KNOWN_FAILURES) and at least 90 % pass: `pnpm test` runs it so.
//        PISCINA_DIR=/path/to/piscina to use another install.

import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const gortDir = fileURLToPath(new URL('..', import.meta.url))
const repo = join(gortDir, '..', '..')
const out = join(gortDir, '.compat')

/** Test files left out, and why. */
const EXCLUDED = {
  'fixed-queue.test.ts': "piscina's internal FixedQueue/CircularBuffer classes (out of scope: gort/pool's FixedQueue is its own)",
  'task-queue.test.ts': "piscina's internal task queue plumbing (TaskInfo, kQueueOptions wiring, worker internals)",
}
const PER_FILE_TIMEOUT_MS = 240_000

/**
 * The cases known to fail, by file, each for a reason docs/pool.md gives
 * (a difference of model, not a missing feature, or a wall-clock case);
 * the idle-timeout, uncaught-exception and buffer-transferred ones fail in some runs only. The run exits 0 when every failing case is one of these
 * and the pass rate is at least MIN_PASS_RATE, so it can gate CI: a new
 * failure, a hang or a lower rate fails it.
 */
const KNOWN_FAILURES = {
  'histogram.test.ts': ['workers has histogram', 'workers does not have histogram if disabled'],
  'workers.test.ts': ['workers are marked as destroyed if destroyed'],
  'pool.test.ts': ['workerCreate/workerDestroy should be emitted while managing worker lifecycle'],
  'idle-timeout.test.ts': ['idle timeout will not let go of threads if Infinity is used as the value', 'idle timeout will let go of threads early'],
  'test-uncaught-exception-from-handler.test.ts': ['exiting process in immediate after task errors next task and resets worker'],
  'test-is-buffer-transferred.test.ts': ['transferable objects must be transferred', 'objects that implement transferable must be transferred'],
}
const MIN_PASS_RATE = 0.9

function piscinaDir() {
  if (process.env.PISCINA_DIR) return process.env.PISCINA_DIR
  const req = createRequire(join(repo, 'benchmarks', 'package.json'))
  let d = dirname(req.resolve('piscina'))
  while (!existsSync(join(d, 'package.json'))) d = dirname(d)
  return d
}

const src = piscinaDir()
const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'))
rmSync(out, { recursive: true, force: true })
mkdirSync(join(out, 'node_modules'), { recursive: true })
cpSync(join(src, 'test'), join(out, 'test'), { recursive: true, filter: (p) => !p.includes(`${join(src, 'test', 'jest')}`) })
// Its package.json: the tests read its version, and it makes .ts files CommonJS as in piscina's checkout.
cpSync(join(src, 'package.json'), join(out, 'package.json'))
symlinkSync(relative(join(out, 'node_modules'), gortDir), join(out, 'node_modules', 'gort'), 'dir')
mkdirSync(join(out, 'shims'))
writeFileSync(join(out, 'shims', 'common.js'), [
  "exports.getAvailableParallelism = () => require('node:os').availableParallelism()",
  // piscina 5.3's dist/common.js isTransferable/isMovable/markMovable, word
  // for word, over gort/pool's mark (kMovable in internal/pooltransfer.ts,
  // a Symbol.for) in place of piscina's private one.
  "const kT = Symbol.for('Piscina.transferable'), kV = Symbol.for('Piscina.valueOf'), kM = Symbol.for('gort.pool.movable')",
  "exports.isTransferable = (v) => v != null && typeof v === 'object' && kT in v && kV in v",
  "exports.isMovable = (v) => exports.isTransferable(v) && v[kM] === true",
  "exports.markMovable = (v) => { Object.defineProperty(v, kM, { enumerable: false, configurable: true, writable: true, value: true }) }",
  '',
].join('\n'))
writeFileSync(join(out, 'shims', 'symbols.js'), "exports.kQueueOptions = Symbol.for('Piscina.queueOptions')\n")

const PISCINA = /(['"])(\.\.\/?|\.\.\/dist\/?|\.\.\/\.\.\/?|\.\.\/\.\.\/dist\/?|piscina)\1/g
let rewrites = 0
for (const f of readdirSync(join(out, 'test'), { recursive: true, encoding: 'utf8' })) {
  if (!/\.(?:[cm]?[jt]s)$/.test(f)) continue
  const p = join(out, 'test', f)
  const text = readFileSync(p, 'utf8')
  const shims = relative(dirname(p), join(out, 'shims')).replaceAll('\\', '/')
  const next = text
    .replace(PISCINA, (_m, q) => { rewrites++; return `${q}gort/pool${q}` })
    .replace(/(['"])\.\.\/dist\/(common|symbols)\1/g, (_m, q, n) => { rewrites++; return `${q}${shims}/${n}.js${q}` })
  if (next !== text) writeFileSync(p, next)
}

const only = process.argv.slice(2)
const files = readdirSync(join(out, 'test')).filter((f) => f.endsWith('.test.ts')).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
console.log(`piscina ${pkg.version} tests from ${relative(repo, src) || src}, ${rewrites} specifiers rewritten, into ${relative(repo, out)}\n`)

/** Runs one file; resolves its counts and failing cases (from node:test's TAP output). */
function runFile(f) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--import=tsx', '--test', '--test-force-exit', '--test-reporter=tap', join(out, 'test', f)], {
      cwd: gortDir, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let tap = ''
    let err = ''
    child.stdout.on('data', (d) => { tap += d })
    child.stderr.on('data', (d) => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), PER_FILE_TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const num = (k) => Number(/^# (\w+) (\d+)$/m.exec(tap.split('\n').filter((l) => l.startsWith(`# ${k} `)).at(-1) ?? '')?.[2] ?? 0)
      const failing = []
      const lines = tap.split('\n')
      for (let i = 0; i < lines.length; i++) {
        const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i])
        if (m === null) continue
        // The case's error: the first 'error:' line of its YAML block.
        let why = ''
        for (let j = i + 1; j < Math.min(lines.length, i + 40); j++) {
          const e = /^\s*error: (.*)$/.exec(lines[j])
          if (e) { why = e[1].replace(/^'|'$/g, '').replace(/^\|-?$/, (lines[j + 1] ?? '').trim()); break }
          if (/^\s*(?:not )?ok \d+/.test(lines[j])) break
        }
        failing.push({ name: m[2], depth: m[1].length / 4, why })
      }
      // Killed (a hang): no summary; the top-level cases that reported
      // count as they reported, and every one that did not as failed.
      let pass = num('pass')
      let fail = num('fail')
      if (signal !== null) {
        const cases = (readFileSync(join(out, 'test', f), 'utf8').match(/^test\(/gm) ?? []).length
        const top = tap.split('\n').filter((l) => /^(?:not )?ok \d+ /.test(l))
        pass = top.filter((l) => l.startsWith('ok ')).length
        fail = top.length - pass + Math.max(0, cases - top.length)
      }
      resolve({ f, pass, fail, cancelled: num('cancelled'), skipped: num('skipped'), todo: num('todo'), code, signal, failing, err })
    })
  })
}

const results = []
const queue = [...files]
const CONCURRENCY = 2
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  for (let f; (f = queue.shift()) !== undefined;) {
    if (EXCLUDED[f]) { results.push({ f, excluded: EXCLUDED[f] }); continue }
    const r = await runFile(f)
    results.push(r)
    console.log(`${r.fail + r.cancelled === 0 && r.code === 0 ? 'PASS' : 'FAIL'} ${f}: ${r.pass} passed, ${r.fail} failed${r.cancelled ? `, ${r.cancelled} cancelled` : ''}${r.signal ? ` (killed: ${r.signal})` : ''}`)
  }
}))

results.sort((a, b) => a.f.localeCompare(b.f))
let pass = 0
let fail = 0
console.log('\n| file | passed | failed |\n| --- | --- | --- |')
for (const r of results) {
  if (r.excluded) { console.log(`| ${r.f} | excluded: ${r.excluded} | |`); continue }
  pass += r.pass
  fail += r.fail + r.cancelled
  console.log(`| ${r.f} | ${r.pass} | ${r.fail + r.cancelled}${r.signal ? ' (timed out)' : ''} |`)
}
console.log(`\n${pass} of ${pass + fail} cases passed (${((100 * pass) / Math.max(1, pass + fail)).toFixed(1)} %), ${Object.keys(EXCLUDED).length} files excluded\n`)
for (const r of results) {
  if (r.excluded || r.failing.length === 0) continue
  console.log(`${r.f}:`)
  for (const c of r.failing) console.log(`  ${'  '.repeat(c.depth)}✘ ${c.name}${c.why ? `: ${c.why.slice(0, 200)}` : ''}`)
}
// The gate: only known failures (top-level cases; a failing subtest fails its parent too), no hang, the rate.
const unknown = results.flatMap((r) => r.excluded ? [] : [
  ...r.failing.filter((c) => c.depth === 0 && !(KNOWN_FAILURES[r.f] ?? []).includes(c.name)).map((c) => `${r.f}: ${c.name}`),
  ...(r.signal ? [`${r.f}: killed (${r.signal}) after ${PER_FILE_TIMEOUT_MS / 1000} s`] : []),
  ...(r.failing.length === 0 && r.fail + r.cancelled > 0 ? [`${r.f}: ${r.fail + r.cancelled} failed without a reported case (${r.err.trim().split('\n').at(-1) ?? ''})`] : []),
])
const rate = pass / Math.max(1, pass + fail)
if (only.length === 0) {
  if (unknown.length > 0) console.log(`\nfailures not known to docs/pool.md:\n${unknown.map((u) => `  ${u}`).join('\n')}`)
  if (rate < MIN_PASS_RATE) console.log(`\npass rate ${(100 * rate).toFixed(1)} % is below ${100 * MIN_PASS_RATE} %`)
  process.exitCode = unknown.length === 0 && rate >= MIN_PASS_RATE ? 0 : 1
} else {
  process.exitCode = fail === 0 ? 0 : 1
}
