// pnpm bench [suite ...]: runs the tinybench suites (all, or those named)
// and prints medians per operation with ratios to the baseline of each suite.

import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { formatResult, machine, neighbourMeter, type Suite, type SuiteResult } from './harness.js'
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

const suites: Suite[] = [runqSuite, spawnSuite, createSuite, goschedSuite, latencySuite, chanSuite, selectSuite, mutexSuite, parallelSuite, sysmonSuite, scaleSuite, jobsSuite, primesSuite]

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
    results.push({ ...r, neighbours: load, seconds: (performance.now() - t0) / 1000 })
  }
  // The raw figures, one file per run, for the report and charts to be made from.
  const record: RunRecord = {
    started: started.toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), platform: `${os.platform()} ${os.release()}` },
    node: process.version,
    go: goAvailable() ?? 'not installed',
    commit: gitCommit(),
    suites: results,
  }
  const dir = new URL('../results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`${started.toISOString().replace(/[:.]/g, '-')}-${chosen.map((x) => x.name).join('+').slice(0, 80)}.json`, dir)
  writeFileSync(file, JSON.stringify(record, null, 1) + '\n')
  console.error(`raw figures: ${fileURLToPath(file)}`)
}

/** One `pnpm bench` run, as written to benchmarks/results/. */
interface RunRecord {
  started: string
  machine: { cpu: string; cores: number; memoryBytes: number; platform: string }
  node: string
  go: string
  commit: string
  suites: Array<SuiteResult & { neighbours: string; seconds: number }>
}

/** The commit of the working tree measured (with "+dirty" if it has changes), or "unknown". */
function gitCommit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
  if (head.status !== 0) return 'unknown'
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' })
  return head.stdout.trim() + (dirty.stdout.trim() !== '' ? '+dirty' : '')
}

await main()
