// latency: one task at a time from the main thread to an idle runtime or
// pool, each awaited before the next is sent: `await rt.run(bench.inc, 1)`
// against `await piscina.run(1)` (default options, as many threads as gort
// has Ps), against `await pool.exec('inc', [1])` on workerpool (worker
// threads, as many), and against one postMessage to a worker and one back
// (FloorPool, the transport floor). Every thread of each is asleep when a
// task arrives: gort's Ms park as soon as they find no work, the pools'
// workers wait for the next message.
//
// The figures are the median and the 99th percentile over every sample of
// every round (tinybench times each await; 1 s of them per round and
// contender, 5 rounds alternating).
//
// Twice: as the machine is, and with one busy-looping process at nice 19
// beside it. On these VMs a thread woken on a vCPU that has halted (nothing
// else to run) waits for the hypervisor to wake that vCPU, about 50 µs
// (DESIGN.md's futex round trip), while a wake-up on a vCPU that is running
// something, however unimportant, takes about 10 µs: on a quiet machine the
// figure measures mostly the hypervisor, and which contender parks its
// threads more deeply. The spinner keeps one vCPU awake and yields it at
// once to any normal-priority thread that wakes (CFS weights nice 19 at 15
// against 1024), which is what a busy server sees.

import { spawn } from 'node:child_process'
import os from 'node:os'
import { Runtime } from 'gort'
import { runRounds, sleep, type Row, type SampledTask, type Suite } from '../harness.js'
import { bench } from '../goroutines.js'
import { FloorPool } from '../peers/floor.js'
import { runWorkerpool, startPiscina, startWorkerpool } from '../peers/pools.js'

const TIME_MS = Number(process.env.LATENCY_MS) || 1000

export const latencySuite: Suite = {
  name: 'latency',
  description: 'sequential latency of one rt.run(inc, 1) to an idle runtime; ratio to piscina.run, workerpool exec and one postMessage round trip',
  async run() {
    const procs = Number(process.env.GOMAXPROCS) || os.availableParallelism()
    const rt = await Runtime.start({ procs, modules: [new URL('../goroutines.js', import.meta.url)] })
    const piscina = startPiscina(procs)
    const workerpool = startWorkerpool(procs)
    const floor = await FloorPool.start(procs)
    const check = (v: number): void => {
      if (v !== 2) throw new Error(`latency: got ${v}, expected 2`)
    }
    try {
      const tasks = (suffix: string): SampledTask[] => [
        { name: `piscina.run(1), default options${suffix}`, ops: 1, fn: async () => check(await piscina.run(1)) },
        {
          name: `gort: rt.run(inc, 1)${suffix}`,
          ops: 1,
          baseline: `piscina.run(1), default options${suffix}`,
          fn: async () => check(await rt.run(bench.inc, 1)),
        },
        {
          name: `workerpool exec('inc', [1]), workerType 'thread'${suffix}`,
          ops: 1,
          baseline: `piscina.run(1), default options${suffix}`,
          fn: async () => check(await runWorkerpool(workerpool, 1)),
        },
        {
          name: `postMessage to a worker and back (floor)${suffix}`,
          ops: 1,
          baseline: `piscina.run(1), default options${suffix}`,
          fn: async () => check(await floor.run(1)),
        },
      ]
      const opts = { samples: 50, time: TIME_MS, warmup: 200 }
      const rows: Row[] = await runRounds(tasks(''), opts)
      rows.push(...(await withSpinner(() => runRounds(tasks(', + nice-19 spinner'), opts))))
      return {
        suite: 'latency',
        rows,
        notes: [
          `one op = one task sent from the main thread and its result awaited, one at a time; procs ${procs}, pools of ${procs} threads (workerpool: minWorkers = maxWorkers = ${procs})`,
          '", + nice-19 spinner": the same with one busy-looping process at nice 19 running beside (keeps a vCPU from halting; see suites/latency.ts)',
        ],
      }
    } finally {
      await Promise.all([rt.close(), piscina.destroy(), workerpool.terminate(), floor.destroy()])
    }
  },
}

/** Runs fn while a child process busy-loops at nice 19. */
async function withSpinner<T>(fn: () => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
  try {
    if (child.pid !== undefined) os.setPriority(child.pid, 19)
    await sleep(100)
    return await fn()
  } finally {
    child.kill()
  }
}
