// Tracing on across every workload of the chan suite: each row's sample
// untraced and traced, alternating on one runtime (the order reversed every
// other round), the first two rounds dropped; prints the medians and the
// median of the paired ratios (traced ÷ untraced, wall time on the M).
// `pnpm bench trace` judges the target on three of these workloads; this
// script is the check on the rest. Run after `pnpm build`:
//   node benchmarks/scripts/chan-trace.mjs [rounds, default 12] [workload name prefix]
import { Runtime } from 'gort'
import { runtimeHeap, traceDiscard } from 'gort/internal'
import { workloads } from '../dist/suites/chan.js'
const modules = [new URL('../dist/goroutines.js', import.meta.url), new URL('../dist/changoroutines.js', import.meta.url)]
const rts = new Map()
const ROUNDS = Number(process.argv[2] || 12)
const only = process.argv[3]
for (const w of workloads.filter((w) => only === undefined || w.name.startsWith(only))) {
  if (!rts.has(w.procs)) rts.set(w.procs, await Runtime.start({ procs: w.procs, modules }))
  const rt = rts.get(w.procs)
  const ratios = [], off = [], on = []
  for (let i = 0; i < ROUNDS + 2; i++) {
    const cur = {}
    for (const t of (i & 1 ? [true, false] : [false, true])) {
      if (t) rt.trace.start()
      const r = await w.sample(rt)
      if (t) traceDiscard(runtimeHeap(rt))
      cur[t] = Array.isArray(r) ? r[0] : r
    }
    if (i >= 2) { ratios.push(cur[true] / cur[false]); off.push(cur[false]); on.push(cur[true]) }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  console.log(`${w.name.padEnd(24)} off ${(med(off) * 1e6 / w.ops).toFixed(0).padStart(6)} ns  on ${(med(on) * 1e6 / w.ops).toFixed(0).padStart(6)} ns  paired on/off median ${med(ratios).toFixed(2)}  (middle half ${[...ratios].sort((a,b)=>a-b)[Math.floor(ratios.length/4)].toFixed(2)}-${[...ratios].sort((a,b)=>a-b)[Math.floor(3*ratios.length/4)].toFixed(2)})`)
}
for (const rt of rts.values()) await rt.close()
