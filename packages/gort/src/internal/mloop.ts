// The M: a worker thread running Go's scheduler loop (proc.go's schedule,
// findRunnable, stealWork, execute, goexit, stopm, entersyscall/exitsyscall).
//
// The one constraint (docs/design/scheduler.md): a generator lives in the isolate that
// created it. So an M keeps, in its own memory, the generators of the
// goroutines it started, and serves two kinds of runnable work:
//
//  - unstarted Gs, which are data (a function index and encoded arguments)
//    on the P run queues and the global queue, and move freely between Ms
//    with their Ps, by stealing and by handoff, as in Go;
//  - started Gs, which live on this M for life. When one becomes runnable it
//    goes to this M's own queues: `localnext` and `localq` when this thread
//    readied it, M.readyq (a shared stack) when another thread did. This M
//    must hold a P to run them; an M that has such work and no P parks on
//    sched.mwant, and whoever frees a P offers it there first (proc.ts).
//
// Neither kind may starve the other. findRunnable alternates between the
// started Gs and the P's run queue by schedtick parity (after runnext, which
// keeps Go's inheritTime rule for the unstarted kind, and localnext, its
// counterpart for the started kind), and a yielding or preempted goroutine
// goes to the back of localq. Ms take turns with a P through sched.mwant: a
// running M hands its P on when an M is waiting and its own turn has lasted
// a time slice (TIME_SLICE_MS).
//
// The loop is asynchronous only at its edges. schedule() runs a synchronous
// burst of goroutines; it returns to mloop() when the M must let its event
// loop run (goroutines wait on promises or module imports), when it found no
// work, or when it gave its P away. Parking is a blocking notesleep when
// nothing can arrive through the event loop, and an Atomics.waitAsync on the
// same note when something can.
//
// This file is the schedule loop: mstart and mloop; getting a P (getp,
// takeNextp) and parking without one (park, spinBeforePark, unidle, retire:
// Go's stopm in two halves); findRunnable and its tail idle() with the
// delicate dance; spinning (becomeSpinning, resetspinning); schedule and
// yieldP; stealing (drainReadyq, stealWork). Running the goroutine it found
// is execute.ts; go() inside a goroutine, mspawn.ts; the gcount credit,
// gcredit.ts; the M's own state and the P it holds (acquirep, releasep,
// dropp, endStep), mstate.ts. Everything here is executed only by this M,
// on its own thread.

import { parentPort } from 'node:worker_threads'
import { setSelectRand } from './select.js'
import { importModule } from './loader.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, mbase, pbase, schedw,
  G_SCHEDLINK, M_LOCKS, M_NEXTP, M_NGS, M_PARK, M_READYQ, M_SLEEP, M_SPINNING, M_STATE, M_WANTP,
  P_SCHEDTICK, P_STATUS, SCHED_GOMAXPROCS, SCHED_LOCK,
  SCHED_NEEDSPINNING, SCHED_NMSPINNING, SCHED_NMWANT, SCHED_NPIDLE,
  SCHED_GFLOCK, HEAP_LOCK, heapw, SCHED_NMIDLE,
} from './layout.js'
import { lock, noteclear, notetsleep, notetsleepAsync, notewakeup, trackLocks, unlock } from './lock_futex.js'
import { FastRand, randomSeed } from './fastrand.js'
import {
  handoffp, mput, setThreadM, mremove, mwantput, mwantremove, pidleget, pidlegetSpinning, releasepLocked, wakem, wakep, mwantget,
} from './proc.js'
import { globrunqget, globrunqsize, runqempty, runqget, runqsteal, runqgetInheritTime } from './runq.js'
import { Msleep, Mstate, Pstatus } from './runtime2.js'
import { setSpawnHook } from './spawn.js'
import { throwFatal } from './throw.js'
import { collectIfAsked } from './gc.js'
import {
  h, l, m, mb, mid, minit, pb, pp, thisM, HOUSEKEEPING_MS, localq, loading, loaded, loadErrors,
  acquirep, releasep,
} from './mstate.js'
import { asyncPending, execute, readyHere } from './execute.js'
import { spawnHook } from './mspawn.js'
import { flushGcount } from './gcredit.js'

/** How long an M keeps its P while another M waits for one (Go's forcePreemptNS). */
const TIME_SLICE_MS = 10
/** With promises pending, let the event loop run at least this often. */
const EVENT_LOOP_MS = 2

/** An M idle this long retires (0: never); Runtime.start's mIdleTimeoutMs. */
let idleTimeoutMs = 0
/** How often a parked M wakes to see whether the heap asked for a collection (gc.ts). */
const IDLE_GC_MS = 250

