// The Go side of the chan, select and mutex suites: runs Go's own benchmarks
// (benchmarks/go/chan_test.go) with the `go` tool and reads their ns/op, so
// that each gort figure can be put next to Go's for the same workload.
//
// Each suite asks once per run for the benchmarks it needs, at the
// GOMAXPROCS each workload wants; figures are kept for the rest of the
// process. If `go` is not on PATH (or fails), every Go figure becomes a
// message instead and the gort side still runs.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { quantile } from './harness.js'

/** A Go figure: ns/op (median over -count runs), or why there is none. */
export type GoFigure = { nsPerOp: number; runs: number[] } | { error: string }

export const GO_NOT_INSTALLED = 'Go not installed (apt-get install -y golang-go)'

/** The Go module: benchmarks/go, next to src/ and dist/. */
const GO_DIR = fileURLToPath(new URL('../go/', import.meta.url))

/** -benchtime and -count of each run (env GO_BENCHTIME, GO_COUNT). */
const BENCHTIME = process.env.GO_BENCHTIME || '300ms'
const COUNT = Number(process.env.GO_COUNT) || 3

const cache = new Map<string, GoFigure>()
let goVersion: string | null | undefined

function key(name: string, cpu: number): string {
  return `${name}@${cpu}`
}

/** `go version`, or null if go is not on PATH. */
export function goAvailable(): string | null {
  if (goVersion === undefined) {
    const r = spawnSync('go', ['version'], { encoding: 'utf8', env: goEnv() })
    goVersion = r.error !== undefined || r.status !== 0 ? null : r.stdout.trim()
  }
  return goVersion
}

/**
 * The environment of the go tool: no network (the module has no
 * dependencies), no go.work, no toolchain download, and a build cache and
 * GOPATH in the temporary directory if there is no home to put them in.
 */
export function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOWORK: 'off', GOTOOLCHAIN: 'local' }
  const home = process.env.HOME
  if (home === undefined || home === '' || !existsSync(home)) {
    const tmp = path.join(os.tmpdir(), 'gortbench-go')
    mkdirSync(tmp, { recursive: true })
    env.GOCACHE ??= path.join(tmp, 'cache')
    env.GOPATH ??= path.join(tmp, 'gopath')
  }
  return env
}

/**
 * Runs the named benchmarks (Go names without the "Benchmark" prefix) at
 * GOMAXPROCS = cpu, one `go test` per cpu value, unless the figures are
 * already known. Resolves when all are in the cache. count is `-count`
 * (env GO_COUNT, else 3): a suite whose Go figures vary much asks for more.
 */
export async function runGo(wanted: ReadonlyArray<{ name: string; cpu: number }>, count = COUNT): Promise<void> {
  const missing = wanted.filter((w) => !cache.has(key(w.name, w.cpu)))
  if (missing.length === 0) return
  if (goAvailable() === null) {
    for (const w of missing) cache.set(key(w.name, w.cpu), { error: GO_NOT_INSTALLED })
    return
  }
  const byCpu = new Map<number, string[]>()
  for (const w of missing) byCpu.set(w.cpu, [...new Set([...(byCpu.get(w.cpu) ?? []), w.name])])
  for (const [cpu, names] of byCpu) {
    const args = [
      'test', '-run', '^$', '-bench', `^Benchmark(${names.join('|')})$`,
      '-cpu', String(cpu), '-count', String(count), '-benchtime', BENCHTIME,
    ]
    console.error(`  go ${args.join(' ')}`)
    const { code, out } = await run('go', args)
    const runs = parse(out, cpu)
    for (const name of names) {
      const xs = runs.get(name)
      if (xs !== undefined && xs.length > 0) cache.set(key(name, cpu), { nsPerOp: quantile(xs, 0.5), runs: xs })
      else {
        const tail = out.trim().split('\n').slice(-3).join(' / ')
        cache.set(key(name, cpu), { error: `go test failed (exit ${code}): ${tail}` })
      }
    }
  }
}

/**
 * Runs the named benchmarks once more at GOMAXPROCS = cpu (one `go test`,
 * `-count` count, default 1) and returns their figures, whatever the cache
 * holds, without caching them: for a suite that interleaves Go's runs with
 * gort's, round by round (create), so that a ratio comes from one stretch
 * of time. If go is not on PATH, every figure is GO_NOT_INSTALLED.
 */
export async function runGoNow(names: readonly string[], cpu: number, count = 1): Promise<Map<string, GoFigure>> {
  const figures = new Map<string, GoFigure>()
  if (goAvailable() === null) {
    for (const name of names) figures.set(name, { error: GO_NOT_INSTALLED })
    return figures
  }
  const args = [
    'test', '-run', '^$', '-bench', `^Benchmark(${names.join('|')})$`,
    '-cpu', String(cpu), '-count', String(count), '-benchtime', BENCHTIME,
  ]
  const { code, out } = await run('go', args)
  const runs = parse(out, cpu)
  for (const name of names) {
    const xs = runs.get(name)
    if (xs !== undefined && xs.length > 0) figures.set(name, { nsPerOp: quantile(xs, 0.5), runs: xs })
    else figures.set(name, { error: `go test failed (exit ${code}): ${out.trim().split('\n').slice(-3).join(' / ')}` })
  }
  return figures
}

/** The figure of one benchmark at GOMAXPROCS = cpu (after runGo). */
export function goFigure(name: string, cpu: number): GoFigure {
  return cache.get(key(name, cpu)) ?? { error: 'not measured' }
}

/**
 * ns/op per benchmark from `go test -bench` output. A line reads
 * "BenchmarkChanSync-2   4099290   143.4 ns/op": the -N suffix is
 * GOMAXPROCS, and Go leaves it out when it is 1.
 */
function parse(out: string, cpu: number): Map<string, number[]> {
  const runs = new Map<string, number[]>()
  for (const line of out.split('\n')) {
    const m = /^Benchmark(\w+?)(?:-(\d+))?\s+\d+\s+([\d.]+) ns\/op/.exec(line.trim())
    if (m === null) continue
    if ((m[2] === undefined ? 1 : Number(m[2])) !== cpu) continue
    const xs = runs.get(m[1]) ?? []
    xs.push(Number(m[3]))
    runs.set(m[1], xs)
  }
  return runs
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: GO_DIR, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (out += d.toString()))
    p.on('error', (e) => resolve({ code: -1, out: String(e) }))
    p.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}
