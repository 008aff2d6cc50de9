// gort/pool's per-thread state: what a task sees through Piscina's statics
// (isWorkerThread, workerData, threadId), and the pool's options that shape
// an M's process (env, argv, execArgv).
//
// A pool starts a runtime of its own, and every M of that runtime imports
// poolconfig.js?c=<the options, serialized> before it runs anything (the
// runtime's `modules` option), so a task module that reads
// `Piscina.workerData` at its top level finds it set. The state lives on
// globalThis under a registered symbol, so that a second copy of gort in
// one thread (a task file resolving another install) still agrees.

import { threadId as nodeThreadId } from 'node:worker_threads'

export interface PoolThreadState {
  /** true on an M of a pool's runtime (set by poolconfig.js). */
  isWorkerThread: boolean
  /** The pool's workerData option, cloned. */
  workerData: unknown
  /** The thread's id (worker_threads.threadId); 0 on the app's main thread. */
  threadId: number
}

/** What the host passes to every M of a pool's runtime (poolconfig.js). */
export interface PoolConfig {
  workerData?: unknown
  env?: Record<string, string | undefined>
  argv?: unknown[]
  execArgv?: string[]
  /** piscina's niceIncrement: each M lowers its own thread's priority by it (@napi-rs/nice, if installed). */
  niceIncrement?: number
}

const kState = Symbol.for('gort.pool.state')

/** This thread's pool state. Any thread. */
export function poolState(): PoolThreadState {
  const g = globalThis as unknown as Record<symbol, PoolThreadState | undefined>
  return (g[kState] ??= { isWorkerThread: false, workerData: undefined, threadId: nodeThreadId })
}
