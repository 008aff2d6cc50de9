// Where a small job's latency goes at a low steady rate (the jobs suite's
// 1,000/s row): each job returns when it ran (timeOrigin + now() on its
// thread), so its latency splits into the way there (submission to run) and
// the way back (run to the result on the app's thread). gort (rt.run,
// procs 2) and piscina (2 threads) alternate, ROUNDS rounds of SECONDS s.
// Prints the medians and p90s of both halves per contender, and the
// process's CPU time per job (all threads; the idle contender's threads
// sleep meanwhile). Run after
// `pnpm build`:
//   node benchmarks/scripts/job-split.mjs [rate, default 1000] [seconds, default 3] [rounds, default 2]
import { Runtime } from 'gort'
import { Piscina } from 'piscina'
import { jobs } from '../dist/jobgoroutines.js'

const RATE = Number(process.argv[2] || 1000)
const SECONDS = Number(process.argv[3] || 3)
const ROUNDS = Number(process.argv[4] || 2)
const now = () => performance.timeOrigin + performance.now()

async function paced(submit) {
  const there = []
  const back = []
  const total = []
  const n = RATE * SECONDS
  let sent = 0
  const pending = []
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) * RATE) / 1000))
      for (; sent < due; sent++) {
        const at = now()
        pending.push(submit(sent, 1).then(([sum, ranAt]) => {
          const done = now()
          if (sum !== sent + 1 && sum === undefined) throw new Error('bad sum')
          there.push((ranAt - at) * 1000)
          back.push((done - ranAt) * 1000)
          total.push((done - at) * 1000)
        }))
      }
      if (sent < n) setTimeout(tick, 1)
      else resolve()
    }
    tick()
  })
  await Promise.all(pending)
  const cpu = process.cpuUsage(cpu0)
  return { there, back, total, cpuPerJob: (cpu.user + cpu.system) / n }
}

import { readdirSync, readFileSync } from 'node:fs'
/** Every thread of this process: its CPU time so far (ns, schedstat) and name. */
function threads() {
  const out = new Map()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      out.set(tid, { ns, comm: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() })
    } catch {}
  }
  return out
}
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]
const fmt = (r) => ['total', 'there', 'back'].map((k) => `${k} p50 ${q(r[k], 0.5).toFixed(0)} p90 ${q(r[k], 0.9).toFixed(0)}`).join(' | ') + ` | CPU per job (all threads) ${r.cpuPerJob.toFixed(0)}`

const rt = await Runtime.start({ procs: 2, modules: [new URL('../dist/jobgoroutines.js', import.meta.url)] })
const pool = new Piscina({ filename: new URL('../dist/peers/jobtask.js', import.meta.url).href, name: 'stamped', minThreads: 2, maxThreads: 2 })
const contenders = {
  gort: (a, b) => rt.run(jobs.addStamped, a, b),
  piscina: (a, b) => pool.run([a, b]),
}
// Warm both.
for (const f of Object.values(contenders)) for (let i = 0; i < 2000; i++) await f(i, 1)
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r & 1 ? ['piscina', 'gort'] : ['gort', 'piscina']) {
    await new Promise((res) => setTimeout(res, 300))
    const s0 = rt.stats().sysmon
    const th0 = threads()
    const res = await paced(contenders[name])
    const th1 = threads()
    const s1 = rt.stats().sysmon
    if (process.env.THREADS) {
      const rows = []
      for (const [tid, b] of th1) {
        const d = (b.ns - (th0.get(tid)?.ns ?? 0)) / 1000 / (RATE * SECONDS)
        if (d >= 1) rows.push(`${b.comm}:${tid}=${d.toFixed(0)}`)
      }
      console.log(`  ${name} CPU µs per job by thread: ${rows.join(' ')}`)
    }
    console.log(`${name.padEnd(8)} (µs) ${fmt(res)}${name === 'gort' ? ` | sysmon looks per job ${((s1.loops - s0.loops) / (RATE * SECONDS)).toFixed(2)}` : ''}`)
  }
}
await rt.close()
await pool.destroy()