// What schedule() tells mloop().
const IDLE = 0
const YIELD = 1
const NOP = 2

let rnd: FastRand
let inheritTime = false

/**
 * The M's entry point (mstart): attaches to the heap and runs the scheduler
 * loop until the worker is terminated.
 */
export async function mstart(heap: SharedHeap, id: number, modules: readonly string[], idleTimeout = 0): Promise<void> {
  idleTimeoutMs = idleTimeout
  minit(heap, id)
  rnd = new FastRand(randomSeed() ^ (id * 0x9e3779b9))
  setSpawnHook(spawnHook)
  setThreadM(h, mid, readyHere, () => thisM.curg, asyncPending)
  // Record which runtime locks this M holds, so that if it dies holding one
  // the host can release it (Runtime's mdied).
  trackLocks(mb + M_LOCKS, [schedw(l, SCHED_LOCK), heapw(l, HEAP_LOCK), schedw(l, SCHED_GFLOCK)])
  setSelectRand((n) => rnd.n(n))
  for (const url of modules) {
    try {
      await importModule(url)
      loaded.add(url)
    } catch (e) {
      loadErrors.set(url, e)
    }
  }
  Atomics.store(m, mb + M_STATE, Mstate.Mrunning)
  // The eager modules it could not import: Runtime.start rejects naming them (newm.ts).
  const failed = [...loadErrors].map(([url, e]) => ({ url, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }))
  parentPort?.postMessage({ type: 'ready', mid, failed })
  await mloop()
}

