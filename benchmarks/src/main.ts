// pnpm bench [suite ...]: runs the tinybench suites (all, or those named)
// and prints medians per operation with ratios to the baseline of each suite.

import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { formatResult, machine, neighbourMeter, rowComparisons, type Suite } from './harness.js'
import { writeReport, type RunRecord } from './report.js'
import { goAvailable } from './go.js'
import { runqSuite } from './suites/runq.js'
import { spawnSuite } from './suites/spawn.js'
import { createSuite } from './suites/create.js'
import { goschedSuite } from './suites/gosched.js'
import { latencySuite } from './suites/latency.js'
import { parallelSuite } from './suites/parallel.js'
import { chanSuite } from './suites/chan.js'
import { selectSuite } from './suites/select.js'
import { mutexSuite } from './suites/mutex.js'
import { sysmonSuite } from './suites/sysmon.js'
import { scaleSuite } from './suites/scale.js'
import { jobsSuite } from './suites/jobs.js'
import { primesSuite } from './suites/primes.js'
import { poolSuite } from './suites/pool.js'
import { startSuite } from './suites/start.js'
import { httpSuite } from './suites/http.js'
import { bullmqSuite } from './suites/bullmq.js'
import { traceSuite } from './suites/trace.js'

const suites: Suite[] = [runqSuite, spawnSuite, createSuite, goschedSuite, latencySuite, chanSuite, selectSuite, mutexSuite, parallelSuite, sysmonSuite, scaleSuite, jobsSuite, primesSuite, poolSuite, startSuite, httpSuite, bullmqSuite, traceSuite]

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => a !== '--')
  const unknown = names.filter((n) => !suites.some((s) => s.name === n))
  if (unknown.length > 0) {
    console.error(`bench: no suite named ${unknown.join(', ')}; suites: ${suites.map((s) => s.name).join(', ')}`)
    process.exit(2)
  }
  const chosen = names.length > 0 ? suites.filter((s) => names.includes(s.name)) : suites
  const started = new Date()
  console.log(`# gort benchmarks\n\n${machine()}, ${started.toISOString()}\n`)
  const results: RunRecord['suites'] = []
  for (const [i, s] of chosen.entries()) {
    console.error(`[${i + 1}/${chosen.length}] ${s.name}: ${s.description} ...`)
    const t0 = performance.now()
    // A busy neighbour makes medians unreliable: say how busy the machine was.
    const neighbours = neighbourMeter()
    const r = await s.run()
    const load = neighbours()
    console.log(formatResult(r) + `\n\n${load}\n`)
    console.error(`[${i + 1}/${chosen.length}] ${s.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    // The structured figures: the suite's own, and those its rows imply.
    const comparisons = [...(r.comparisons ?? []), ...rowComparisons(r)]
    results.push({ ...r, comparisons, neighbours: load, seconds: (performance.now() - t0) / 1000 })
  }
  // The raw figures, one file per run, for the report and charts to be made from.
  const record: RunRecord = {
    started: started.toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), platform: `${os.platform()} ${os.release()}` },
    node: process.version,
    go: goAvailable() ?? 'not installed',
    commit: gitCommit(),
    knobs: knobs(),
    suites: results,
  }
  const dir = new URL('../results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const which = chosen.length === suites.length ? 'all' : chosen.map((x) => x.name).join('+').slice(0, 80)
  const file = new URL(`${started.toISOString().replace(/[:.]/g, '-')}-${which}.json`, dir)
  writeFileSync(file, JSON.stringify(record, null, 1) + '\n')
  console.error(`raw figures: ${fileURLToPath(file)}`)
  // docs/benchmarks.md's generated region and its charts, from every run's file.
  for (const f of writeReport()) console.error(`report: ${f}`)
}

/**
 * The suites' knobs set in the environment (BENCH_ROUNDS, JOBS_SECONDS, ...),
 * so that the report can say a run was shortened.
 */
function knobs(): Record<string, string> {
  const known = /^(BENCH_|SPAWN_|CREATE_|GOSCHED_|LATENCY_|CHAN_|GO_|GOMAXPROCS$|SYSMON_|SCALE_|SOAK_|JOBS_|PRIMES_|POOL_|START_|HTTP_|BULLMQ_)/
  const out: Record<string, string> = {}
  for (const k of Object.keys(process.env).filter((x) => known.test(x)).sort()) out[k] = process.env[k]!
  return out
}

/** The commit of the working tree measured (with "+dirty" if it has changes), or "unknown". */
function gitCommit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
  if (head.status !== 0) return 'unknown'
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' })
  return head.stdout.trim() + (dirty.stdout.trim() !== '' ? '+dirty' : '')
}

await main()
