// The slowest jobs at a low steady rate (the jobs suite's 1,000/s row, whose
// p99 is gort's worst figure there): one contender per process (gort rt.run
// at procs 2, or piscina with 2 threads), paced as the suite paces, every
// job's latency and its way there (submission to its run on a thread, from
// the stamp the job returns). Prints p50/p99, the app thread's own garbage
// collections (PerformanceObserver 'gc': only this isolate's), how many jobs
// and how many of the slowest 1 % overlap one, and the slowest 1 % with
// their start (ms into the run), total and way there (ms). Run after
// `pnpm build`:
//   node benchmarks/scripts/jobs-tail.mjs gort|piscina [seconds, default 5] [rate, default 1000]
import { Runtime } from 'gort'
import { Piscina } from 'piscina'
import { PerformanceObserver } from 'node:perf_hooks'
import { jobs } from '../dist/jobgoroutines.js'

const which = process.argv[2] ?? 'gort'
const SECONDS = Number(process.argv[3] ?? 5)
const RATE = Number(process.argv[4] ?? 1000)
let submit
let close
if (which === 'gort') {
  const rt = await Runtime.start({ procs: 2, modules: [new URL('../dist/jobgoroutines.js', import.meta.url)] })
  submit = (a, b) => rt.run(jobs.addStamped, a, b)
  close = () => rt.close()
} else {
  const pool = new Piscina({ filename: new URL('../dist/peers/jobtask.js', import.meta.url).href, name: 'stamped', minThreads: 2, maxThreads: 2 })
  submit = (a, b) => pool.run([a, b])
  close = () => pool.destroy()
}
for (let i = 0; i < 2000; i++) await submit(i, 1)

const gcs = []
const obs = new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcs.push([e.startTime, e.duration])
})
obs.observe({ entryTypes: ['gc'] })
/** [submitted at, latency, way there] in ms */
const lat = []
const t0 = performance.now()
const n = RATE * SECONDS
const pending = []
let sent = 0
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(n, Math.floor(((performance.now() - t0) * RATE) / 1000))
    for (; sent < due; sent++) {
      const at = performance.now()
      pending.push(submit(sent, 1).then(([, ranAt]) => lat.push([at, performance.now() - at, ranAt - performance.timeOrigin - at])))
    }
    if (sent < n) setTimeout(tick, 1)
    else resolve()
  }
  tick()
})
await Promise.all(pending)
await new Promise((r) => setTimeout(r, 50))
obs.disconnect()

const xs = lat.map((x) => x[1]).sort((a, b) => a - b)
const q = (p) => xs[Math.floor(p * (xs.length - 1))]
const overlaps = ([at, d]) => gcs.some(([s, dur]) => s < at + d && s + dur > at)
const slow = lat.filter(([, d]) => d > q(0.99)).sort((a, b) => a[0] - b[0])
console.log(
  `${which}: p50 ${(q(0.5) * 1000).toFixed(0)} µs, p99 ${(q(0.99) * 1000).toFixed(0)} µs; the app thread's collections: ${gcs.length} ` +
    `(${gcs.map((g) => g[1].toFixed(1)).join(', ')} ms); jobs overlapping one: ${lat.filter(overlaps).length}, of the slowest 1 % (${slow.length}): ${slow.filter(overlaps).length}`,
)
console.log(`  slowest 1 %, start/total/there (ms): ${slow.map(([at, d, th]) => `${(at - t0).toFixed(0)}/${d.toFixed(2)}/${th.toFixed(2)}`).join(' ')}`)
await close()
