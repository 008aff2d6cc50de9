// A probe for the lost wake-up that sysmon's wake guard catches (docs/design/
// scheduler.md, "Wake guard"): runtimes whose idle Ms retire after 100 ms,
// with bursts of work between idle gaps, for N seconds (default 300). It
// prints GUARD when a runtime's rt.stats().sysmon.wakeGuards is above 0, and
// STALL if a burst does not finish in 5 s. Run after a build of the tests
// (the fixture is test-dist/fixtures/hogs.js), two at once to load the machine:
//   node scripts/lostwake-stress.mjs 300 & node scripts/lostwake-stress.mjs 300
// On 2026-11-23: about one guard per 100-250 runtimes, no stall.

import { Runtime } from 'gort'
import { hogs } from '../test-dist/fixtures/hogs.js'
const t0 = Date.now()
let iter = 0, guards = 0, stalls = 0
while (Date.now() - t0 < Number(process.argv[2] ?? 300) * 1000) {
  const rt = await Runtime.start({ procs: 2, mIdleTimeoutMs: 100 })
  await Promise.all(Array.from({ length: 20 }, () => rt.run(hogs.stamp)))
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 20 + (i % 7) * 10))
    const p = Promise.all(Array.from({ length: 50 + (i % 5) * 40 }, (_, k) => rt.run(hogs.work, k)))
    const to = new Promise((r) => setTimeout(() => r('stall'), 5000))
    if ((await Promise.race([p, to])) === 'stall') { stalls++; console.log('STALL', JSON.stringify(rt.stats())); await p }
  }
  guards += rt.stats().sysmon.wakeGuards
  if (rt.stats().sysmon.wakeGuards > 0) console.log('GUARD', rt.stats().sysmon.wakeGuards, JSON.stringify(rt.stats().ms))
  await rt.close()
  iter++
}
console.log(`iterations ${iter} wakeGuards ${guards} stalls ${stalls}`)
