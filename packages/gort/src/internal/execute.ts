// Running a goroutine on this M: Go's execute and goexit, and what a
// goroutine's step may ask of its M (proc.go's execute, goexit, park_m,
// entersyscall/exitsyscall; the netpoller's part is parkOnPromise).
//
// A started goroutine is a generator in this M's tables (mstate.ts gens,
// indexed by G.lslot); startg creates it from an unstarted G's data the
// first time an M runs it, and from then on it lives on this M for life
// (docs/design/scheduler.md, "The one constraint"). execute steps it with
// next() (or throw(), for a rejected promise) until it returns, throws, or
// yields a scheduler request (an ops.ts SchedOp: PARK from a channel or
// sync operation, or one from gosched, sleep, until, syscall). Anything
// else yielded is a safe point.
//
// Invariants: each step runs with the P lent (Pexec), so that sysmon can
// hand it on if the step never ends (retake); endStep (mstate.ts) takes it
// back or finds it gone, and after a lost P only parking goes on: a runnable
// G waits on this M's localq for a P, like a syscall's return. The status of
// a runnable or running G of this M is written with plain stores (only this
// M writes it in those states); a transition other threads act on (Gwaiting
// before a waker can see the G, Gdead before the completion stack) is an
// Atomics.store. thisM.pendingAsync counts the goroutines whose wake-up
// comes through this M's event loop (promises, timers, imports), mirrored
// in M.npending and added to sched.npendingio.
//
// Who calls what: schedule (mloop.ts) calls execute; mstart hands readyHere
// (goready of a G of this M, from this M) and asyncPending to proc.ts
// (setThreadM); spawnLocal (mspawn.ts) calls goexit for a closure that
// throws at once. The rest is called from execute alone, or from this M's
// event loop (moduleLoaded, readyLocal, parkOnTimer's timer).

