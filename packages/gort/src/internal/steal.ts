// Work stealing for a spinning M (Go's stealWork and randomOrder).
//
// A spinning M holds a P with an empty run queue and looks at the other Ps'
// queues. It visits them in a random order so that spinning Ms do not all
// converge on the same victim: start at a random P and step by an increment
// coprime to the P count, so every P is visited exactly once per pass.

import type { SharedHeap } from './heap.js'
import type { FastRand } from './fastrand.js'
import { pbase, P_STATUS } from './layout.js'
import { runqsteal } from './runq.js'
import { Pstatus } from './runtime2.js'

/** Go's randomOrder: the coprimes of the P count, recomputed when GOMAXPROCS changes. */
class RandomOrder {
  count = 0
  coprimes: number[] = []

  reset(count: number): void {
    this.count = count
    this.coprimes = []
    for (let i = 1; i <= count; i++) if (gcd(i, count) === 1) this.coprimes.push(i)
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

const order = new RandomOrder()

/**
 * Go's stealWork: four passes over the other Ps in random order, taking
 * half of a victim's run queue into ours (pp); runnext only on the last
 * pass, so a G just readied on its P gets a chance to run there first.
 * Idle Ps are skipped (their queues are empty by pidleput's rule). Returns
 * a G to run, or 0.
 */
export function stealWork(h: SharedHeap, pp: number, procs: number, rnd: FastRand): number {
  if (order.count !== procs) order.reset(procs)
  const { coprimes } = order
  const m = h.i32
  const l = h.layout
  for (let i = 0; i < 4; i++) {
    const stealRunNextG = i === 3
    const r = rnd.next()
    let pos = r % procs
    const inc = coprimes[Math.floor(r / procs) % coprimes.length]
    for (let k = 0; k < procs; k++, pos = (pos + inc) % procs) {
      if (pos === pp) continue
      if (Atomics.load(m, pbase(l, pos) + P_STATUS) === Pstatus.Pidle) continue
      const gp = runqsteal(h, pp, pos, stealRunNextG)
      if (gp !== 0) return gp
    }
  }
  return 0
}
