// The worker pools the suites compare gort with, started the same way
// everywhere: `threads` workers (min = max, so no worker starts or exits
// mid-measurement), everything else at the pool's defaults unless a suite
// says otherwise.

import { Piscina } from 'piscina'
import { Tinypool } from 'tinypool'

export const TASK_URL = new URL('./task.js', import.meta.url).href

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