import { dropArgs, putResult, takeArgs } from './gvalue.js'
import { importModule } from './loader.js'
import {
  gbase, schedw,
  G_FLAGS, G_FN, G_GOID, G_LSLOT, G_M, G_PREEMPT, G_STATUS, G_WAITREASON, G_WAITSINCE,
  M_CURG, M_LOADING, M_NGS, M_NPENDING, M_NSTARTED, P_SCHEDTICK, P_STATUS, P_STEPTICK, P_SYSCALLTICK,
  SCHED_GCOUNT, SCHED_LOCK, SCHED_NPENDINGIO,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { OpKind, PARK, RESUMED, SchedOp } from './ops.js'
import { gfput, pidleget, pushDone, wakem } from './proc.js'
import { funcById, funcKey } from './registry.js'
import { runqput } from './runq.js'
import { Gflags, Gstatus, Pstatus, WaitReason } from './runtime2.js'
import { gcountPut } from './gcredit.js'
import {
  h, l, m, mb, mid, pb, pp, thisM, HOUSEKEEPING_MS,
  gens, resumeVal, resumeErr, freeSlots, localq, loading, loaded, loadErrors, slotput,
  acquirep, dropp, endStep,
} from './mstate.js'

/** Safe points (plain yields) passed on this M; every 16th reads the clock. */
let safepoints = 0

/** Go's execute: runs gp on this M until it yields, parks or exits. */
export function execute(gp: number, inherit: boolean): void {
  if (!inherit) m[pb + P_SCHEDTICK]++
  const gb = gbase(l, gp)
  let s: number
  if (m[gb + G_M] === 0) {
    s = startg(gp, gb)
    if (s < 0) return
  } else s = m[gb + G_LSLOT]
  const gen = gens[s]!
  thisM.curg = gp
  m[mb + M_CURG] = gp
  // Plain: the M owns a runnable or running G of its own; no other thread
  // writes its status in these states (only a parked G is readied by others).
  m[gb + G_STATUS] = Gstatus.Grunning
  let v = resumeVal[s]
  let isErr = resumeErr[s]
  if (v !== undefined) resumeVal[s] = undefined
  if (isErr) resumeErr[s] = false
  for (;;) {
    let r: IteratorResult<unknown, unknown>
    // A step: lend the P while goroutine code runs (Pexec), so that sysmon
    // can hand it on if the step never ends (retake); take it back after.
    m[pb + P_STEPTICK]++
    Atomics.store(m, pb + P_STATUS, Pstatus.Pexec)
    try {
      r = isErr ? gen.throw(v) : gen.next(v)
    } catch (e) {
      endStep()
      goexit(gp, gb, e, true)
      return
    }
    const kept = endStep()
    if (r.done === true) {
      goexit(gp, gb, r.value, false)
      return
    }
    const y = r.value
    // The common switch first: a channel or sync operation parked gp
    // (the Park branch below, without the dispatch).
    if (y === PARK && Atomics.load(m, gb + G_PREEMPT) === 0) break
    v = undefined
    isErr = false
    // Sysmon took our P while the step ran. Parking (Park, Sleep, Until)
    // needs no P and goes on below; otherwise gp stays runnable on this M,
    // which waits for a P (mloop, sched.mwant) like a syscall's return.
    if (!kept && !(y instanceof SchedOp && (y.kind === OpKind.Park || y.kind === OpKind.Sleep || y.kind === OpKind.Until))) {
      if (y instanceof SchedOp && y.kind === OpKind.Gosched) resumeVal[s] = RESUMED
      else if (y instanceof SchedOp && y.kind === OpKind.Syscall) {
        // No P to lend: just make the call.
        try {
          resumeVal[s] = (y.arg as () => unknown)()
        } catch (e) {
          resumeVal[s] = e
          resumeErr[s] = true
        }
      }
      m[gb + G_STATUS] = Gstatus.Grunnable
      localq.push(gp)
      break
    }
    if (y instanceof SchedOp) {
      if (y.kind === OpKind.Gosched) {
        m[gb + G_STATUS] = Gstatus.Grunnable // owner only, as above
        resumeVal[s] = RESUMED // ends gosched()'s shared iterator
        localq.push(gp)
        break
      }
      if (y.kind === OpKind.Park) {
        // gopark: the operation (chan.ts) already made gp Gwaiting and put
        // it where a waker will find it; a waker may even have readied it
        // already (it is then on localnext or M.readyq). Just switch away.
        // But if sysmon asked gp to yield, the time slice it shares with the
        // partner it readied (localnext inherits it) is over: Go would
        // preempt the pair; here the partner goes behind the M's queue and
        // the global queue is looked at first, so that goroutines that only
        // hand off to each other cannot starve the rest.
        if (Atomics.load(m, gb + G_PREEMPT) !== 0) {
          Atomics.store(m, gb + G_PREEMPT, 0)
          if (thisM.localnext !== 0) {
            localq.push(thisM.localnext)
            thisM.localnext = 0
          }
          thisM.globalFirst = true
        }
        break
      }
      if (y.kind === OpKind.Sleep) {
        parkOnTimer(gp, gb, y.arg as number)
        break
      }
      if (y.kind === OpKind.Until) {
        parkOnPromise(gp, gb, y.arg)
        break
      }
      if (y.kind === OpKind.Syscall) {
        let res: unknown
        let threw = false
        entersyscall(gp, gb)
        try {
          res = (y.arg as () => unknown)()
        } catch (e) {
          res = e
          threw = true
        }
        if (!exitsyscall(gp, gb)) {
          // We lost the P: gp is runnable on this M and waits for a P with it.
          resumeVal[s] = res
          resumeErr[s] = threw
          Atomics.store(m, gb + G_STATUS, Gstatus.Grunnable)
          localq.push(gp)
          break
        }
        v = res
        isErr = threw
        continue
      }
    }
    // A safe point: give up the M only if preemption was requested, or if
    // the burst has kept the event loop waiting too long (every 16th safe
    // point reads the clock).
    if (Atomics.load(m, gb + G_PREEMPT) !== 0 ||
      ((++safepoints & 15) === 0 && performance.now() - thisM.burstStart >= HOUSEKEEPING_MS && (thisM.loopDue = true))) {
      Atomics.store(m, gb + G_PREEMPT, 0)
      m[gb + G_STATUS] = Gstatus.Grunnable // owner only, as above
      // Go puts a preempted G on the global queue, behind the work there;
      // ours must stay on this M, so it goes behind our own queue and the
      // next findRunnable looks at the global queue first.
      localq.push(gp)
      thisM.globalFirst = true
      break
    }
  }
  thisM.curg = 0
  m[mb + M_CURG] = 0
}

/**
 * Starts an unstarted G on this M: finds its function, decodes its
 * arguments, creates the generator. If the function's module is not loaded
 * on this M yet, the G is not started here: it goes back on the P's run
 * queue (still data, free to run on any M), this M starts the import, and
 * schedule() hands the P to another M while the import runs (loadYield).
 * An import that fails here fails the goroutines of that module that come
 * to this M, with the import's error.
 */
function startg(gp: number, gb: number): number {
  const id = m[gb + G_FN]
  const fn = funcById(h, id)
  if (fn === undefined) {
    const { url, name } = funcKey(h, id)
    const err = loadErrors.get(url)
    if (err === undefined && !loaded.has(url)) {
      runqput(h, pp, gp, false)
      if (!loading.has(url)) {
        loading.add(url)
        m[mb + M_LOADING] = loading.size
        thisM.pendingAsync++
        m[mb + M_NPENDING] = thisM.pendingAsync
        importModule(url).then(
          () => moduleLoaded(url, undefined),
          (e: unknown) => moduleLoaded(url, e),
        )
      }
      thisM.loadYield = true
      return -1
    }
    m[gb + G_M] = mid + 1
    m[gb + G_LSLOT] = -1
    m[mb + M_NGS]++ // goexit counts it out (plain: this M is its only writer)
    dropArgs(h, gb)
    goexit(gp, gb, err ?? new TypeError(`gort: module ${url} does not register ${name} with goroutines()`), true)
    return -1
  }
  m[gb + G_M] = mid + 1
  m[gb + G_LSLOT] = -1
  // Plain: this M is the only writer; others read them for stats.
  m[mb + M_NGS]++
  m[mb + M_NSTARTED]++
  const args = takeArgs(h, gb)
  try {
    return slotput(gb, fn(...args))
  } catch (e) {
    goexit(gp, gb, e, true)
    return -1
  }
}

function moduleLoaded(url: string, err: unknown): void {
  loading.delete(url)
  m[mb + M_LOADING] = loading.size
  thisM.pendingAsync--
  m[mb + M_NPENDING] = thisM.pendingAsync
  if (err === undefined) loaded.add(url)
  else loadErrors.set(url, err)
  wakem(h, mid)
}

/** Parks gp until the promise settles (wait reason "IO wait"). */
function parkOnPromise(gp: number, gb: number, p: unknown): void {
  Atomics.store(m, gb + G_STATUS, Gstatus.Gwaiting)
  m[gb + G_WAITREASON] = WaitReason.IOWait
  h.f64[(gb + G_WAITSINCE) >> 1] = performance.timeOrigin + performance.now()
  thisM.pendingAsync++
  m[mb + M_NPENDING] = thisM.pendingAsync
  Atomics.add(m, schedw(l, SCHED_NPENDINGIO), 1)
  Promise.resolve(p).then(
    (val) => readyLocal(gp, val, false),
    (err: unknown) => readyLocal(gp, err, true),
  )
}

/** time.Sleep: parks gp (wait reason "sleep") on a timer of this M's event loop. */
function parkOnTimer(gp: number, gb: number, ms: number): void {
  Atomics.store(m, gb + G_STATUS, Gstatus.Gwaiting)
  m[gb + G_WAITREASON] = WaitReason.Sleep
  h.f64[(gb + G_WAITSINCE) >> 1] = performance.timeOrigin + performance.now()
  thisM.pendingAsync++
  m[mb + M_NPENDING] = thisM.pendingAsync
  Atomics.add(m, schedw(l, SCHED_NPENDINGIO), 1)
  setTimeout(() => readyLocal(gp, undefined, false), ms)
}

/**
 * Counts work this M's event loop will deliver (a timer that sends on a
 * channel): while any is pending the M lets its event loop run and parks
 * asynchronously.
 */
export function asyncPending(delta: number): void {
  thisM.pendingAsync += delta
  m[mb + M_NPENDING] = thisM.pendingAsync
  Atomics.add(m, schedw(l, SCHED_NPENDINGIO), delta)
}

/**
 * goready for a G of this M, readied on this M (a channel partner): it runs
 * next and inherits the time slice, as Go's goready puts it in runnext. A
 * timer callback may do this while the M is parked, so wake it.
 */
export function readyHere(gp: number): void {
  if (thisM.localnext !== 0) localq.push(thisM.localnext)
  thisM.localnext = gp
  // From a goroutine, this M is awake; from a callback (a timer, a settled
  // promise) it may be parked on its note.
  if (thisM.curg === 0) wakem(h, mid)
}

/** A promise of gp's settled (on this thread): gp runs next, with the value. */
function readyLocal(gp: number, v: unknown, isErr: boolean): void {
  thisM.pendingAsync--
  m[mb + M_NPENDING] = thisM.pendingAsync
  Atomics.sub(m, schedw(l, SCHED_NPENDINGIO), 1)
  const gb = gbase(l, gp)
  const s = m[gb + G_LSLOT]
  resumeVal[s] = v
  resumeErr[s] = isErr
  m[gb + G_WAITREASON] = 0
  Atomics.store(m, gb + G_STATUS, Gstatus.Grunnable)
  localq.push(gp)
  wakem(h, mid)
}

/**
 * Go's entersyscall: the goroutine announced a blocking call, so its P is
 * lent (Psyscall), not handed off: sysmon's retake hands it to another M
 * (with its run queue) by Go's rule if the call lasts, and exitsyscall
 * takes it back if nobody did.
 */
function entersyscall(gp: number, gb: number): void {
  Atomics.store(m, gb + G_STATUS, Gstatus.Gsyscall)
  m[pb + P_SYSCALLTICK]++
  // Lend the P: sysmon hands it on if the call blocks long enough to matter
  // (retake, Go's rule), and exitsyscall takes it back if nobody did.
  Atomics.store(m, pb + P_STATUS, Pstatus.Psyscall)
}

/**
 * Go's exitsyscall: the fast path takes our P back if nobody took it;
 * else exitsyscallfast tries an idle P. Returns false if we have no P (the
 * caller queues gp and mloop waits for one).
 */
function exitsyscall(gp: number, gb: number): boolean {
  if (pp >= 0 && Atomics.compareExchange(m, pb + P_STATUS, Pstatus.Psyscall, Pstatus.Prunning) === Pstatus.Psyscall) {
    Atomics.store(m, gb + G_STATUS, Gstatus.Grunning)
    return true
  }
  if (pp >= 0) dropp() // sysmon retook it: not ours to touch
  lock(m, schedw(l, SCHED_LOCK))
  const p = pidleget(h)
  unlock(m, schedw(l, SCHED_LOCK))
  if (p >= 0) {
    acquirep(p)
    Atomics.store(m, gb + G_STATUS, Gstatus.Grunning)
    return true
  }
  return false
}

/** Go's goexit: the goroutine ended with a value or an exception. */
export function goexit(gp: number, gb: number, value: unknown, failed: boolean): void {
  const s = m[gb + G_LSLOT]
  if (s >= 0) {
    gens[s] = undefined
    resumeVal[s] = undefined
    resumeErr[s] = false
    freeSlots.push(s)
    m[gb + G_LSLOT] = -1
  }
  m[mb + M_NGS]--
  thisM.curg = 0
  m[mb + M_CURG] = 0
  const flags = m[gb + G_FLAGS]
  if (failed && value !== null && typeof value === 'object') {
    try {
      ;(value as { goid?: number }).goid = m[gb + G_GOID]
    } catch {
      // frozen error object: the host adds the id to its message instead
    }
  }
  if ((flags & Gflags.Gawaited) !== 0 || failed) {
    try {
      putResult(h, gb, value)
    } catch (e) {
      // The result cannot cross threads (a function, a symbol...): report that instead.
      failed = true
      putResult(h, gb, e)
    }
    m[gb + G_FLAGS] = flags | (failed ? Gflags.Gfailed : 0)
    Atomics.store(m, gb + G_STATUS, Gstatus.Gdead)
    // Counted out first, so that the host, once it has the result, sees it gone.
    Atomics.sub(m, schedw(l, SCHED_GCOUNT), 1)
    pushDone(h, gp)
  } else {
    // Plain: the record goes to this thread's cache; a dump or the deadlock
    // check that reads a stale status sees a goroutine alive a moment longer.
    m[gb + G_STATUS] = Gstatus.Gdead
    m[gb + G_FLAGS] = 0
    gcountPut()
    gfput(h, gp)
  }
}
