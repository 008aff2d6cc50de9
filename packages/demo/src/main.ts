// The main job: count the primes below 5,000,000 in 64 goroutines spread over
// the Ms, against the same loop on one plain thread.

import os from 'node:os'
import { Runtime } from 'gort'
import { isPrime, primes } from './primes.js'

const LIMIT = Number(process.env.LIMIT ?? 5_000_000)
const PARTS = 64
const procs = Number(process.env.GOMAXPROCS ?? os.availableParallelism())

const rt = await Runtime.start({ procs, modules: [new URL('./primes.js', import.meta.url)] })

let t0 = performance.now()
const step = Math.ceil(LIMIT / PARTS)
const parts = await Promise.all(Array.from({ length: PARTS }, (_, i) => rt.run(primes.count, i * step, Math.min(LIMIT, (i + 1) * step))))
const total = parts.reduce((a, b) => a + b, 0)
const parallelMs = performance.now() - t0
const stats = rt.stats()
await rt.close()

t0 = performance.now()
let single = 0
for (let n = 0; n < LIMIT; n++) if (isPrime(n)) single++
const singleMs = performance.now() - t0

console.log(`gort demo: primes below ${LIMIT.toLocaleString('en')} in ${PARTS} goroutines, procs ${procs}\n`)
console.log(`  goroutines:  ${total.toLocaleString('en')} primes in ${parallelMs.toFixed(0)} ms`)
console.log(`  one thread:  ${single.toLocaleString('en')} primes in ${singleMs.toFixed(0)} ms`)
console.log(`  speedup:     ${(singleMs / parallelMs).toFixed(2)}x\n`)
console.log('  M   thread  goroutines run')
for (const m of stats.ms) console.log(`  M${m.id}  ${String(m.threadId).padStart(6)}  ${String(m.started).padStart(14)}`)
if (total !== single) {
  console.error(`\nMISMATCH: ${total} != ${single}`)
  process.exit(1)
}
