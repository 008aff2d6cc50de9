// runq: the run queue and the runtime lock, uncontended, against a plain JS
// array used as a queue (push + shift) in the same run.
//
// Targets (issue 2, on the 2-core machines): runqput + runqget <= 50 ns,
// lock + unlock <= 30 ns.

import {
  SharedHeap, lock, pbase, runqget, runqput, runqsteal, schedw, unlock, P_RUNQHEAD, P_RUNQTAIL, SCHED_LOCK,
} from 'gort/internal'
import { runBatched, type Suite } from '../harness.js'

const BATCH = 1000

export const runqSuite: Suite = {
  name: 'runq',
  description: 'runqput+runqget, a steal of 128, lock+unlock; ratio to Array push+shift',
  async run() {
    const h = SharedHeap.create({ maxProcs: 2, runqSize: 256, maxMs: 1, maxGs: 1024, arenaBytes: 0 })
    const m = h.i32
    const sl = schedw(h.layout, SCHED_LOCK)
    const arr: number[] = []
    let sink = 0

    // P0 holds 256 Gs for the steal; P1 steals 128 and the two stores after
    // the steal undo it (the slots still hold the Gs), so every call steals
    // from the same full ring.
    for (let g = 1; g <= 256; g++) runqput(h, 0, g, false)
    const p0 = pbase(h.layout, 0)
    const p1 = pbase(h.layout, 1)
    const STEAL_BATCH = 100

    const rows = await runBatched([
      {
        name: 'Array push + shift',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) {
            arr.push(i)
            sink += arr.shift()!
          }
        },
      },
      {
        name: 'runqput + runqget',
        batch: BATCH,
        baseline: 'Array push + shift',
        target: 50,
        fn: () => {
          for (let i = 1; i <= BATCH; i++) {
            runqput(h, 1, i, false)
            sink += runqget(h, 1)
          }
        },
      },
      {
        name: 'runqput(next) + runqget',
        batch: BATCH,
        baseline: 'Array push + shift',
        fn: () => {
          for (let i = 1; i <= BATCH; i++) {
            runqput(h, 1, i, true)
            sink += runqget(h, 1)
          }
        },
      },
      {
        name: 'runqsteal of 128 (+ 2-store reset)',
        batch: STEAL_BATCH,
        baseline: 'Array push + shift',
        fn: () => {
          for (let i = 0; i < STEAL_BATCH; i++) {
            sink += runqsteal(h, 1, 0, false)
            m[p0 + P_RUNQHEAD] -= 128
            m[p1 + P_RUNQTAIL] -= 127
          }
        },
      },
      {
        name: 'lock + unlock',
        batch: BATCH,
        baseline: 'Array push + shift',
        target: 30,
        fn: () => {
          for (let i = 0; i < BATCH; i++) {
            lock(m, sl)
            unlock(m, sl)
          }
        },
      },
    ])
    if (sink === 0.5) console.log(sink) // keep sink alive
    return { suite: 'runq', rows }
  },
}
