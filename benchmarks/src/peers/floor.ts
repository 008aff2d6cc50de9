// FloorPool: the least a worker pool built on postMessage can do per task,
// the transport floor the pools are measured against. N workers, tasks
// dealt round robin, one message to the worker and one back per task, no
// queueing, no task ids (each worker answers in order, so a FIFO of
// resolvers per worker is enough), no error handling.

import { Worker } from 'node:worker_threads'

export class FloorPool {
  private readonly workers: Worker[] = []
  private readonly pending: Array<Array<(v: number) => void>> = []
  private readonly heads: number[] = []
  private next = 0

  private constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./floor-worker.js', import.meta.url))
      const q: Array<(v: number) => void> = []
      this.workers.push(w)
      this.pending.push(q)
      this.heads.push(0)
      w.on('message', (v: number) => {
        const resolve = q[this.heads[i]]
        q[this.heads[i]++] = undefined as never
        if (this.heads[i] === q.length) {
          q.length = 0
          this.heads[i] = 0
        }
        resolve(v)
      })
    }
  }

  /** Starts n workers and waits until each has answered once. */
  static async start(n: number): Promise<FloorPool> {
    const p = new FloorPool(n)
    await Promise.all(p.workers.map((_, i) => p.runOn(i, 0)))
    return p
  }

  run(x: number): Promise<number> {
    const i = this.next
    this.next = i + 1 === this.workers.length ? 0 : i + 1
    return this.runOn(i, x)
  }

  private runOn(i: number, x: number): Promise<number> {
    return new Promise<number>((resolve) => {
      this.pending[i].push(resolve)
      this.workers[i].postMessage(x)
    })
  }

  async destroy(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
