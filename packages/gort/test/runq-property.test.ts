// Property test: random sequences of put, put-next, get, steal, overflow and
// global-queue gets on two Ps, single-threaded, against a plain array model
// of Go's semantics.

import test from 'ava'
import fc from 'fast-check'
import {
  SharedHeap, globrunqget, globrunqsize, lock, runqempty, runqget, runqput, runqsteal, schedw, unlock,
  SCHED_GOMAXPROCS, SCHED_LOCK,
} from 'gort/internal'
import * as internal from 'gort/internal'

type Op =
  | { op: 'put'; p: 0 | 1; next: boolean }
  | { op: 'get'; p: 0 | 1 }
  | { op: 'steal'; thief: 0 | 1; runnext: boolean }
  | { op: 'glob'; p: 0 | 1; max: number }

const pArb = fc.constantFrom<0 | 1>(0, 1)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), p: pArb, next: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), p: pArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('steal' as const), thief: pArb, runnext: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('glob' as const), p: pArb, max: fc.integer({ min: 0, max: 5 }) }) },
)

interface ModelP { ring: number[]; next: number }

for (const size of [4, 256]) {
  test(`runq matches the array model at capacity ${size}`, (t) => {
    // fc.assert throws with the counterexample and its seed on failure.
    t.notThrows(() => fc.assert(
      fc.property(fc.array(opArb, { maxLength: size === 4 ? 120 : 1200 }), (ops) => {
        const h = SharedHeap.create({ maxProcs: 2, runqSize: size, maxMs: 1, maxGs: ops.length + 2, arenaBytes: 0 })
        h.i32[schedw(h.layout, SCHED_GOMAXPROCS)] = 2
        const ps: ModelP[] = [{ ring: [], next: 0 }, { ring: [], next: 0 }]
        const glob: number[] = []
        let gid = 0
        const pushRing = (mp: ModelP, g: number): void => {
          if (mp.ring.length === size) glob.push(...mp.ring.splice(0, size / 2), g)
          else mp.ring.push(g)
        }
        for (const o of ops) {
          switch (o.op) {
            case 'put': {
              const g = ++gid
              runqput(h, o.p, g, o.next)
              const mp = ps[o.p]
              if (o.next) {
                const old = mp.next
                mp.next = g
                if (old !== 0) pushRing(mp, old)
              } else {
                pushRing(mp, g)
              }
              break
            }
            case 'get': {
              const mp = ps[o.p]
              const got = runqget(h, o.p)
              let want = 0
              let inherit = false
              if (mp.next !== 0) {
                want = mp.next
                mp.next = 0
                inherit = true
              } else if (mp.ring.length > 0) {
                want = mp.ring.shift()!
              }
              if (got !== want || (want !== 0 && internal.runqgetInheritTime !== inherit)) return false
              break
            }
            case 'steal': {
              const thief = ps[o.thief]
              const victim = ps[1 - o.thief]
              // Go steals only into an empty ring (findRunnable's precondition).
              if (thief.ring.length !== 0) break
              const got = runqsteal(h, o.thief, 1 - o.thief, o.runnext)
              const n = victim.ring.length - (victim.ring.length >> 1)
              let want = 0
              if (n > 0) {
                const batch = victim.ring.splice(0, n)
                want = batch.pop()!
                thief.ring.push(...batch)
              } else if (o.runnext && victim.next !== 0) {
                want = victim.next
                victim.next = 0
              }
              if (got !== want) return false
              break
            }
            case 'glob': {
              const mp = ps[o.p]
              if (mp.ring.length > size / 2) break // globrunqget's batch must fit the ring
              lock(h.i32, schedw(h.layout, SCHED_LOCK))
              const got = globrunqget(h, o.p, o.max)
              unlock(h.i32, schedw(h.layout, SCHED_LOCK))
              let want = 0
              if (glob.length > 0) {
                let n = Math.min(glob.length, Math.floor(glob.length / 2) + 1)
                if (o.max > 0) n = Math.min(n, o.max)
                n = Math.min(n, size / 2)
                const batch = glob.splice(0, n)
                want = batch.shift()!
                for (const g of batch) pushRing(mp, g)
              }
              if (got !== want) return false
              break
            }
          }
          if (globrunqsize(h) !== glob.length) return false
          for (const p of [0, 1] as const) {
            if (runqempty(h, p) !== (ps[p].ring.length === 0 && ps[p].next === 0)) return false
          }
        }
        // Drain both Ps and compare the remaining contents in order.
        for (const p of [0, 1] as const) {
          const want = (ps[p].next !== 0 ? [ps[p].next] : []).concat(ps[p].ring)
          const got: number[] = []
          for (let g; (g = runqget(h, p)) !== 0; ) got.push(g)
          if (got.join() !== want.join()) return false
        }
        return true
      }),
      { numRuns: size === 4 ? 400 : 100 },
    ))
  })
}
