// pnpm bench [suite ...]: runs the tinybench suites (all, or those named)
// and prints medians per operation with ratios to the baseline of each suite.

import { formatResult, machine, neighbourMeter, type Suite } from './harness.js'
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

const suites: Suite[] = [runqSuite, spawnSuite, createSuite, goschedSuite, latencySuite, chanSuite, selectSuite, mutexSuite, parallelSuite, sysmonSuite]

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => a !== '--')
  const unknown = names.filter((n) => !suites.some((s) => s.name === n))
  if (unknown.length > 0) {
    console.error(`bench: no suite named ${unknown.join(', ')}; suites: ${suites.map((s) => s.name).join(', ')}`)
    process.exit(2)
  }
  const chosen = names.length > 0 ? suites.filter((s) => names.includes(s.name)) : suites
  console.log(`# gort benchmarks\n\n${machine()}, ${new Date().toISOString()}\n`)
  for (const [i, s] of chosen.entries()) {
    console.error(`[${i + 1}/${chosen.length}] ${s.name}: ${s.description} ...`)
    // A busy neighbour makes medians unreliable: say how busy the machine was.
    const neighbours = neighbourMeter()
    const r = await s.run()
    console.log(formatResult(r) + `\n\n${neighbours()}\n`)
  }
}

await main()
