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
// Why the schedule loop and execute share this one module: they share the
// M's state (the P held, the current G, localnext/localq, the generator
// tables, the burst clock), which the step loop reads on every goroutine
// switch. Split across modules, that state must live in an object or behind
// exported bindings, and a channel ping-pong between two goroutines of one
// M cost 744 ns a round trip instead of 550 (measured, quiet machine; the
// split was reverted). What does not touch that state lives beside it:
// steal.ts (stealWork), mmodules.ts (module imports), proc.ts (the shared
// half: idle lists, startm, wakep, handoffp), spawn.ts, ops.ts.

import { parentPort, type MessagePort } from 'node:worker_threads'
import { dropArgs, putResult, takeArgs } from './gvalue.js'
import { Deque } from './deque.js'
import { setSelectRand } from './select.js'
import { ModuleTable } from './mmodules.js'
import { MMSG_TAG, type MReady, type MSpare } from './mmsg.js'
import { stealWork } from './steal.js'
import type { SharedHeap } from './heap.js'
import {
  gbase, mbase, pbase, schedw,
  G_ARG, G_FLAGS, G_FN, G_GOID, G_INL, G_STARTED, G_LSLOT, G_M, G_PREEMPT, G_SCHEDLINK, G_STATUS, G_WAITREASON, G_WAITSINCE,
  M_CURG, M_GCREDIT, M_LOADING, M_TID, M_NEXTP, M_NGS, M_NSTARTED, M_P, M_PARK, M_READYQ, M_SLEEP, M_SPINNING, M_STATE, M_TRWAKES, M_WANTP, M_NPENDING, M_LOCKS, P_M, P_RUNQHEAD, P_RUNQTAIL, P_SCHEDTICK, P_STATUS, P_STEPTICK,
  P_SYSCALLTICK, SCHED_GCOUNT, SCHED_GOMAXPROCS, SCHED_LOCK,
  SCHED_NEEDSPINNING, SCHED_NMSPINNING, SCHED_NMWANT, SCHED_NPENDINGIO, SCHED_NPIDLE,
  SCHED_GFLOCK, HEAP_LOCK, heapw, SCHED_NMIDLE, SCHED_MNEXT,
  type Layout,
} from './layout.js'
import { lock, noteclear, notetsleep, notetsleepAsync, notewakeup, trackLocks, unlock } from './lock_futex.js'
import { FastRand, randomSeed } from './fastrand.js'
import { OpKind, PARK, RESUMED, SchedOp } from './ops.js'
import {
  gfget, gfput, handoffp, wakesysmon, mput, newproc, newproc1, pushDone, setThreadM, mremove, mwantput, mwantremove, pidleget, pidlegetSpinning, releasepLocked, wakem, wakep, mwantget,
} from './proc.js'
import { funcById, funcKey, goroutineMeta, describeFn, isGeneratorFunction } from './registry.js'
import { globrunqget, globrunqput, globrunqsize, runqempty, runqget, runqput, runqgetInheritTime, runqspillhead } from './runq.js'
import { Gflags, Gstatus, Msleep, Mstate, Pstatus, WaitReason } from './runtime2.js'
import { setSpawnHook, type SpawnHook } from './spawn.js'
import { throwFatal } from './throw.js'
import { collectIfAsked } from './gc.js'
import { cancelPending, startStamp, takeCancel } from './cancel.js'
import { sabcheck } from './codec/sabs.js'
import { osThreadId } from './threadrun.js'
import { Ev, StopWhy, SWITCH_WOKE, TR_EPOCH, TraceWriter } from './trace/buffer.js'

/** How long an M keeps its P while another M waits for one (Go's forcePreemptNS). */
const TIME_SLICE_MS = 10
/** With promises pending, let the event loop run at least this often. */
const EVENT_LOOP_MS = 2
/**
 * Without, still this often: the loop runs the finalizers that release this
 * thread's references to shared records (refs.ts), and messages to the M.
 */
const HOUSEKEEPING_MS = 10

/** An M idle this long retires (0: never); Runtime.start's mIdleTimeoutMs. */
let idleTimeoutMs = 0
/** Retiring stops at this many live Ms (Runtime.start's minThreads; 0: only the spare rule). */
let keepMs = 0
/** How often a parked M wakes to see whether the heap asked for a collection (gc.ts). */
const IDLE_GC_MS = 250

/** Safe points (plain yields) passed on this M; every 16th reads the clock. */
let safepoints = 0
/** Set by a preemption: findRunnable looks at the global queue first (where Go would have put the preempted G). */
let globalFirst = false
/** Set by a safe point that found the burst too long: schedule() lets the event loop run next. */
let loopDue = false
/**
 * Admission (docs/design/scheduler.md, "Admission"): the G that sysmon
 * preempted and that this M keeps ahead of unstarted work, or 0. Set at the
 * preemption (admitHold); cleared when the G runs again, and set again if
 * that run ends in a preemption admitHold holds or in the event loop's turn;
 * while set, findRunnable serves this M's started goroutines before any
 * unstarted one.
 */
let held = 0
/** The Ms' starts when this M last looked (admitHold), and how many of its preemptions since saw them unmoved. */
let holdStarts = -1
let holdSlices = 0
/**
 * Set when the M held for ADMIT_STARVE_SLICES and nobody started anything:
 * findRunnable then starts unstarted goroutines first, one after another,
 * until one of them is preempted (admitHold clears it) or none is left.
 */
let admitting = false
/**
 * How many of its goroutines' preemptions (time slices: TIME_SLICE_MS of
 * its thread's own time each, sysmon.ts overrun) a holding M waits for the
 * Ms to start some unstarted goroutine before it starts one itself
 * (admits): the bound on how long unstarted work waits while every P runs
 * a CPU-bound goroutine. Counted in slices, not on the wall clock: on a
 * loaded machine the other M waits for a core as this one does, and a
 * wall-clock bound admitted there while the other Ps were merely slow.
 */
const ADMIT_STARVE_SLICES = 4

// What schedule() tells mloop().
const IDLE = 0
const YIELD = 1
const NOP = 2

let h: SharedHeap
let m: Int32Array
/** This M's trace writer (trace/buffer.ts) and its flag word: a hook loads tron[0] (Go's trace.enabled). */
let tw: TraceWriter
let tron: Int32Array
/**
 * tron[0] as this M last read it: the hooks on every switch (a goroutine's
 * start and stop, a wake-up on this M) test this module-level flag, one
 * well-predicted branch when tracing is off. Read at the start of each
 * burst and every 64 switches (schedule), so a recording that starts or
 * stops meanwhile reaches them within 64 switches; the other hooks load
 * tron[0] itself.
 */
let tracing = false
let l: Layout
let mid = -1
let mb = 0
let rnd: FastRand

/** The P held (index), or -1. */
let pp = -1
let pb = 0
/**
 * Whether this M is counted in sched.nmspinning (mirrored in M.spinning for
 * the host and sysmon). Only an M that holds a P and is looking for work
 * spins: every path that gives the P up stops spinning first (resetspinning,
 * or findRunnable's delicate dance in idle()). docs/design/scheduler.md,
 * "Spinning Ms", lists the transitions.
 */