async function mloop(): Promise<void> {
  for (;;) {
    if (pp < 0 && !getp()) {
      if (await park()) return // retired
      continue
    }
    const why = schedule()
    flushGcount()
    if (why === YIELD) {
      collectIfAsked(h)
      await yieldToEventLoop()
    } else if (why === IDLE) {
      if (collectIfAsked(h)) await yieldToEventLoop()
      await idle()
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function hasLocalWork(): boolean {
  return thisM.localnext !== 0 || localq.length > 0 || Atomics.load(m, mb + M_READYQ) !== 0
}

/** Takes the P that startm or releasepLocked handed us. sched.lock must be held. */
function takeNextp(): boolean {
  const np = m[mb + M_NEXTP]
  if (np === 0) return false
  m[mb + M_NEXTP] = 0
  // startm counted us in nmspinning when it set M.spinning; we were not
  // spinning before (mput and mwantput refuse a spinning M).
  if (m[mb + M_SPINNING] !== 0) thisM.spinning = true
  acquirep(np - 1)
  return true
}

/**
 * An M without a P: take the P we were handed, or, if we have goroutines of
 * our own to run, an idle P, or else wait on sched.mwant; with nothing to
 * run, go on the idle M list. Returns whether we hold a P.
 */
function getp(): boolean {
  lock(m, schedw(l, SCHED_LOCK))
  if (takeNextp()) {
    unlock(m, schedw(l, SCHED_LOCK))
    return true
  }
  const local = hasLocalWork()
  // Global work with an idle P and nobody to run it (a new M, or work left
  // by a startm that found no M): take it, unless this M is importing a
  // module, in which case it would only bounce the work (startg).
  if (local || (loading.size === 0 && globrunqsize(h) > 0)) {
    const p = pidleget(h)
    if (p >= 0) {
      if (m[mb + M_WANTP] !== 0) mwantremove(h, mid)
      unlock(m, schedw(l, SCHED_LOCK))
      acquirep(p)
      return true
    }
  }
  if (thisM.spinning) throwFatal('stopm', 'spinning M without a P')
  if (local) {
    mwantput(h, mid)
  } else if (m[mb + M_WANTP] === 0) {
    mput(h, mid) // Go's stopm
  }
  unlock(m, schedw(l, SCHED_LOCK))
  return false
}

/**
 * Go's mPark/notesleep with the M.sleep protocol of proc.ts: sleeps until a
 * waker wins M.sleep. Blocking when nothing can arrive through the event
 * loop, asynchronous when something can. On waking, leaves the idle M list
 * if a waker readied one of our goroutines without giving us a P.
 */
async function park(): Promise<boolean> {
  Atomics.store(m, mb + M_STATE, Mstate.Midle)
  const parkedAt = performance.now()
  // Spin a moment before sleeping (Go's Ms spin before they park, too):
  // a goroutine of ours readied by another M within PARK_SPIN_MS is seen
  // here, with no futex wake, which costs the waker a system call and, on a
  // 2-core machine, often a context switch (a channel hand-off between Ms
  // whose receiver had parked took 30-70 µs; spinning, a few µs). Wakers
  // notify only an M that announced its sleep (M.sleep), so a spinning M
  // is found by its readyq or M.nextp alone.
  if (spinBeforePark(parkedAt)) {
    unidle()
    return false
  }
  // Announce the sleep, then look for work once more (Dekker pair with readyOnM).
  // Global work with a P idle counts too, once no import of ours is pending:
  // getp() passes global work by while this M imports a module (it would
  // only bounce it), and the import can finish after that getp() and before
  // this sleep, when its wakem finds us awake and does nothing. Without this
  // look the work waited for another M (sysmon's wake guard found it).
  Atomics.store(m, mb + M_SLEEP, Msleep.Mparked)
  if (hasLocalWork() || Atomics.load(m, mb + M_NEXTP) !== 0 || globalWorkForUs()) {
    if (Atomics.compareExchange(m, mb + M_SLEEP, Msleep.Mparked, Msleep.Mwoken) === Msleep.Mparked) {
      notewakeup(m, mb + M_PARK)
    }
  }
  // Asleep, still look up every IDLE_GC_MS: when the heap asked for a
  // collection, collect and let the finalizers run (they free the shared
  // records this thread's dead handles held).
  for (;;) {
    const woken = thisM.pendingAsync > 0
      ? await notetsleepAsync(m, mb + M_PARK, IDLE_GC_MS * 1e6)
      : notetsleep(m, mb + M_PARK, IDLE_GC_MS * 1e6)
    if (woken) break
    if (collectIfAsked(h)) await yieldToEventLoop()
    if (idleTimeoutMs > 0 && performance.now() - parkedAt >= idleTimeoutMs && retire()) return true
  }
  noteclear(m, mb + M_PARK)
  Atomics.store(m, mb + M_SLEEP, Msleep.Mawake)
  unidle()
  return false
}

/** Back from idle: running again, with the P a waker handed us, else off the idle M list. */
function unidle(): void {
  Atomics.store(m, mb + M_STATE, Mstate.Mrunning)
  lock(m, schedw(l, SCHED_LOCK))
  if (!takeNextp() && m[mb + M_WANTP] === 0) mremove(h, mid)
  unlock(m, schedw(l, SCHED_LOCK))
}

/** Work on the global queue that this M would take now (getp): no import pending, a P idle. */
function globalWorkForUs(): boolean {
  return loading.size === 0 && globrunqsize(h) > 0 && Atomics.load(m, schedw(l, SCHED_NPIDLE)) > 0
}

/** How long park() watches for work before it sleeps. */
const PARK_SPIN_MS = 0.015

/** Whether work for this M came (a readied goroutine, a P handed over) within PARK_SPIN_MS of t0. */
function spinBeforePark(t0: number): boolean {
  for (let i = 0; ; i++) {
    if (Atomics.load(m, mb + M_READYQ) !== 0 || Atomics.load(m, mb + M_NEXTP) !== 0) return true
    if ((i & 15) === 15 && performance.now() - t0 >= PARK_SPIN_MS) return false
  }
}

/**
 * An M idle past the idle timeout leaves, if nothing lives on it and
 * another idle M stays as the spare: it takes itself off sched.midle under
 * sched.lock (so no startm can pick it any more; if one already did, it
 * stays), marks itself Mretired, and its thread ends. The host may reuse
 * its record for a new M.
 */
function retire(): boolean {
  if (thisM.pendingAsync > 0 || hasLocalWork() || Atomics.load(m, mb + M_NGS) !== 0) return false
  lock(m, schedw(l, SCHED_LOCK))
  if (m[schedw(l, SCHED_NMIDLE)] < 2 || m[mb + M_NEXTP] !== 0 || !mremove(h, mid)) {
    unlock(m, schedw(l, SCHED_LOCK))
    return false
  }
  Atomics.store(m, mb + M_STATE, Mstate.Mretired)
  unlock(m, schedw(l, SCHED_LOCK))
  return true
}

/**
 * The tail of Go's findRunnable when nothing was found: give up the P (to an
 * M that wants one, or to the idle list), do the "delicate dance" of a
 * spinning M that stops spinning (re-check every source after dropping
 * nmspinning, so no work submitted meanwhile is left without an M), then
 * park.
 */
async function idle(): Promise<void> {
  lock(m, schedw(l, SCHED_LOCK))
  if (globrunqsize(h) !== 0 || hasLocalWork()) {
    unlock(m, schedw(l, SCHED_LOCK))
    return
  }
  if (!thisM.spinning && Atomics.load(m, schedw(l, SCHED_NEEDSPINNING)) === 1) {
    becomeSpinning()
    unlock(m, schedw(l, SCHED_LOCK))
    return
  }
  const p = releasep()
  const waiter = releasepLocked(h, p)
  unlock(m, schedw(l, SCHED_LOCK))
  if (waiter >= 0) wakem(h, waiter)

  if (thisM.spinning) {
    // Go's "delicate dance": stop spinning, then look again at every source
    // of work. A spawner that saw us spinning skipped its wakep; either it
    // published its work before our decrement (we see it now) or it sees
    // nmspinning without us and wakes an M itself.
    thisM.spinning = false
    m[mb + M_SPINNING] = 0
    if (Atomics.sub(m, schedw(l, SCHED_NMSPINNING), 1) - 1 < 0) throwFatal('findRunnable', 'negative nmspinning')
    // Check the global queue and every P's queue again.
    lock(m, schedw(l, SCHED_LOCK))
    if (globrunqsize(h) !== 0) {
      const p2 = pidlegetSpinning(h)
      if (p2 >= 0) {
        unlock(m, schedw(l, SCHED_LOCK))
        acquirep(p2)
        becomeSpinning()
        return
      }
    }
    unlock(m, schedw(l, SCHED_LOCK))
    for (let i = 0; i < Atomics.load(m, schedw(l, SCHED_GOMAXPROCS)); i++) {
      if (!runqempty(h, i)) {
        lock(m, schedw(l, SCHED_LOCK))
        const p2 = pidlegetSpinning(h)
        unlock(m, schedw(l, SCHED_LOCK))
        if (p2 >= 0) {
          acquirep(p2)
          becomeSpinning()
          return
        }
        break
      }
    }
  }
  if (!getp()) await park()
}

/** Counts this M in nmspinning. It must hold a P. */
function becomeSpinning(): void {
  if (pp < 0) throwFatal('becomeSpinning', 'no P')
  thisM.spinning = true
  m[mb + M_SPINNING] = 1
  Atomics.add(m, schedw(l, SCHED_NMSPINNING), 1)
  Atomics.store(m, schedw(l, SCHED_NEEDSPINNING), 0)
}

/**
 * Go's resetspinning: we stop spinning with work in hand (or to hand our P
 * to another M); since spawners that saw us spinning did not wake anyone,
 * wake another M if there is an idle P.
 */
function resetspinning(): void {
  thisM.spinning = false
  m[mb + M_SPINNING] = 0
  if (Atomics.sub(m, schedw(l, SCHED_NMSPINNING), 1) - 1 < 0) throwFatal('resetspinning', 'negative nmspinning')
  Atomics.store(m, mb + M_STATE, Mstate.Mrunning)
  wakep(h)
}

/**
 * Go's schedule: one synchronous burst of finding and running goroutines.
 * Returns IDLE (nothing to run), YIELD (let the event loop run) or NOP
 * (the P is gone; mloop gets one again).
 */
function schedule(): number {
  thisM.burstStart = performance.now()
  let n = 0
  for (;;) {
    if (pp < 0) return NOP
    // Take turns with an M waiting for a P (see the file comment). Checked
    // every 16th switch: a turn is 10 ms, and a switch costs ~100 ns.
    // A spinning M gets here too (idle() sends it back when work came in
    // meanwhile): it must not go off with its P given away and its count
    // still in nmspinning, which made wakep think someone was looking for
    // work while every M slept (issue 11). yieldP stops the spinning first.
    if ((n & 15) === 0 && Atomics.load(m, schedw(l, SCHED_NMWANT)) > 0 && performance.now() - thisM.pslice >= TIME_SLICE_MS && yieldP()) {
      return NOP
    }
    const gp = findRunnable()
    if (gp === 0) {
      if (thisM.pendingAsync > 0 && hasLocalWork()) {
        // Back through the event loop: stop spinning meanwhile (the P stays
        // ours, but we are not looking for work while the loop runs).
        if (thisM.spinning) resetspinning()
        return YIELD
      }
      return IDLE
    }
    if (thisM.spinning) resetspinning()
    execute(gp, inheritTime)
    if (thisM.loadYield) {
      // Let another M run our P's work while this one imports a module.
      thisM.loadYield = false
      if (pp >= 0) handoffp(h, releasep())
      return NOP
    }
    if (thisM.loopDue || ((n & 63) === 63 && performance.now() - thisM.burstStart >= (thisM.pendingAsync > 0 ? EVENT_LOOP_MS : HOUSEKEEPING_MS))) {
      thisM.loopDue = false
      return YIELD
    }
    n++
  }
}

/** Hands our P to the first M on sched.mwant, and waits our own turn if we have work. */
function yieldP(): boolean {
  lock(m, schedw(l, SCHED_LOCK))
  // sched.nmwant was read without the lock: the waiter may have been served
  // by another releaser since. Then keep the P (idling it here could strand
  // its run queue, which pidleput rightly refuses).
  const waiter = mwantget(h)
  if (waiter < 0) {
    unlock(m, schedw(l, SCHED_LOCK))
    thisM.pslice = performance.now()
    return false
  }
  if (thisM.spinning) {
    // resetspinning's wakep takes sched.lock: drop it around the call. The
    // waiter stays ours (off sched.mwant).
    unlock(m, schedw(l, SCHED_LOCK))
    resetspinning()
    lock(m, schedw(l, SCHED_LOCK))
  }
  const p = releasep()
  Atomics.store(m, pbase(l, p) + P_STATUS, Pstatus.Pidle)
  m[mbase(l, waiter) + M_NEXTP] = p + 1
  if (hasLocalWork()) mwantput(h, mid)
  unlock(m, schedw(l, SCHED_LOCK))
  wakem(h, waiter)
  return true
}

/** Go's findRunnable, the part that does not block. Sets inheritTime. */
function findRunnable(): number {
  const tick = m[pb + P_SCHEDTICK]
  // Check the global queue once in a while, so its Gs are not starved by
  // Ps that keep readying each other.
  if ((tick % 61 === 0 || thisM.globalFirst) && globrunqsize(h) > 0) {
    thisM.globalFirst = false
    lock(m, schedw(l, SCHED_LOCK))
    const gp = globrunqget(h, pp, 1)
    unlock(m, schedw(l, SCHED_LOCK))
    if (gp !== 0) {
      inheritTime = false
      return gp
    }
  }
  if (thisM.localnext !== 0) {
    const gp = thisM.localnext
    thisM.localnext = 0
    inheritTime = true
    return gp
  }
  drainReadyq()
  // Alternate between our started goroutines and the P's unstarted ones.
  if (localq.length > 0 && (tick & 1) === 0) {
    inheritTime = false
    return localq.shift()
  }
  let gp = runqget(h, pp)
  if (gp !== 0) {
    inheritTime = runqgetInheritTime
    return gp
  }
  if (localq.length > 0) {
    inheritTime = false
    return localq.shift()
  }
  inheritTime = false
  if (globrunqsize(h) > 0) {
    lock(m, schedw(l, SCHED_LOCK))
    gp = globrunqget(h, pp, 0)
    unlock(m, schedw(l, SCHED_LOCK))
    if (gp !== 0) return gp
  }
  // Spinning Ms: steal from other Ps. Limit the number of spinning Ms to
  // half the number of busy Ps, so that CPU is not burned when parallelism
  // is low.
  const procs = Atomics.load(m, schedw(l, SCHED_GOMAXPROCS))
  if (thisM.spinning || 2 * Atomics.load(m, schedw(l, SCHED_NMSPINNING)) < procs - Atomics.load(m, schedw(l, SCHED_NPIDLE))) {
    if (!thisM.spinning) becomeSpinning()
    gp = stealWork(procs)
    if (gp !== 0) return gp
  }
  return 0
}

/** Moves Gs readied by other threads from M.readyq to localq, oldest first. */
function drainReadyq(): void {
  if (Atomics.load(m, mb + M_READYQ) === 0) return
  let gp = Atomics.exchange(m, mb + M_READYQ, 0)
  const batch: number[] = []
  while (gp !== 0) {
    batch.push(gp)
    gp = m[gbase(l, gp) + G_SCHEDLINK]
  }
  for (let i = batch.length - 1; i >= 0; i--) localq.push(batch[i])
}

// Go's randomOrder: visit the Ps in the order pos, pos+inc, ... with inc
// coprime to the count, so every P is visited once from a random start.
let orderCount = 0
let coprimes: number[] = []

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/** Go's stealWork: 4 passes over the other Ps in random order; runnext only on the last. */
function stealWork(procs: number): number {
  if (orderCount !== procs) {
    orderCount = procs
    coprimes = []
    for (let i = 1; i <= procs; i++) if (gcd(i, procs) === 1) coprimes.push(i)
  }
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
