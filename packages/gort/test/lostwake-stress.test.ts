// Issue 11's stall, without HTTP: the app's thread keeps 50 rt.run calls of
// yielding CPU jobs in flight in a closed loop (each result starts the next
// job), over several runtimes in a row, at procs 2 and 4. The stall it
// guards against: a spinning M that handed its P to an M waiting for one
// (yieldP) kept its count in sched.nmspinning, so every later wakep believed
// somebody was already looking for work while every M slept with spawns on
// the global queue. Every job must come back exactly once; a watchdog fails
// the test with the scheduler's words when no job finishes for 10 s;
// sysmon's wake guard must never fire (a firing guard is a lost wake-up);
// and once the runtime is idle, nobody may be counted as spinning.
//
// The long form (docs/design/scheduler.md, "Spinning Ms"):
//   GORT_STRESS_RUNTIMES=200 npx ava test-dist/lostwake-stress.test.js

import test from 'ava'
import { Runtime } from 'gort'
import { jobs } from './fixtures/jobs.js'
import { schedWords, seeded } from './helpers.js'

const RUNTIMES = Number(process.env.GORT_STRESS_RUNTIMES ?? 3)
const JOBS = 1000
const INFLIGHT = 50
const STALL_MS = 10_000

for (const procs of [2, 4]) {
  test.serial(`closed loop of ${INFLIGHT} yielding CPU jobs at procs ${procs}, ${RUNTIMES} runtimes: every job once, no stall, no lost wake-up`, async (t) => {
    const rnd = seeded(t)
    let total = 0
    for (let r = 0; r < RUNTIMES; r++) {
      const rt = await Runtime.start({ procs })
      const seen = new Uint8Array(JOBS)
      let started = 0
      let finished = 0
      let last = Date.now()
      let watchdog: ReturnType<typeof setInterval> | undefined
      try {
        await new Promise<void>((resolve, reject) => {
          const next = (): void => {
            if (started === JOBS) return
            const id = started++
            // 100 to 1,600 sha256 rounds (~0.1-2 ms), a safe point every 32 to 512.
            rt.run(jobs.sha, id, 100 + rnd.n(1500), 32 << rnd.n(5)).then(([got]) => {
              seen[got]++
              finished++
              last = Date.now()
              if (finished === JOBS) resolve()
              else next()
            }, reject)
          }
          for (let i = 0; i < INFLIGHT; i++) next()
          watchdog = setInterval(() => {
            if (Date.now() - last < STALL_MS) return
            reject(new Error(`watchdog: runtime ${r}: no job finished for ${STALL_MS} ms (${finished} of ${JOBS}); ` +
              `stats ${JSON.stringify(rt.stats())}; sched ${JSON.stringify(schedWords(rt))}\n${rt.dump()}`))
          }, 500)
        })
      } catch (e) {
        await rt.destroy()
        throw e
      } finally {
        clearInterval(watchdog)
      }
      t.is(seen.filter((c) => c === 1).length, JOBS, `runtime ${r}: every job reported exactly once`)
      t.is(rt.stats().sysmon.wakeGuards, 0, `runtime ${r}: sysmon's wake guard never fired (${JSON.stringify(schedWords(rt))})`)
      // Idle: every P goes back to the idle list, and with no P in use no M
      // may be counted as spinning (a spinning M holds a P).
      const t0 = Date.now()
      let w = schedWords(rt)
      while ((w.npidle !== procs || w.nmspinning !== 0) && Date.now() - t0 < 2000) {
        await new Promise((res) => setTimeout(res, 10))
        w = schedWords(rt)
      }
      t.is(w.npidle, procs, `runtime ${r}: every P idle after the load (${JSON.stringify(w)})`)
      t.is(w.nmspinning, 0, `runtime ${r}: nobody counted as spinning once idle (${JSON.stringify(w)})`)
      t.deepEqual(await rt.close(), { left: 0 })
      total += finished
    }
    t.log(`${total} jobs over ${RUNTIMES} runtimes`)
  })
}