let spinning = false
let pslice = 0 // when this M's turn with its P started (performance.now)

let curg = 0
let inheritTime = false
// Started goroutines: generators and what to send into them next, in dense
// tables indexed by the G's local slot (G.lslot), reused through freeSlots.
const gens: Array<Generator<unknown, unknown, unknown> | undefined> = []
const resumeVal: unknown[] = []
const resumeErr: boolean[] = []
/**
 * Per slot: a count of the G's parks in sleep() or until(), so that the
 * wake-up of a park that a cancellation abandoned is ignored (onHostMessage);
 * and the timer of a sleep() park, to clear it.
 */
const parkSeq: number[] = []
const parkTimer: Array<ReturnType<typeof setTimeout> | undefined> = []
const freeSlots: number[] = []

function slotput(gb: number, gen: Generator<unknown, unknown, unknown>): number {
  let s = freeSlots.pop()
  if (s === undefined) {
    s = gens.length
    gens.push(gen)
    resumeVal.push(undefined)
    resumeErr.push(false)
    parkSeq.push(0)
    parkTimer.push(undefined)
    startEpoch.push(0)
  } else {
    gens[s] = gen
    startEpoch[s] = 0
  }
  m[gb + G_LSLOT] = s
  return s
}
let localnext = 0
const localq = new Deque()
/** Goroutines of this M waiting on promises or module loads. */
let pendingAsync = 0
/** Goroutine modules: being imported, imported, failed to import on this M. */
const modules = new ModuleTable()
/** Set by startg when it began an import: schedule() gives the P away meanwhile. */
let loadYield = false
let burstStart = 0

/**
 * The M's entry point (mstart): attaches to the heap and runs the scheduler
 * loop until the worker is terminated.
 */
export async function mstart(heap: SharedHeap, id: number, eager: readonly string[], idleTimeout = 0, keep = 0, ctl?: MessagePort): Promise<void> {
  idleTimeoutMs = idleTimeout
  keepMs = keep
  h = heap
  m = h.i32
  l = h.layout
  mid = id
  mb = mbase(l, mid)
  rnd = new FastRand(randomSeed() ^ (id * 0x9e3779b9))
  tw = h.tw
  tron = tw.on
  // For sysmon, which does not count the time this thread waits for a core (threadrun.ts).
  Atomics.store(m, mb + M_TID, osThreadId())
  setSpawnHook(spawnHook)
  setThreadM(h, mid, readyHere, () => curg, asyncPending)
  // Record which runtime locks this M holds, so that if it dies holding one
  // the host can release it (Runtime's mdied).
  trackLocks(mb + M_LOCKS, [schedw(l, SCHED_LOCK), heapw(l, HEAP_LOCK), schedw(l, SCHED_GFLOCK)])
  setSelectRand((n) => rnd.n(n))
  // The host's requests (cancel.ts), on a port of their own (the worker's
  // parentPort is the goroutines'). Unref'd: a retired M's thread must end.
  ctl?.on('message', onHostMessage)
  ctl?.unref()
  baseResources = process.getActiveResourcesInfo()
  await modules.importEager(eager)
  Atomics.store(m, mb + M_STATE, Mstate.Mrunning)
  // The eager modules it could not import: Runtime.start rejects naming them (newm.ts).
  parentPort?.postMessage({ [MMSG_TAG]: 'ready', mid, failed: modules.failures() } satisfies MReady)
  await mloop()
}

