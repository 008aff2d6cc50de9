// A fleet on one real redis-server: three processes, each with a gort
// runtime and a gort/bullmq Worker on the same queue, 10,000 jobs, and one
// process killed with SIGKILL mid-run. BullMQ's stalled-job recovery must
// hand the dead process's jobs to the survivors: every job completes, none
// is lost, and the only jobs run twice are ones that were running in the
// killed process, counted exactly.
//
// Each job appends "id:pid" to a Redis list when it starts (before it can
// complete) and returns its pid, so the test knows every run and which
// process completed each job. A watchdog prints the queue's counts and the
// children's state instead of hanging.

import test from 'ava'
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { startRedis } from '../scripts/redis-server.mjs'

const N = 10_000
const KILL_AT = 3_000
const child = fileURLToPath(new URL('./fixtures/bullmq-fleet-child.js', import.meta.url))
const job = fileURLToPath(new URL('../test/fixtures/bullmq/fleet-job.mjs', import.meta.url))

test('three processes on one queue, one killed with SIGKILL: every job completes, duplicates only from the killed process', async (t) => {
  // One long test: ava's timeout (3 min without a test ending) is set
  // aside for it; the watchdog below ends it first.
  t.timeout(240_000)
  const redis = await startRedis()
  const queue = new Queue('fleet', { connection: redis.connection })
  const r = new Redis(redis.connection)
  const runs = 'fleet:runs'
  const children: ChildProcess[] = []
  const exits = new Map<number, string>()
  let phase = 'adding jobs'
  let killed = 0
  const state = async (): Promise<string> =>
    `phase: ${phase}; counts ${JSON.stringify(await queue.getJobCounts())}; runs ${await r.llen(runs)}; ` +
    `children ${children.map((c) => `${c.pid}:${exits.get(c.pid!) ?? 'alive'}`).join(' ')}; killed ${killed}`
  let timer: NodeJS.Timeout | undefined
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void state().then((s) => reject(new Error(`watchdog: the fleet did not finish in 200 s; ${s}`)), reject)
    }, 200_000)
  })
  try {
    await Promise.race([watchdog, (async () => {
      for (let i = 0; i < N; i += 1000) {
        await queue.addBulk(Array.from({ length: 1000 }, (_, k) => ({
          name: 'j', data: { host: redis.host, port: redis.port, runs }, opts: { jobId: `j${i + k}` },
        })))
      }
      phase = 'starting the fleet'
      const ready: Promise<void>[] = []
      for (let i = 0; i < 3; i++) {
        const c = fork(child, [String(redis.port), 'fleet', job], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        children.push(c)
        c.on('exit', (code, sig) => exits.set(c.pid!, `exited ${code ?? sig}`))
        ready.push(new Promise((resolve, reject) => {
          c.once('message', () => resolve())
          c.once('exit', (code, sig) => reject(new Error(`fleet child exited (${code ?? sig}) before it was ready`)))
        }))
      }
      await Promise.all(ready)
      phase = `running; SIGKILL at ${KILL_AT} completed`
      const victim = children[0]!
      for (;;) {
        const done = await queue.getCompletedCount()
        if (done >= KILL_AT) break
        await new Promise((res) => setTimeout(res, 20))
      }
      const active = await queue.getActiveCount()
      victim.kill('SIGKILL')
      killed = victim.pid!
      t.log(`SIGKILL to ${killed} with ${await queue.getCompletedCount()} completed and ${active} active`)
      phase = 'waiting for every job (stalled-job recovery)'
      for (;;) {
        const c = await queue.getJobCounts('completed', 'failed')
        if (c.completed! + c.failed! >= N) break
        await new Promise((res) => setTimeout(res, 50))
      }
    })()])
  } finally {
    clearTimeout(timer)
    phase = 'closing'
    const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null
    for (const c of children) if (alive(c)) c.send('close')
    // Closing waits for the running jobs; a child that has not exited after 30 s is killed.
    const kill = setTimeout(() => children.forEach((c) => alive(c) && c.kill('SIGKILL')), 30_000)
    await Promise.all(children.map((c) => (alive(c) ? new Promise((res) => c.once('exit', res)) : undefined)))
    clearTimeout(kill)
  }
  try {
    await check()
  } finally {
    await queue.close()
    r.disconnect()
    await redis.stop()
  }

  async function check(): Promise<void> {

  // Every job completed, none failed.
  const counts = await queue.getJobCounts()
  t.is(counts.completed, N)
  t.is(counts.failed, 0)
  t.is(counts.active, 0)
  t.is(counts.wait ?? counts.waiting ?? 0, 0)

  // Which process completed each job (its return value), read back from Redis.
  const completer = new Map<string, number>()
  for (let i = 0; i < N; i += 1000) {
    const jobs = await queue.getCompleted(i, i + 999)
    for (const j of jobs) completer.set(j.id!, j.returnvalue as number)
  }
  t.is(completer.size, N, 'every job id completed')
  for (let i = 0; i < N; i++) if (!completer.has(`j${i}`)) t.fail(`j${i} was lost`)

  // Every run, by job.
  const byJob = new Map<string, number[]>()
  for (const e of await r.lrange(runs, 0, -1)) {
    const [id, pid] = e.split(':') as [string, string]
    byJob.set(id, [...(byJob.get(id) ?? []), Number(pid)])
  }
  const pids = new Set(children.map((c) => c.pid!))
  let dups = 0
  let killedCompleted = 0
  let killedRerun = 0
  for (const [id, ps] of byJob) {
    const by = completer.get(id)!
    t.true(ps.includes(by), `${id}: completed by a process that ran it`)
    for (const p of ps) t.true(pids.has(p))
    if (by === killed) killedCompleted++
    if (ps.length > 1) {
      dups++
      // A job run twice: once in the killed process, which died with it
      // running, then once by a survivor, which completed it.
      t.is(ps.length, 2, `${id} ran ${ps.length} times: ${ps.join(' ')}`)
      t.is(ps[0], killed, `${id}: its first run was in the killed process`)
      t.not(by, killed, `${id}: completed by a survivor`)
    } else if (ps[0] === killed && by !== killed) t.fail(`${id}: ran only in the killed process, completed by ${by}`)
    if (ps.includes(killed) && by !== killed) killedRerun++
  }
  t.is(byJob.size, N, 'every job ran')
  t.is(dups, killedRerun, 'the jobs run twice are exactly the killed process\'s unfinished ones')
  t.true(killedCompleted > 0, 'the killed process completed jobs before it died')
  t.log(`runs ${await r.llen(runs)} for ${N} jobs: ${dups} run twice (running in ${killed} when it was killed, then completed by a survivor); ${killedCompleted} completed by ${killed} before`)
  }
})
