// go() inside a goroutine, the M's side: Go's newproc called from a
// goroutine. spawn.ts holds go() itself and calls the hook mstart installs
// here (setSpawnHook); on any other thread there is no hook.
//
// Two kinds: a registered goroutine function becomes an unstarted G (data:
// proc.ts newproc) on this M's P, free to run on any M; a plain generator
// function (a closure) cannot leave this thread, so spawnLocal starts it
// at once and queues it on this M's localq. Both take a count from this M's
// gcount credit (gcredit.ts) for the new G. Executed only on an M, inside a
// goroutine's step (thisM.curg !== 0), with the P lent (Pexec).

import { gbase, schedw, G_ARG, G_GOID, G_LSLOT, G_M, M_NGS, M_NSTARTED, P_RUNQHEAD, P_RUNQTAIL, P_STATUS, SCHED_LOCK, SCHED_NPIDLE } from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { gfget, newproc, newproc1, wakep } from './proc.js'
import { goroutineMeta, describeFn, isGeneratorFunction } from './registry.js'
import { globrunqput, runqput } from './runq.js'
import { Gflags, Pstatus } from './runtime2.js'
import type { SpawnHook } from './spawn.js'
import { gcountTake } from './gcredit.js'
import { goexit } from './execute.js'
import { h, l, m, mb, mid, pb, pp, thisM, localq, slotput } from './mstate.js'

/** The M's go() (spawn.ts): installed by mstart with setSpawnHook. */
export const spawnHook: SpawnHook = (fn, args) => {
  if (thisM.curg === 0) throw new Error('go: called outside a goroutine')
  const meta = goroutineMeta(fn)
  if (meta === undefined) {
    if (!isGeneratorFunction(fn)) {
      throw new TypeError(`go: expected a goroutine function (registered with goroutines()) or a generator function, got ${describeFn(fn)}`)
    }
    return spawnLocal(fn, args)
  }
  const gp = newproc(h, meta, args, 0, true)
  gcountTake()
  const goid = m[gbase(l, gp) + G_GOID]
  // Go's newproc: the new G goes to runnext and wakes a P if one is idle.
  // We are inside a step, our P lent (Pexec): take it back to touch its
  // run queue, and lend it again. If sysmon took it, the global queue.
  // Go wakes an idle P here whenever one exists. We skip the wake when the
  // new G sits alone in runnext and our goroutine is the only one living on
  // this M: a goroutine that starts one and then exits or blocks (a chain)
  // runs it next here, and waking an M for it costs more than the goroutine
  // (a futex wake and a context switch on a 2-core machine: up to 100 µs of
  // the waker's time; CreateGoroutines 2.95 -> 3.55 M/s). Where placement
  // matters we still wake: started goroutines never leave their M, so when
  // this M already hosts others (a pipeline, a pool), new ones must get the
  // chance to start elsewhere. And if the step goes on instead, sysmon sees
  // the runnext G waiting at its next look (20 µs to 2 ms) and wakes a P for
  // it (sysmon.ts, wakeRunnext).
  let more = true
  if (pp >= 0 && Atomics.compareExchange(m, pb + P_STATUS, Pstatus.Pexec, Pstatus.Prunning) === Pstatus.Pexec) {
    runqput(h, pp, gp, true)
    // More in the ring than runnext (we own the tail), or others on this M.
    more = Atomics.load(m, pb + P_RUNQHEAD) !== m[pb + P_RUNQTAIL] || m[mb + M_NGS] > 1
    Atomics.store(m, pb + P_STATUS, Pstatus.Pexec)
  } else {
    lock(m, schedw(l, SCHED_LOCK))
    globrunqput(h, gp)
    unlock(m, schedw(l, SCHED_LOCK))
  }
  if (more && Atomics.load(m, schedw(l, SCHED_NPIDLE)) > 0) wakep(h)
  return goid
}

/** go(function* () {...}) in a goroutine: a closure that starts, and stays, here. */
function spawnLocal(fn: (...a: unknown[]) => Generator<unknown, unknown, unknown>, args: unknown[]): number {
  const gp = gfget(h)
  if (gp < 0) throw new RangeError(`go: more than ${l.maxGs - 1} goroutines; raise the maxGoroutines option`)
  const gb = gbase(l, gp)
  m[gb + G_ARG] = 0
  gcountTake()
  const goid = newproc1(h, gb, -1, Gflags.Glocal, true)
  m[gb + G_M] = mid + 1
  // Plain: this M is the only writer; others read them for stats.
  m[mb + M_NGS]++
  m[mb + M_NSTARTED]++
  try {
    slotput(gb, fn(...args))
  } catch (e) {
    m[gb + G_LSLOT] = -1
    goexit(gp, gb, e, true)
    return goid
  }
  localq.push(gp)
  return goid
}
