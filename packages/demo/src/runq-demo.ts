// The foundation demo: Go's per-P run queues moving work between real worker
// threads through one SharedArrayBuffer.
//
// Worker P0 is a busy P: it produces 200,000 work items (G records whose
// payload is a number to factor) into its own 256-slot run queue, spilling
// half to the global run queue whenever the ring fills (runqputslow). The
// other workers are idle Ps: they steal half of P0's ring at a time
// (runqsteal) and take batches from the global queue (globrunqget), as Go's
// findRunnable does. Each item is processed exactly once; the table shows who
// did how much and by which path.

import { Worker } from 'node:worker_threads'
import os from 'node:os'
import { SharedHeap, gbase, schedw, G_SCHEDLINK, SCHED_GFREE, SCHED_NGFREE, SCHED_GOMAXPROCS } from 'gort/internal'

const items = 200_000
const nprocs = Math.max(3, Math.min(4, os.availableParallelism() + 1))
const maxGs = 1 << 13

const h = SharedHeap.create({ maxProcs: nprocs, runqSize: 256, maxMs: nprocs, maxGs, arenaBytes: 0 })
const m = h.i32
m[schedw(h.layout, SCHED_GOMAXPROCS)] = nprocs
for (let g = 1; g < maxGs - 1; g++) m[gbase(h.layout, g) + G_SCHEDLINK] = g + 1
m[schedw(h.layout, SCHED_GFREE)] = 1
m[schedw(h.layout, SCHED_NGFREE)] = maxGs - 1
const counters = new SharedArrayBuffer(8)

interface Report { pp: number; own: number; stolen: number; global: number; steals: number; checksum: number }

const t0 = performance.now()
const reports = await Promise.all(
  Array.from({ length: nprocs }, (_, pp) => new Promise<Report>((resolve, reject) => {
    const w = new Worker(new URL('./runq-demo-worker.js', import.meta.url), {
      workerData: { sab: h.sab, counters, pp, nprocs, items, window: maxGs - 64 * (nprocs + 1) },
    })
    w.once('message', resolve)
    w.once('error', reject)
  })),
)
const ms = performance.now() - t0

console.log(`gort foundation demo: ${items} items through Go's run queues on ${nprocs} worker threads (${ms.toFixed(0)} ms)\n`)
console.log('P   role       own-queue  stolen(run at once)  global-queue   steals')
for (const r of reports) {
  const role = r.pp === 0 ? 'producer' : 'thief'
  console.log(`P${r.pp}  ${role.padEnd(9)} ${String(r.own).padStart(9)} ${String(r.stolen).padStart(20)} ${String(r.global).padStart(13)} ${String(r.steals).padStart(8)}`)
}
const total = reports.reduce((a, r) => a + r.own + r.stolen + r.global, 0)
const checksum = reports.reduce((a, r) => a + r.checksum, 0)
const want = (items * (items + 1)) / 2
console.log(`\nprocessed ${total} of ${items} items; checksum ${checksum === want ? 'ok' : `WRONG (${checksum} != ${want})`}`)
if (total !== items || checksum !== want) process.exit(1)
