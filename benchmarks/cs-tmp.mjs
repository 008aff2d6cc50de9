import { Runtime } from 'gort'
import { runtimeHeap, traceDiscard } from 'gort/internal'
import { cb } from './dist/changoroutines.js'
const rt = await Runtime.start({ procs: 2, modules: [new URL('./dist/goroutines.js', import.meta.url), new URL('./dist/changoroutines.js', import.meta.url)] })
const res = { off: { 1: [], 2: [] }, on: { 1: [], 2: [] } }
const pairs = []
for (let i = 0; i < 120; i++) {
  const cur = {}
  for (const mode of (i & 1 ? ['off', 'on'] : ['on', 'off'])) {
    if (mode === 'on') rt.trace.start()
    const [ms, th] = await rt.run(cb.chanSync, 2000)
    if (mode === 'on') traceDiscard(runtimeHeap(rt))
    if (i >= 4) res[mode][th].push(ms * 1e6 / 2000)
    cur[mode] = th === 1 ? ms : NaN
  }
  if (i >= 4 && cur.on > 0 && cur.off > 0) pairs.push(cur.on / cur.off)
}
const med = (xs) => xs.length ? xs.sort((a, b) => a - b)[xs.length >> 1].toFixed(0) : '-'
for (const th of [1, 2]) console.log(`threads ${th}: off n=${res.off[th].length} ${med(res.off[th])} ns; on n=${res.on[th].length} ${med(res.on[th])} ns`)
console.log('paired on/off, same M: n', pairs.length, 'median', med(pairs.map(x=>x*1000)), '/1000')
await rt.close()