async function mloop(): Promise<void> {
  for (;;) {
    if (pp < 0 && !getp()) {
      if (await park()) return // retired
      continue
    }
    const why = schedule()
    // The burst's trace events are published (and an idle spell marked) here.
    tw.idle()
    flushGcount()
    // Its event loop may not turn between bursts (it parks without it): the ids it freed, its SharedArrayBuffer channel (codec/sabs.ts).
    sabcheck(h)
    if (why === YIELD) {
      collectIfAsked(h)
      await yieldToEventLoop()
    } else if (why === IDLE) {
      // A goroutine that parked on a promise its own step settled (an async
      // function that awaited nothing slow: a tiny job) is readied by a
      // microtask. Let those run before giving up the P: otherwise the M
      // releases its P, spins, sleeps on its note asynchronously and takes
      // a P again, for a value that was ready a microsecond later.
      if (pendingAsync > 0) {
        for (let i = 0; i < MICROTASK_HOPS && !hasLocalWork(); i++) await undefined
        if (hasLocalWork()) continue
      }
      if (collectIfAsked(h)) await yieldToEventLoop()
      if (await idle()) return // retired
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function hasLocalWork(): boolean {
  return localnext !== 0 || localq.length > 0 || Atomics.load(m, mb + M_READYQ) !== 0
}

/** Takes the P that startm or releasepLocked handed us. sched.lock must be held. */
function takeNextp(): boolean {
  const np = m[mb + M_NEXTP]
  if (np === 0) return false
  m[mb + M_NEXTP] = 0
  // startm counted us in nmspinning when it set M.spinning; we were not
  // spinning before (mput and mwantput refuse a spinning M).
  if (m[mb + M_SPINNING] !== 0) spinning = true
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
  if (local || (modules.loading.size === 0 && globrunqsize(h) > 0)) {
    const p = pidleget(h)
    if (p >= 0) {
      if (m[mb + M_WANTP] !== 0) mwantremove(h, mid)
      unlock(m, schedw(l, SCHED_LOCK))
      acquirep(p)
      return true
    }
  }
  if (spinning) throwFatal('stopm', 'spinning M without a P')
  if (local) {
    mwantput(h, mid)
  } else if (m[mb + M_WANTP] === 0) {
    mput(h, mid) // Go's stopm
  }
  unlock(m, schedw(l, SCHED_LOCK))
  return false
}

/** Go's acquirep: associates P p with this M. */
function acquirep(p: number): void {
  pp = p
  pb = pbase(l, p)
  m[pb + P_M] = mid + 1
  m[mb + M_P] = p + 1
  Atomics.store(m, pb + P_STATUS, Pstatus.Prunning)
  Atomics.store(m, mb + M_STATE, spinning ? Mstate.Mspinning : Mstate.Mrunning)
  pslice = performance.now()
  // The trace: this M's events on p are placed after this stamp, the last owner's before its release stamp.
  if (tron[0] !== 0) tw.anchor(pslice)
  // Go's sysmonwait: sysmon sleeps while every P is idle; a P in use wakes it.
  wakesysmon(h)
}

/**
 * Ends a goroutine step: takes the P back from Pexec. False if sysmon took
 * it meanwhile (retake); then this M no longer has a P and must not touch
 * the P's record (its new owner does).
 */
function endStep(): boolean {
  if (Atomics.compareExchange(m, pb + P_STATUS, Pstatus.Pexec, Pstatus.Prunning) === Pstatus.Pexec) {
    // Lent means anyone may take it: if sysmon had handed it on and its
    // new M lent it in turn, our CAS took it back (as Go's exitsyscallfast
    // may), and that M will find it gone. Either way it is ours now.
    if (m[pb + P_M] !== mid + 1) m[pb + P_M] = mid + 1
    return true
  }
  dropp()
  return false
}

/** Forgets our P without touching its record: someone else took it (retake). */
function dropp(): void {
  m[mb + M_P] = 0
  pp = -1
}

/** Go's releasep, without putting the P anywhere: the caller does. */
function releasep(): number {
  if (tron[0] !== 0) tw.anchor()
  const p = pp
  m[pb + P_M] = 0
  m[mb + M_P] = 0
  pp = -1
  return p
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
  if ((spinHistory & 0xff) !== 0 || ++spinSkipped >= SPIN_RETRY) {
    spinSkipped = 0
    const won = spinBeforePark(parkedAt)
    spinHistory = (spinHistory << 1) | (won ? 1 : 0)
    if (won) {
      unidle()
      return false
    }
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
  // A step may have left microtasks queued (a cancelled goroutine's
  // finally block, or an async function it abandoned, going on with
  // `.then(() => setTimeout(...))`): they run at the M's next await, and
  // the timer or socket they start is what eventLoopBusy() below must see,
  // or the M sleeps blocked and the timer fires only when it next wakes
  // (IDLE_GC_MS or later). So let them run first: each await here runs
  // what was queued before it, and a chain of a few promise hops runs in a
  // few (a full event-loop turn, setImmediate, would cover any depth but
  // costs ~10 µs a park; these cost well under 1 µs). A waker meanwhile
  // sets the note, and the sleep below returns at once.
  if (pendingAsync === 0) for (let i = 0; i < MICROTASK_HOPS; i++) await undefined
  // Asleep, still look up every IDLE_GC_MS: when the heap asked for a
  // collection, collect and let the finalizers run (they free the shared
  // records this thread's dead handles held).
  for (;;) {
    // Sleep until the next look: IDLE_GC_MS, or sooner when the idle
    // timeout falls due first (an idleTimeout of 50 ms retires an idle M
    // after about 50 ms, not after the next collection look).
    // Once due and refused (the spare, minThreads), back to IDLE_GC_MS.
    let ms = IDLE_GC_MS
    const due = parkedAt + idleTimeoutMs - performance.now()
    if (idleTimeoutMs > 0 && due > 0) ms = Math.min(ms, due + 0.5)
    const woken = pendingAsync > 0 || eventLoopBusy() || performance.now() - parkedAt >= IDLE_ASYNC_MS
      ? await notetsleepAsync(m, mb + M_PARK, ms * 1e6)
      : notetsleep(m, mb + M_PARK, ms * 1e6)
    if (woken) break
    // Its event loop does not turn: post the ids it freed, read the runtime's channel (codec/sabs.ts).
    sabcheck(h)
    if (collectIfAsked(h)) await yieldToEventLoop()
    if (idleTimeoutMs > 0 && performance.now() - parkedAt >= idleTimeoutMs && retire()) return true
  }
  noteclear(m, mb + M_PARK)
  Atomics.store(m, mb + M_SLEEP, Msleep.Mawake)
  unidle()
  return false
}

/**
 * Resources of this thread's event loop that the M did not make: a task
 * function's own timer, socket or file request (piscina's tasks may leave a
 * setTimeout behind them, and Node users expect it to fire, as it does on
 * piscina's idle worker). While any is active the M parks asynchronously,
 * so its event loop runs them; it looks again at least every IDLE_GC_MS.
 * Measured against what the thread held when the M started (its
 * parentPort and the like): process.getActiveResourcesInfo() lists ref'd
 * handles, requests and timers by type, in under a microsecond.
 */
function eventLoopBusy(): boolean {
  // Each resource the M started with cancels one of its type (a handful:
  // its parentPort and the like); any left over is a task's.
  const mine = baseResources.slice()
  for (const t of process.getActiveResourcesInfo()) {
    const i = mine.indexOf(t)
    if (i < 0) return true
    mine.splice(i, 1)
  }
  return false
}

/** The event loop's resources when the M started (eventLoopBusy). */
let baseResources: readonly string[] = []

/** Back from idle: running again, with the P a waker handed us, else off the idle M list. */
function unidle(): void {
  Atomics.store(m, mb + M_STATE, Mstate.Mrunning)
  lock(m, schedw(l, SCHED_LOCK))
  if (!takeNextp() && m[mb + M_WANTP] === 0) mremove(h, mid)
  unlock(m, schedw(l, SCHED_LOCK))
}

/** Work on the global queue that this M would take now (getp): no import pending, a P idle. */
function globalWorkForUs(): boolean {
  return modules.loading.size === 0 && globrunqsize(h) > 0 && Atomics.load(m, schedw(l, SCHED_NPIDLE)) > 0
}

/**
 * After this long asleep with nothing to do, a parked M sleeps asynchronously:
 * its event loop turns, so the tasks V8 posts to this isolate run. Blocked on
 * its futex, an M never runs them, and one of them is V8's memory reducer,
 * which some seconds after the boot gives back the pages the boot touched
 * (the young generation's, the loader's): about 3 MB an M (docs/design/
 * scheduler.md, "What an M's RSS is made of"). The price is an event-loop
 * turn on the first wake of a long idle spell, when nobody is waiting on
 * this M's speed; a busy M never gets here.
 */
const IDLE_ASYNC_MS = 1000

/** How many microtask checkpoints park() gives a step's leftover promise chains before it decides how to sleep. */
const MICROTASK_HOPS = 4

/** How long park() watches for work before it sleeps. */
const PARK_SPIN_MS = 0.015

/**
 * The last eight spins before a park, newest in bit 0: 1 if work came
 * while it spun. park() spins only if one of them did, and otherwise once
 * in SPIN_RETRY parks, to see whether it would pay again. A spin pays when
 * goroutines on two Ms hand work to each other (a channel ping-pong: the
 * partner readies ours within microseconds); it never pays for an M fed
 * one job at a time (jobs 1 ms apart), and there it cost more than its
 * 15 µs of CPU: the M's thread spun on while the app's thread it had just
 * woken for the job's result waited, often on the same core (Linux wakes a
 * thread on its waker's CPU): the result's way from the M's notify to the
 * host took 39-53 µs (p50) with the spin and 31-34 without it, at 1,000
 * jobs/s (benchmarks/scripts/job-split.mjs).
 */
let spinHistory = 0xff
let spinSkipped = 0
const SPIN_RETRY = 8

/** Whether work for this M came (a readied goroutine, a P handed over) within PARK_SPIN_MS of t0. */
function spinBeforePark(t0: number): boolean {
  for (let i = 0; ; i++) {
    if (Atomics.load(m, mb + M_READYQ) !== 0 || Atomics.load(m, mb + M_NEXTP) !== 0) return true
    if ((i & 15) === 15 && performance.now() - t0 >= PARK_SPIN_MS) return false
  }
}

/**
 * An M idle past the idle timeout leaves, if nothing lives on it, another
 * idle M stays as the spare, and more than keepMs Ms live: it takes itself
 * off sched.midle under sched.lock (so no startm can pick it any more; if
 * one already did, it stays), marks itself Mretired, and its thread ends.
 * The host may reuse its record for a new M.
 */
function retire(): boolean {
  if (pendingAsync > 0 || hasLocalWork() || Atomics.load(m, mb + M_NGS) !== 0) return false
  lock(m, schedw(l, SCHED_LOCK))
  if (m[schedw(l, SCHED_NMIDLE)] < 2 || m[mb + M_NEXTP] !== 0 || (keepMs > 0 && liveMs() <= keepMs) || !mremove(h, mid)) {
    unlock(m, schedw(l, SCHED_LOCK))
    return false
  }
  Atomics.store(m, mb + M_STATE, Mstate.Mretired)
  unlock(m, schedw(l, SCHED_LOCK))
  return true
}

/**
 * Ms whose thread lives (starting, running, idle; not retired or dead).
 * sched.lock must be held: retiring Ms mark themselves under it, so two
 * that retire at once count each other. The host hands out records
 * (sched.mnext) and clears a reused one under it too; it marks a dead M
 * without it, so a dying M may still be counted (one retire too few).
 */
function liveMs(): number {
  const n = m[schedw(l, SCHED_MNEXT)]
  let live = 0
  for (let i = 0; i < n; i++) {
    const st = Atomics.load(m, mbase(l, i) + M_STATE)
    if (st !== Mstate.Mretired && st !== Mstate.Mdead) live++
  }
  return live
}

/**
 * The tail of Go's findRunnable when nothing was found: give up the P (to an
 * M that wants one, or to the idle list), do the "delicate dance" of a
 * spinning M that stops spinning (re-check every source after dropping
 * nmspinning, so no work submitted meanwhile is left without an M), then
 * park. Returns whether the M retired while parked.
 */
async function idle(): Promise<boolean> {
  lock(m, schedw(l, SCHED_LOCK))
  if (globrunqsize(h) !== 0 || hasLocalWork()) {
    unlock(m, schedw(l, SCHED_LOCK))
    return false
  }
  if (!spinning && Atomics.load(m, schedw(l, SCHED_NEEDSPINNING)) === 1) {
    becomeSpinning()
    unlock(m, schedw(l, SCHED_LOCK))
    return false
  }
  const p = releasep()
  const waiter = releasepLocked(h, p)
  unlock(m, schedw(l, SCHED_LOCK))
  if (waiter >= 0) wakem(h, waiter)

  if (spinning) {
    // Go's "delicate dance": stop spinning, then look again at every source
    // of work. A spawner that saw us spinning skipped its wakep; either it
    // published its work before our decrement (we see it now) or it sees
    // nmspinning without us and wakes an M itself.
    spinning = false
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
        return false
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
          return false
        }
        break
      }
    }
  }
  // park() says whether the M retired (its idle timeout): the loop must end.
  return !getp() && await park()
}

/** Counts this M in nmspinning. It must hold a P. */
function becomeSpinning(): void {
  if (pp < 0) throwFatal('becomeSpinning', 'no P')
  spinning = true
  m[mb + M_SPINNING] = 1
  Atomics.add(m, schedw(l, SCHED_NMSPINNING), 1)
  Atomics.store(m, schedw(l, SCHED_NEEDSPINNING), 0)
}

/**
 * Go's resetspinning: we stop spinning with work in hand (or to hand our P
 * to another M); since spawners that saw us spinning did not wake anyone,
 * wake another M if there is an idle P and work it could take. Go wakes
 * one unconditionally, to be safe about work that comes later; here the
 * ways work comes later wake by themselves (injectglist and ready call
 * wakep when nobody spins), and on two cores the extra M woken for nothing
 * took the CPU from the app's thread: a sequential rt.run round trip woke
 * two Ms. Whatever was queued while we spun is seen here: a spawner pushes,
 * then loads nmspinning; we decrement it, then load the queues (both
 * sequentially consistent), so either it saw us no longer spinning and
 * woke someone itself, or we see its work.
 */
function resetspinning(): void {
  spinning = false
  m[mb + M_SPINNING] = 0
  if (Atomics.sub(m, schedw(l, SCHED_NMSPINNING), 1) - 1 < 0) throwFatal('resetspinning', 'negative nmspinning')
  Atomics.store(m, mb + M_STATE, Mstate.Mrunning)
  if (globrunqsize(h) !== 0 || (pp >= 0 && !runqempty(h, pp))) wakep(h)
}

/**
 * Go's schedule: one synchronous burst of finding and running goroutines.
 * Returns IDLE (nothing to run), YIELD (let the event loop run) or NOP
 * (the P is gone; mloop gets one again).
 */
function schedule(): number {
  burstStart = performance.now()
  tracing = tron[0] !== 0
  if (tracing) tw.anchor(burstStart)
  let n = 0
  for (;;) {
    if (pp < 0) return NOP
    // Take turns with an M waiting for a P (see the file comment). Checked
    // every 16th switch: a turn is 10 ms, and a switch costs ~100 ns.
    // A spinning M gets here too (idle() sends it back when work came in
    // meanwhile): it must not go off with its P given away and its count
    // still in nmspinning, which made wakep think someone was looking for
    // work while every M slept (issue 11). yieldP stops the spinning first.
    // An M with no started goroutine of its own to run next does not wait
    // for its turn to end: the next G it would run is unstarted, and
    // starting it would bind one more goroutine to this M while the
    // waiter's started ones wait for a P (the http suite: after sysmon took
    // a P from a step, the M that got it started job after job while the
    // old M's jobs waited in 10 ms turns). Started work first: the P and
    // its run queue go to the waiter now.
    const local = localnext !== 0 || localq.length > 0
    if (((n & 15) === 0 || !local) && Atomics.load(m, schedw(l, SCHED_NMWANT)) > 0 &&
      ((!local && Atomics.load(m, mb + M_READYQ) === 0) || performance.now() - pslice >= TIME_SLICE_MS) && yieldP()) {
      return NOP
    }
    const gp = findRunnable()
    if (gp === 0) {
      if (pendingAsync > 0 && hasLocalWork()) {
        // Back through the event loop: stop spinning meanwhile (the P stays
        // ours, but we are not looking for work while the loop runs).
        if (spinning) resetspinning()
        return YIELD
      }
      return IDLE
    }
    if (spinning) resetspinning()
    execute(gp, inheritTime)
    if (loadYield) {
      // Let another M run our P's work while this one imports a module.
      loadYield = false
      if (pp >= 0) handoffp(h, releasep())
      return NOP
    }
    if ((n & 63) === 63) {
      tracing = tron[0] !== 0
      if (performance.now() - burstStart >= (pendingAsync > 0 ? EVENT_LOOP_MS : HOUSEKEEPING_MS)) loopDue = true
    }
    if (loopDue) {
      loopDue = false
      return YIELD
    }
    n++
  }
}

/** Hands our P to the first M on sched.mwant, and waits our own turn if we have work. */
function yieldP(): boolean {
  // Stop spinning first, before sched.lock: resetspinning's wakep takes the
  // lock itself. It used to run after the waiter was taken off sched.mwant,
  // with the lock dropped around it, and the waiter, off the list with no P
  // yet, could be woken meanwhile (a goroutine readied onto its readyq),
  // find no P and put itself back on sched.mwant, where wakep's startm or
  // another releaser handed it a P before this one: two Ps for one M
  // ("startm: M1 already has a P", "mwantput: M is spinning"). Stopping
  // with no waiter left is harmless: we hold a P and go on finding work.
  if (spinning) resetspinning()
  lock(m, schedw(l, SCHED_LOCK))
  // sched.nmwant was read without the lock: the waiter may have been served
  // by another releaser since. Then keep the P (idling it here could strand
  // its run queue, which pidleput rightly refuses).
  const waiter = mwantget(h)
  if (waiter < 0) {
    unlock(m, schedw(l, SCHED_LOCK))
    pslice = performance.now()
    return false
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
  pickedLocal = false
  const tick = m[pb + P_SCHEDTICK]
  // Admission (admitHold). Starved: unstarted work first, until one of
  // those goroutines runs a whole slice or there is none.
  if (admitting) {
    let gp = runqget(h, pp)
    if (gp !== 0) {
      inheritTime = runqgetInheritTime
      return gp
    }
    if (globrunqsize(h) > 0) {
      gp = globrunqget1()
      if (gp !== 0) {
        inheritTime = false
        return gp
      }
    }
    admitting = false
  }
  // Holding a preempted goroutine: started work first (the unstarted work
  // went to the global queue for the other Ps).
  if (held !== 0) {
    drainReadyq()
    const gp = takeLocal()
    if (gp !== 0) return gp
    held = 0
  }
  // Check the global queue once in a while, so its Gs are not starved by
  // Ps that keep readying each other.
  if ((tick % 61 === 0 || globalFirst) && globrunqsize(h) > 0) {
    globalFirst = false
    const gp = globrunqget1()
    if (gp !== 0) {
      inheritTime = false
      return gp
    }
  }
  // takeLocal's first case, written out: the channel hand-off's path.
  if (localnext !== 0) {
    const gp = localnext
    localnext = 0
    inheritTime = true
    pickedLocal = true
    return gp
  }
  drainReadyq()
  // Alternate between our started goroutines and the P's unstarted ones.
  if (localq.length > 0 && (tick & 1) === 0) return takeLocal()
  let gp = runqget(h, pp)
  if (gp !== 0) {
    inheritTime = runqgetInheritTime
    return gp
  }
  if (localq.length > 0) return takeLocal()
  inheritTime = false
  if (globrunqsize(h) > 0) {
    gp = globrunqget1()
    if (gp !== 0) return gp
  }
  // Spinning Ms: steal from other Ps. Limit the number of spinning Ms to
  // half the number of busy Ps, so that CPU is not burned when parallelism
  // is low.
  const procs = Atomics.load(m, schedw(l, SCHED_GOMAXPROCS))
  if (spinning || 2 * Atomics.load(m, schedw(l, SCHED_NMSPINNING)) < procs - Atomics.load(m, schedw(l, SCHED_NPIDLE))) {
    if (!spinning) becomeSpinning()
    gp = stealWork(h, pp, procs, rnd)
    if (gp !== 0) {
      if (tron[0] !== 0) tw.ev(Ev.Steal, pp, m[gbase(l, gp) + G_GOID], 0)
      return gp
    }
  }
  return 0
}

/**
 * This M's next started goroutine for findRunnable: localnext (Go's
 * runnext: it inherits the time slice), else the head of localq; 0 if
 * both are empty.
 */
function takeLocal(): number {
  const gp = localnext
  if (gp !== 0) {
    localnext = 0
    inheritTime = true
    pickedLocal = true
    return gp
  }
  if (localq.length === 0) return 0
  inheritTime = false
  pickedLocal = true
  return localq.shift()
}

/**
 * One G from the global queue, under sched.lock, or 0. One at a time, where
 * Go's globrunqget takes a fair share (size / gomaxprocs + 1) onto the P's
 * ring to spare sched.lock: a share taken by one M waited there while the
 * other Ms served later arrivals from the global queue, so the host's
 * spawns did not start in order (the http suite at 50 connections: the
 * longest-queued requests had been overtaken by 20-100 later ones, all from
 * the ring of one M). With a few Ps the lock per G is cheap;
 * docs/design/scheduler.md, "Admission".
 */
function globrunqget1(): number {
  lock(m, schedw(l, SCHED_LOCK))
  const gp = globrunqget(h, pp, 1)
  unlock(m, schedw(l, SCHED_LOCK))
  return gp
}

/**
 * Admission: decides, at the preemption of a goroutine of this M, whether
 * this M keeps serving its started goroutines (true) or starts unstarted
 * work next, as Go would (false). A started goroutine cannot leave its M
 * (DESIGN.md), so every unstarted goroutine this M starts while it has a
 * CPU-bound one runnable shares the M with it, while another M may be free:
 * jobs share an M instead of running in order (the http suite). So while
 * other Ps exist, and they keep starting unstarted goroutines (the sum of
 * the Ms' M.nstarted moves), the M holds: it moves its P's unstarted work
 * to the head of the global queue (runqspillhead, in order: they were ahead of
 * what is there) for the other Ps, wakes an idle one (wakep), and keeps
 * its started goroutines. When nobody has started anything for
 * ADMIT_STARVE_SLICES of its preemptions, every P is busy with started
 * work: it admits (false),
 * and findRunnable starts unstarted goroutines first (admitting) until one
 * of them is preempted in turn (then this decides again) or none is left:
 * short goroutines spawned while every P runs a CPU-bound one all start
 * within about ADMIT_STARVE_SLICES slices, and a long one binds one more goroutine to
 * this M, as every preemption did without admission. At procs 1 there is
 * no other P to leave the work to: Go's rule (globalFirst).
 */
function admitHold(): boolean {
  admitting = false
  const procs = Atomics.load(m, schedw(l, SCHED_GOMAXPROCS))
  if (procs < 2) return false
  let starts = 0
  for (let i = 0; i < l.maxMs; i++) starts = (starts + Atomics.load(m, mbase(l, i) + M_NSTARTED)) | 0
  if (starts !== holdStarts) {
    holdStarts = starts
    holdSlices = 0
  } else if (++holdSlices >= ADMIT_STARVE_SLICES) {
    holdSlices = 0
    admitting = true
    return false
  }
  if (!runqempty(h, pp)) {
    lock(m, schedw(l, SCHED_LOCK))
    runqspillhead(h, pp)
    unlock(m, schedw(l, SCHED_LOCK))
  }
  if (globrunqsize(h) > 0) wakep(h)
  return true
}

/** Moves Gs readied by other threads from M.readyq to localq, oldest first. */
function drainReadyq(): void {
  if (Atomics.load(m, mb + M_READYQ) === 0) return
  let gp = Atomics.exchange(m, mb + M_READYQ, 0)
  // Readied by other threads, each of whose UnblockX events carries the
  // count of M.trwakes it took before its push: every one this count
  // covers is placed before this point (trace/buffer.ts readEvents).
  if (tron[0] !== 0) tw.mark(Ev.Drain, Atomics.load(m, mb + M_TRWAKES))
  const batch: number[] = []
  while (gp !== 0) {
    const gb = gbase(l, gp)
    // An orphan (a dead M's goroutine, readied in a race with its death)
    // is not ours even if our id was its M's: skip it.
    if ((Atomics.load(m, gb + G_FLAGS) & Gflags.Gorphan) === 0) batch.push(gp)
    gp = m[gb + G_SCHEDLINK]
  }
  for (let i = batch.length - 1; i >= 0; i--) localq.push(batch[i])
}

// ---------------------------------------------------------------------------
// Running goroutines.

/** Go's execute: runs gp on this M until it yields, parks or exits. */
function execute(gp: number, inherit: boolean): void {
  if (!inherit) m[pb + P_SCHEDTICK]++
  // Held until it stops otherwise than for a preemption (admitHold decides
  // again) or the event loop's turn (it stays held).
  const wasHeld = gp === held
  if (wasHeld) held = 0
  const gb = gbase(l, gp)
  let s: number
  if (m[gb + G_M] === 0) {
    s = startg(gp, gb)
    if (s < 0) return
  } else s = m[gb + G_LSLOT]
  const gen = gens[s]!
  curg = gp
  m[mb + M_CURG] = gp
  // Plain: the M owns a runnable or running G of its own; no other thread
  // writes its status in these states (only a parked G is readied by others).
  m[gb + G_STATUS] = Gstatus.Grunning
  if (tracing) traceStart(gb, s, inherit)
  let v = resumeVal[s]
  let isErr = resumeErr[s]
  if (v !== undefined) resumeVal[s] = undefined
  if (isErr) resumeErr[s] = false
  // Why gp stops running, for the tracer's stop event (set where the loop breaks).
  let why: number = StopWhy.Block
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
    // Read once per step: the cancellation check here and the safe point
    // below both go by it.
    const preempt = Atomics.load(m, gb + G_PREEMPT) !== 0
    // A cancellation (cancel.ts) is thrown in at a safe point: a plain
    // yield, gosched, sleep or until; not at a park (the operation has
    // queued gp on a channel or lock) nor a syscall. G.preempt is up while
    // one waits, so this costs the fast path nothing.
    if (kept && preempt && cancelPending(m, gb) &&
      !(y instanceof SchedOp && (y.kind === OpKind.Park || y.kind === OpKind.Syscall))) {
      // until()'s promise is abandoned: its rejection must not go unhandled.
      if (y instanceof SchedOp && y.kind === OpKind.Until) Promise.resolve(y.arg).catch(ignore)
      Atomics.store(m, gb + G_PREEMPT, 0)
      v = takeCancel(h, gb)
      isErr = true
      continue
    }
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
      why = StopWhy.LostP
      break
    }
    if (y instanceof SchedOp) {
      if (y.kind === OpKind.Gosched) {
        m[gb + G_STATUS] = Gstatus.Grunnable // owner only, as above
        resumeVal[s] = RESUMED // ends gosched()'s shared iterator
        localq.push(gp)
        why = StopWhy.Yield
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
        if (preempt) {
          if (tracing) tracePreempted = true
          clearPreempt(gb)
          if (localnext !== 0) {
            localq.push(localnext)
            localnext = 0
          }
          globalFirst = true
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
          why = StopWhy.LostP
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
    if (preempt ||
      ((++safepoints & 15) === 0 && performance.now() - burstStart >= HOUSEKEEPING_MS && (loopDue = true))) {
      clearPreempt(gb)
      m[gb + G_STATUS] = Gstatus.Grunnable // owner only, as above
      why = StopWhy.Yield
      if (preempt) {
        if (tracing) tracePreempted = true
        why = StopWhy.Preempted
        // Go puts a preempted G on the global queue, behind the work there;
        // ours must stay on this M, so it goes behind our own queue. Then
        // either this M keeps serving its started goroutines and leaves the
        // unstarted ones to the other Ps (admitHold), or, when they have
        // started none for a while, the next findRunnable looks at the
        // global queue first.
        localq.push(gp)
        if (admitHold()) held = gp
        else if (!admitting) globalFirst = true
      } else {
        // Only the event loop's turn is due, not gp's time slice over:
        // gp runs first when the loop has turned, with the slice it had
        // (inheritTime, so sysmon still preempts it on time), as Go's
        // runnext does. Behind our queue it started the next unstarted G
        // and waited for it: every burst cut a CPU-bound job in two and
        // bound one more goroutine to this M (processor sharing where
        // piscina runs jobs in order; the http suite, docs/design/scheduler.md).
        if (localnext !== 0) localq.push(localnext)
        localnext = gp
        if (wasHeld) held = gp
      }
      break
    }
  }
  if (tracing) traceStop(gb, why)
  curg = 0
  m[mb + M_CURG] = 0
}

// ---------------------------------------------------------------------------
// The execution tracer's hooks (trace/buffer.ts): called only while tracing.

/** Set by a preemption at a safe point while tracing: the stop that follows is a preemption. */
let tracePreempted = false
/** Per local slot: a closure goroutine's name, and the recording (TR_EPOCH) its GoName event went into. */
const closureNames: string[] = []
const closureEpoch: number[] = []

/** A closure goroutine's GoName event, once per recording: its function's name, which the runtime's function table does not have. */
function traceName(goid: number, s: number): void {
  tw.ev(Ev.GoName, goid, tw.str(closureNames[s] ?? 'func'), 0)
  closureEpoch[s] = tron[TR_EPOCH]
}

/** Per local slot: the recording (TR_EPOCH) in which this M last wrote a full Start for its goroutine (with its function). */
const startEpoch: number[] = []

/**
 * traceGoStart: gp (record gb, local slot s) starts running on our P. An
 * unstamped event when gp is one of this M's own runnable goroutines
 * (localnext, localq): whatever readied it is ordered before it, in this
 * M's buffer or by the Drain written when M.readyq was drained; the short
 * form once this recording has its function. A goroutine from a run
 * queue, a steal or the global queue is stamped: it may have been created
 * on another thread (whose Create is stamped) just before.
 */
function traceStart(gb: number, s: number, inherit: boolean): void {
  const goid = m[gb + G_GOID]
  const epoch = tron[TR_EPOCH]
  if (pickedLocal && startEpoch[s] === epoch) {
    // The common switch: joined with the stop before it (TraceWriter.stop).
    // From localnext (inherit), it is Go's runnext hand-off: if it was
    // blocked, the goroutine that stopped readied it (readyHere), which the
    // Switch says in a bit (the reader checks it was blocked).
    tw.startLocal(pp, goid, inherit ? SWITCH_WOKE : 0)
    return
  }
  const fn = m[gb + G_FN]
  if (fn < 0 && closureEpoch[s] !== epoch) traceName(goid, s)
  startEpoch[s] = epoch
  // The hand-off's wake-up, as the Switch's bit tells it (the stop is written first).
  if (inherit && pickedLocal && tw.pendG !== 0) tw.ev(Ev.Unblock, goid, tw.pendG, 1)
  if (pickedLocal) tw.ev(Ev.Start | (pp << 8), goid, fn, 0)
  else tw.emit(Ev.Start, goid, fn, 0, pp)
}

/**
 * A wake-up on this M that the Switch's bit will not tell (readyHere): an
 * unstamped Unblock of gp by goroutine `by` (0: none), marked to count
 * only if gp is blocked then (c = 1: it may have yielded instead).
 */
function traceWoken(gp: number, by: number): void {
  tw.ev(Ev.Unblock, m[gbase(l, gp) + G_GOID], by === 0 ? 0 : m[gbase(l, by) + G_GOID], 1)
}

/** Set by findRunnable: the G it returned was this M's own (localnext, localq). */
let pickedLocal = false

/** traceGoStop/traceGoPark: the goroutine at gb stopped running, why (StopWhy). */
function traceStop(gb: number, why: number): void {
  const goid = m[gb + G_GOID]
  if (tracePreempted) {
    // A park that a preemption came with is still a block (execute).
    tw.ev2(Ev.Preempted | (pp << 8), goid)
    tracePreempted = false
  }
  tw.stop(why | (m[gb + G_WAITREASON] << 4), goid)
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
  const flags = m[gb + G_FLAGS]
  // Only an awaited G can be cancelled (cancel.ts). G.m first, then the
  // check: a Dekker pair with the host's cancel (CAS G.cancel, then load
  // G.m), so that either we see its request or it sees where gp lives and
  // tells this M (onHostMessage).
  if ((flags & Gflags.Gawaited) !== 0) {
    Atomics.store(m, gb + G_M, mid + 1)
    if (cancelPending(m, gb)) {
      // Cancelled before it started: it never runs.
      failUnstarted(gp, gb, takeCancel(h, gb))
      return -1
    }
  }
  const id = m[gb + G_FN]
  const fn = funcById(h, id)
  if (fn === undefined) {
    const { url, name } = funcKey(h, id)
    const err = modules.error(url)
    if (err === undefined && !modules.has(url)) {
      m[gb + G_M] = 0 // still unstarted data, free to start on any M
      runqput(h, pp, gp, false)
      if (modules.begin(url, moduleLoaded)) {
        m[mb + M_LOADING] = modules.loading.size
        pendingAsync++
        m[mb + M_NPENDING] = pendingAsync
      }
      loadYield = true
      return -1
    }
    failUnstarted(gp, gb, err ?? new TypeError(`gort: module ${url} does not register ${name} with goroutines()`))
    return -1
  }
  m[gb + G_M] = mid + 1
  m[gb + G_LSLOT] = -1
  // A timeout counted from the start (cancel.ts): the host reads the stamp.
  if ((flags & Gflags.Gtimed) !== 0) Atomics.store(m, gb + G_STARTED, startStamp())
  // Plain: this M is the only writer; others read them for stats.
  m[mb + M_NGS]++
  m[mb + M_NSTARTED]++
  const args = takeArgs(h, gb)
  // G.inl is free from here to goexit (the arguments are taken, no result
  // yet): a Gtimed G's start on this M's clock, for its run time.
  if ((flags & Gflags.Gtimed) !== 0) h.f64[(gb + G_INL) >> 1] = performance.now()
  try {
    return slotput(gb, fn(...args))
  } catch (e) {
    goexit(gp, gb, e, true)
    return -1
  }
}

/**
 * Lowers G.preempt after a preemption, but keeps it up while a
 * cancellation waits for gp's next safe point. Store, then check: the host
 * CASes G.cancel before it raises G.preempt, so if our store overwrote its
 * raise, the load after it sees the request.
 */
function clearPreempt(gb: number): void {
  Atomics.store(m, gb + G_PREEMPT, 0)
  if (cancelPending(m, gb)) Atomics.store(m, gb + G_PREEMPT, 1)
}

/** Ends an unstarted G on this M with err, without running it. */
function failUnstarted(gp: number, gb: number, err: unknown): void {
  m[gb + G_M] = mid + 1
  m[gb + G_LSLOT] = -1
  m[mb + M_NGS]++ // goexit counts it out (plain: this M is its only writer)
  dropArgs(h, gb)
  goexit(gp, gb, err, true)
}

function ignore(): void {}

/**
 * A message from the host: a cancellation for gp (cancel.ts). If gp is
 * parked in sleep() or until() on this M, the park is abandoned (its
 * wake-up will be ignored: parkSeq) and gp made runnable with the reason
 * to throw; otherwise gp takes the request at its next safe point, or
 * when it starts.
 */
function onHostMessage(msg: unknown): void {
  if (msg === null || typeof msg !== 'object' || (msg as { type?: unknown }).type !== 'cancel') return
  const gp = (msg as { gp: number }).gp
  const gb = gbase(l, gp)
  if (m[gb + G_M] !== mid + 1 || Atomics.load(m, gb + G_STATUS) !== Gstatus.Gwaiting) return
  const why = m[gb + G_WAITREASON]
  if ((why !== WaitReason.IOWait && why !== WaitReason.Sleep) || !cancelPending(m, gb)) return
  const s = m[gb + G_LSLOT]
  parkSeq[s]++
  if (parkTimer[s] !== undefined) {
    clearTimeout(parkTimer[s])
    parkTimer[s] = undefined
  }
  Atomics.store(m, gb + G_PREEMPT, 0)
  readyLocal(gp, takeCancel(h, gb), true)
}

/** An import begun by startg settled (ModuleTable recorded how): its goroutines can start, or fail. */
function moduleLoaded(): void {
  m[mb + M_LOADING] = modules.loading.size
  pendingAsync--
  m[mb + M_NPENDING] = pendingAsync
  wakem(h, mid)
}

/** Parks gp until the promise settles (wait reason "IO wait"). */
function parkOnPromise(gp: number, gb: number, p: unknown): void {
  Atomics.store(m, gb + G_STATUS, Gstatus.Gwaiting)
  m[gb + G_WAITREASON] = WaitReason.IOWait
  h.f64[(gb + G_WAITSINCE) >> 1] = performance.timeOrigin + performance.now()
  pendingAsync++
  m[mb + M_NPENDING] = pendingAsync
  Atomics.add(m, schedw(l, SCHED_NPENDINGIO), 1)
  const s = m[gb + G_LSLOT]
  const seq = ++parkSeq[s]
  Promise.resolve(p).then(
    (val) => { if (parkSeq[s] === seq) readyLocal(gp, val, false) },
    (err: unknown) => { if (parkSeq[s] === seq) readyLocal(gp, err, true) },
  )
}

/** time.Sleep: parks gp (wait reason "sleep") on a timer of this M's event loop. */
function parkOnTimer(gp: number, gb: number, ms: number): void {
  Atomics.store(m, gb + G_STATUS, Gstatus.Gwaiting)
  m[gb + G_WAITREASON] = WaitReason.Sleep
  h.f64[(gb + G_WAITSINCE) >> 1] = performance.timeOrigin + performance.now()
  pendingAsync++
  m[mb + M_NPENDING] = pendingAsync
  Atomics.add(m, schedw(l, SCHED_NPENDINGIO), 1)
  const s = m[gb + G_LSLOT]
  parkSeq[s]++
  parkTimer[s] = setTimeout(() => {
    parkTimer[s] = undefined
    readyLocal(gp, undefined, false)
  }, ms)
}

/**
 * Counts work this M's event loop will deliver (a timer that sends on a
 * channel): while any is pending the M lets its event loop run and parks
 * asynchronously.
 */
function asyncPending(delta: number): void {
  pendingAsync += delta
  m[mb + M_NPENDING] = pendingAsync
  Atomics.add(m, schedw(l, SCHED_NPENDINGIO), delta)
}

/**
 * goready for a G of this M, readied on this M (a channel partner): it runs
 * next and inherits the time slice, as Go's goready puts it in runnext. A
 * timer callback may do this while the M is parked, so wake it.
 */
function readyHere(gp: number): void {
  // The tracer: gp, from localnext, runs right after its waker's stop,
  // which the Switch tells (traceStart). The one it displaces does not:
  // its wake-up (by the goroutine running now, as a rule) is written now.
  if (localnext !== 0) {
    if (tracing) traceWoken(localnext, curg)
    localq.push(localnext)
  }
  localnext = gp
  // From a goroutine, this M is awake; from a callback (a timer, a settled
  // promise) it may be parked on its note.
  if (curg === 0) {
    if (tracing) traceWoken(gp, 0)
    wakem(h, mid)
  }
}

/** A promise of gp's settled (on this thread): gp runs next, with the value. */
function readyLocal(gp: number, v: unknown, isErr: boolean): void {
  pendingAsync--
  m[mb + M_NPENDING] = pendingAsync
  Atomics.sub(m, schedw(l, SCHED_NPENDINGIO), 1)
  const gb = gbase(l, gp)
  const s = m[gb + G_LSLOT]
  resumeVal[s] = v
  resumeErr[s] = isErr
  if (tron[0] !== 0) tw.ev2(Ev.UnblockLocal | (m[gb + G_WAITREASON] << 8), m[gb + G_GOID])
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
  if (tron[0] !== 0) tw.emit(Ev.SyscallEnter, m[gb + G_GOID], pp)
  m[pb + P_SYSCALLTICK]++
  // Lend the P: sysmon hands it on if the call blocks long enough to matter
  // (retake, Go's rule), and exitsyscall takes it back if nobody did.
  Atomics.store(m, pb + P_STATUS, Pstatus.Psyscall)
  // No M idles to take the P if sysmon retakes it: ask the host for a
  // spare now, so that it boots while the call blocks (Go's handoffp
  // would startm a new M at the retake; ours takes tens of ms to boot).
  // The runtime starts no spare with its first Ms (docs/design/
  // scheduler.md, "Starting"). At most one request per SPARE_ASK_MS.
  if (Atomics.load(m, schedw(l, SCHED_NMIDLE)) === 0) {
    const now = performance.now()
    if (now >= nextSpareAsk) {
      nextSpareAsk = now + SPARE_ASK_MS
      parentPort?.postMessage({ [MMSG_TAG]: 'spare' } satisfies MSpare)
    }
  }
}

/** How often an M entering blocking calls may ask for a spare M (the host starts one only if none idles or starts). */
const SPARE_ASK_MS = 50
let nextSpareAsk = 0

/**
 * Go's exitsyscall: the fast path takes our P back if nobody took it;
 * else exitsyscallfast tries an idle P. Returns false if we have no P (the
 * caller queues gp and mloop waits for one).
 */
function exitsyscall(gp: number, gb: number): boolean {
  if (pp >= 0 && Atomics.compareExchange(m, pb + P_STATUS, Pstatus.Psyscall, Pstatus.Prunning) === Pstatus.Psyscall) {
    Atomics.store(m, gb + G_STATUS, Gstatus.Grunning)
    if (tron[0] !== 0) tw.emit(Ev.SyscallExit, m[gb + G_GOID], 1)
    return true
  }
  if (tron[0] !== 0) tw.emit(Ev.SyscallExit, m[gb + G_GOID], 0)
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
function goexit(gp: number, gb: number, value: unknown, failed: boolean): void {
  if (tracing) tw.stop(StopWhy.Exit, m[gb + G_GOID])
  const s = m[gb + G_LSLOT]
  if (s >= 0) {
    gens[s] = undefined
    resumeVal[s] = undefined
    resumeErr[s] = false
    freeSlots.push(s)
    m[gb + G_LSLOT] = -1
  }
  m[mb + M_NGS]--
  curg = 0
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
    // A Gtimed G's run time (ms, this M's clock) for the host, in the
    // record's wait stamp, which a G that has ended no longer needs.
    if ((flags & Gflags.Gtimed) !== 0) h.f64[(gb + G_WAITSINCE) >> 1] = performance.now() - h.f64[(gb + G_INL) >> 1]
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
    if (++gcredit >= 2 * GCOUNT_BATCH) {
      Atomics.sub(m, schedw(l, SCHED_GCOUNT), gcredit - GCOUNT_BATCH)
      gcredit = GCOUNT_BATCH
    }
    m[mb + M_GCREDIT] = gcredit // plain: only the host reads it, after the M died
    gfput(h, gp)
  }
}

/**
 * sched.gcount without a shared atomic per goroutine: two Ms creating
 * goroutines in parallel would otherwise bounce the counter's cache line
 * twice per goroutine. The M holds credit: counts it added to sched.gcount
 * ahead of need (GCOUNT_BATCH at a time), spent by each goroutine it
 * creates with go() and earned back by each exit of a goroutine nobody
 * awaits; a chain of goroutines on one M touches the counter not at all.
 * sched.gcount = the live goroutines + every M's credit, so it only ever
 * reads high, never low: nothing that waits for it to reach 0 (close,
 * sysmon's exit, the deadlock check) can act early. The M gives its credit
 * back whenever it leaves schedule (an event-loop turn at least every
 * HOUSEKEEPING_MS, or going idle), and the host takes it back if the M
 * dies (M.gcredit).
 */
let gcredit = 0
const GCOUNT_BATCH = 64

/** A count for a goroutine this M is creating (newproc1's counted). */
function gcountTake(): void {
  if (gcredit === 0) {
    Atomics.add(m, schedw(l, SCHED_GCOUNT), GCOUNT_BATCH)
    gcredit = GCOUNT_BATCH
  }
  m[mb + M_GCREDIT] = --gcredit
}

function flushGcount(): void {
  if (gcredit === 0) return
  Atomics.sub(m, schedw(l, SCHED_GCOUNT), gcredit)
  gcredit = 0
  m[mb + M_GCREDIT] = 0
}

// ---------------------------------------------------------------------------
// Spawning from inside a goroutine.

const spawnHook: SpawnHook = (fn, args) => {
  if (curg === 0) throw new Error('go: called outside a goroutine')
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
  if (tron[0] !== 0) tw.emit(Ev.Create, goid, m[gbase(l, gp) + G_FN], m[gbase(l, curg) + G_GOID])
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
  if (tron[0] !== 0) tw.emit(Ev.Create, goid, -1, m[gbase(l, curg) + G_GOID])
  m[gb + G_M] = mid + 1
  // Plain: this M is the only writer; others read them for stats.
  m[mb + M_NGS]++
  m[mb + M_NSTARTED]++
  let s: number
  try {
    s = slotput(gb, fn(...args))
  } catch (e) {
    m[gb + G_LSLOT] = -1
    goexit(gp, gb, e, true)
    return goid
  }
  // Its name, for a trace (recorded now or started later).
  closureNames[s] = fn.name || 'func'
  closureEpoch[s] = 0
  if (tron[0] !== 0) traceName(goid, s)
  localq.push(gp)
  return goid
}
