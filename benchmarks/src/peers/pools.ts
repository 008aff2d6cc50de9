// The worker pools the suites compare gort with, started the same way
// everywhere: `threads` workers (min = max, so no worker starts or exits
// mid-measurement), everything else at the pool's defaults unless a suite
// says otherwise.

import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { Tinypool } from 'tinypool'
import workerpool, { type Pool } from 'workerpool'

export const TASK_URL = new URL('./task.js', import.meta.url).href

/** The workerpool worker script: registers task.ts's inc as 'inc'. */
const WORKERPOOL_TASK = fileURLToPath(new URL('./workerpool-task.js', import.meta.url))

export function startPiscina(threads: number, concurrentTasksPerWorker?: number): Piscina {
  return new Piscina({
    filename: TASK_URL,
    minThreads: threads,
    maxThreads: threads,
    ...(concurrentTasksPerWorker === undefined ? {} : { concurrentTasksPerWorker }),
  })
}

export function startTinypool(threads: number): Tinypool {
  return new Tinypool({ filename: TASK_URL, minThreads: threads, maxThreads: threads })
}

/**
 * workerpool on worker threads (workerType 'thread'; its default on Node
 * would also be threads, but 'auto' could pick child processes elsewhere),
 * min = max workers. Run a task with runWorkerpool(pool, x).
 */
export function startWorkerpool(threads: number): Pool {
  return workerpool.pool(WORKERPOOL_TASK, { workerType: 'thread', minWorkers: threads, maxWorkers: threads })
}

/**
 * One task on a workerpool pool: exec('inc', [x]). workerpool answers with
 * its own promise class (cancellable, with timeouts); a thenable, awaited
 * and Promise.all'ed like a native one.
 */
export function runWorkerpool(pool: Pool, x: number): PromiseLike<number> {
  return pool.exec('inc', [x]) as PromiseLike<number>
}
