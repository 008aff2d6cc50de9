// Closed-loop rt.run load from the app's thread (issue 11's reproducer,
// without HTTP; test/lostwake-stress.test.ts is its short form): `inflight`
// sha256 jobs (100-1,600 rounds, a plain yield every 32-512) are kept in
// flight, each result starting the next, `rounds` jobs per runtime, over
// runtimes in a row for SECONDS. Fails (exit 1) on a stall (no job finished
// for 5 s: stats and scheduler words printed), on any firing of sysmon's wake
// guard, or on a spinning count left once a runtime is idle. After a test
// build (the fixture is test-dist/fixtures/jobs.js):
//   node scripts/closedloop-stress.mjs SECONDS PROCS [INFLIGHT=50] [ROUNDS=2000]
import { Runtime } from 'gort'
import { runtimeHeap, schedwords } from 'gort/internal'
import { jobs } from '../test-dist/fixtures/jobs.js'

const rawdump = (rt) => schedwords(runtimeHeap(rt))
const secs = Number(process.argv[2] ?? 60), procs = Number(process.argv[3] ?? 2)
const inflight = Number(process.argv[4] ?? 50), rounds = Number(process.argv[5] ?? 2000)
const t0 = Date.now()
let runtimes = 0, done = 0, stalls = 0, guards = 0, leaks = 0
while (Date.now() - t0 < secs * 1000) {
  const rt = await Runtime.start({ procs })
  let started = 0, finished = 0, last = Date.now()
  const res = await new Promise((resolve) => {
    const next = () => {
      if (started >= rounds) { if (finished === rounds) resolve('ok'); return }
      const id = started++
      rt.run(jobs.sha, id, 100 + ((id * 2654435761) >>> 0) % 1500, 32 << (id % 5)).then(() => { finished++; last = Date.now(); next() }, (e) => resolve(e))
    }
    for (let i = 0; i < inflight; i++) next()
    const wd = setInterval(() => {
      if (finished === rounds) clearInterval(wd)
      else if (Date.now() - last > 5000) { clearInterval(wd); resolve('stall') }
    }, 250)
  })
  guards += rt.stats().sysmon.wakeGuards
  if (res !== 'ok') {
    stalls++
    console.log('STALL', String(res), `finished ${finished}/${rounds}`, JSON.stringify(rt.stats()), JSON.stringify(rawdump(rt)))
    await rt.destroy()
    break
  }
  done += finished
  // Idle now: no P in use, so nobody may be counted as spinning.
  let w = rawdump(rt), t1 = Date.now()
  while ((w.npidle !== procs || w.nmspinning !== 0) && Date.now() - t1 < 2000) { await new Promise((r) => setTimeout(r, 10)); w = rawdump(rt) }
  if (w.nmspinning !== 0 || w.npidle !== procs) { leaks++; console.log('LEAK', JSON.stringify(w)) }
  await rt.close()
  runtimes++
}
console.log(`procs ${procs} runtimes ${runtimes} jobs ${done} stalls ${stalls} wakeGuards ${guards} spinning leaks ${leaks} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
process.exit(stalls + guards + leaks > 0 ? 1 : 0)
