// sysmon: Go's system monitor (proc.go sysmon, retake, preemptone,
// schedtrace), on a worker thread of its own that holds no P.
//
// JavaScript cannot interrupt a running generator, so sysmon matters more
// here than in Go. It watches every P (the times below are wall-clock
// time, not counting the time the M's thread waited for a core, where
// Linux tells: overrun):
//   - a P whose goroutine has run 10 ms without a switch (schedtick and
//     steptick unchanged) gets that goroutine's preempt flag set: it gives up
//     the M at its next plain `yield` (preemptone);
//   - a P lent to a syscall (Psyscall) is taken and handed on by Go's rule
//     (retake): unless its run queue is empty, some P is idle or an M spins,
//     and the call is younger than 10 ms;
//   - a P lent to goroutine code (Pexec, mloop.ts execute) whose step has
//     not ended for runawayMs (20 ms) is taken and handed on the same way:
//     the stuck M cannot run anything else anyway, and the P's unstarted
//     goroutines can run on another M. When the step ends, its M finds the
//     P gone and waits for one (sched.mwant), as after a syscall.
//
// It sleeps 20 µs at first and doubles its sleep after 1 ms without work,
// up to 10 ms; while every P is idle it sleeps on sched.sysmonnote, woken
// by the M that next takes a P (acquirep).

import { parentPort } from 'node:worker_threads'
import type { SharedHeap } from './heap.js'
import {
  gbase, mbase, pbase, schedw,
  G_PREEMPT, M_CURG, M_LOADING, M_TID, M_SLEEP, M_SPINNING, M_STATE, P_M, P_RUNNEXT, P_SCHEDTICK, P_STATUS, P_STEPTICK, P_SYSCALLTICK,
  SCHED_GOMAXPROCS, SCHED_MNEXT, SCHED_NMIDLE, SCHED_NMSPINNING, SCHED_NPIDLE, SCHED_NPREEMPT,
  SCHED_NRETAKEEXEC, SCHED_NRETAKESYSCALL, SCHED_NWAKEGUARD, SCHED_SYSMONNOTE, SCHED_SYSMONSLEEPUS,
  SCHED_SYSMONTICK, SCHED_SYSMONWAIT, SCHED_CLOSING, SCHED_GCOUNT, G_STATUS, G_WAITREASON, G_M, G_GOID, G_FLAGS,
} from './layout.js'
import { noteclear, notetsleep, notetsleepAsync } from './lock_futex.js'
import { handoffp, startm, wakep } from './proc.js'
import { globrunqsize, runqlen } from './runq.js'
import { Gflags, Gstatus, Msleep, Mstate, Pstatus, waitReasonStrings } from './runtime2.js'
import { sabcheck, sabStats } from './codec/sabs.js'
import { ThreadRun } from './threadrun.js'
import { Ev } from './trace/buffer.js'
import { traceCounters } from './trace/counters.js'

export interface SysmonOptions {
  /** A goroutine step longer than this loses its P (ms). */
  runawayMs: number
  /** Go's schedtrace: print a SCHED line every this many ms (0: never). */
  schedtrace: number
  /** Go's scheddetail: add P, M and G lines. */
  scheddetail: boolean
  /** Date.now() when the runtime started, for SCHED lines. */
  startTime: number
}

/** Go's forcePreemptNS: a goroutine that runs this long is asked to yield. */
const FORCE_PREEMPT_MS = 10
/** A syscall younger than this keeps its P if nothing else needs it (Go: 10 ms, sysmon's retake). */
const SYSCALL_GRACE_MS = 10

/** Sysmon's memory of each P (Go's sysmontick). */
interface PTick {
  schedtick: number
  steptick: number
  schedwhen: number
  syscalltick: number
  syscallwhen: number
  /** P.runnext at the last look (a G waiting behind a long step: wakeRunnext). */
  runnext: number
  /** The time slice since schedwhen, not counting the time its M thread waited for a core (overrun). */
  slice: RunMark
  /** The step since syscallwhen (a Pexec P), likewise. */
  step: RunMark
}

/** A span of wall-clock time checked against what the thread it ran on did (overrun). */
interface RunMark {
  /** The thread's CPU time (ms) at the mark, half the limit into the span, or -1 before. */
  cpu: number
  /** The earliest time the span can be over its limit, as last computed (sysmon reads the clock no sooner). */
  at: number
}

/** What sysmon knows that is not in the shared heap: its memory of each P and its pace (Runtime.sysmonView). */
export interface SysmonView {
  /** Its sleep between looks now, in microseconds (0: waiting on sched.sysmonnote). */
  delayMicros: number
  /** Looks in a row that found nothing to do (after 50, the sleep doubles). */
  idleLooks: number
  /** schedtrace period in ms, 0 when off. */
  schedtrace: number
  ps: Array<{
    id: number
    /** How long its schedtick has not moved, as sysmon last saw it (ms). */
    sinceSchedtickMs: number
    /** How long its current syscall or goroutine step has lasted, as sysmon last saw it (ms). */
    sinceStepOrSyscallMs: number
  }>
  /** Ms since sysmon last took a P (retake), or -1. */
  sinceLastRetakeMs: number
  /** SharedArrayBuffer ids sysmon holds (codec/sabs.ts): the live ones, and drops it has not read yet. */
  sabEntries: number
}

/** The control plane sysmon serves over comlink (Runtime.sysmonView, Runtime.setGodebug). */
export interface SysmonControl {
  view(): SysmonView
  setSchedtrace(ms: number, detail: boolean): void
}

/** While a P is lent (a step or a syscall runs), sysmon looks at least this often (µs). */
const LENT_LOOK_US = 2000
/** Looks without work at the fast pace (20 µs) before sysmon's sleep starts doubling (Go's 50: 1 ms). */
const IDLE_LOOKS = 50
/** The first look after an M taking a P woke sysmon from its note (µs): see the note sleep. */
const WAKE_LOOK_US = 200
/** sysmon sleeps on its note once every P has been idle, and no P has run anything, for this long (ms). */
const QUIET_MS = 5

/** How long work may sit on the global queue with every P idle before sysmon's wake guard acts. */
const STRANDED_MS = 20

export async function sysmon(h: SharedHeap, opts: SysmonOptions, poll: () => number = () => 0, serve?: (c: SysmonControl) => void): Promise<void> {
  const m = h.i32
  const l = h.layout
  const ticks: PTick[] = []
  let idle = 0
  /** Since when every look found every P idle and no P's schedtick moved (-1: the last look did not); the note sleep waits for QUIET_MS of it. */
  let quietSince = -1
  /** The sum of the Ps' schedticks at the last look (wrapping): a change means a P ran goroutines in between, if every P is idle now. */
  let lastTicks = 0
  let delay = 20
  let nextSpare = 0
  let lastRetake = -1
  let awakeUntil = 0
  /** Sleeps on the note in a row that ran out with nothing to do (the async sleep after the first). */
  let idleSleeps = 0
  let strandedSince = -1
  /** The next sleep's cap (µs): until the nearest runaway deadline. */
  let capUs = Infinity
  let nextSample = 0
  let nextTrace = opts.schedtrace > 0 ? performance.now() + opts.schedtrace : Infinity
  // Every P from the start (retake fills in what it sees at its first
  // look): a view asked for as soon as sysmon is up lists them all.
  const t0 = performance.now()
  for (let p = 0; p < Atomics.load(m, schedw(l, SCHED_GOMAXPROCS)); p++) {
    ticks[p] = { schedtick: -1, steptick: -1, schedwhen: t0, syscalltick: -1, syscallwhen: t0, runnext: 0, slice: { cpu: -1, at: 0 }, step: { cpu: -1, at: 0 } }
  }
  serve?.({
    view: () => {
      const now = performance.now()
      return {
        delayMicros: m[schedw(l, SCHED_SYSMONSLEEPUS)],
        idleLooks: idle,
        schedtrace: opts.schedtrace,
        ps: ticks.map((pd, id) => ({ id, sinceSchedtickMs: now - pd.schedwhen, sinceStepOrSyscallMs: now - pd.syscallwhen })),
        sinceLastRetakeMs: lastRetake < 0 ? -1 : now - lastRetake,
        sabEntries: sabStats(h).entries,
      }
    },
    setSchedtrace: (ms, detail) => {
      opts.schedtrace = ms > 0 ? ms : 0
      opts.scheddetail = detail
      nextTrace = ms > 0 ? performance.now() + ms : Infinity
    },
  })
  for (;;) {
    // The control plane: requests arrive on a port sysmon polls (its loop
    // never returns to the event loop between looks); await lets comlink's
    // replies, posted from promise callbacks, go out.
    poll()
    // SharedArrayBuffers: read the channel, answer late Ms (codec/sabs.ts).
    sabcheck(h)
    await null
    if (Atomics.load(m, schedw(l, SCHED_CLOSING)) !== 0 && (h.dead || Atomics.load(m, schedw(l, SCHED_GCOUNT)) === 0)) return
    if (idle === 0) delay = 20
    // While quiet, four times as far apart: the note sleep comes after
    // QUIET_MS in a few looks (after a lone job that woke sysmon, looks at
    // 0.2, 0.6, 2.2 and 8.6 ms), not a dozen.
    else if (idle > IDLE_LOOKS) delay = Math.min(delay * (quietSince >= 0 ? 4 : 2), 10_000)
    delay = Math.min(delay, capUs)
    capUs = Infinity
    m[schedw(l, SCHED_SYSMONSLEEPUS)] = delay
    Atomics.wait(m, schedw(l, SCHED_SYSMONTICK), m[schedw(l, SCHED_SYSMONTICK)], delay / 1000)
    m[schedw(l, SCHED_SYSMONTICK)]++
    // The tracer's counters, about every TRACE_SAMPLE_MS while a trace records.
    // A sample scans the G records in use (runnable ones): with many, it is
    // taken less often, so that it stays under 5 % of sysmon's time.
    if (h.tw.on[0] !== 0) {
      // Time went by: each M stamps its next event (trace/buffer.ts), so a
      // long goroutine step ends at its own time, not where the M's event
      // count would place it.
      h.tw.bumpTick()
      const t0 = performance.now()
      if (t0 >= nextSample) {
        traceCounters(h)
        const t1 = performance.now()
        nextSample = t1 + Math.max(TRACE_SAMPLE_MS, 20 * (t1 - t0))
      }
    }
    const procs = Atomics.load(m, schedw(l, SCHED_GOMAXPROCS))
    // Every P idle with work on the global queue: nothing runs it. sysmon
    // stays awake while that lasts (it never sleeps on its note over
    // stranded work), and looks at the fast pace.
    // A guard, not a mechanism: work stranded for STRANDED_MS while an M
    // sleeps that could run it means a wake-up was lost somewhere (wakep,
    // injectglist and the idle Ms' re-checks should make that impossible).
    // Without such an M the work legitimately waits: for the new M that
    // startm asked the host for, or for Ms importing the work's module
    // (they pass global work by meanwhile). nmspinning is not
    // trusted here: a spinning M holds a P, so with every P idle nobody
    // spins, whatever the count says (a count leaked by a spinning M that
    // gave its P away was issue 11's stall). sysmon then starts an M on an
    // idle P itself and counts it (rt.stats().sysmon.wakeGuards, which
    // should stay 0).
    if (Atomics.load(m, schedw(l, SCHED_NPIDLE)) === procs && globrunqsize(h) > 0) {
      const now = performance.now()
      if (strandedSince < 0 || !idleMCouldRun(h)) strandedSince = now
      else if (now - strandedSince >= STRANDED_MS) {
        strandedSince = -1
        Atomics.add(m, schedw(l, SCHED_NWAKEGUARD), 1)
        startm(h, -1, false)
      }
      idle = 0
      continue
    }
    strandedSince = -1
    // Every P idle, and no P ran anything, for QUIET_MS: sleep on the note.
    // Not at the first idle look: a runtime fed short jobs one at a time
    // idles its Ps between jobs, and each note sleep costs the next job's
    // M a wake-up of sysmon (wakesysmon in acquirep: a futex wake, 30-50
    // µs of the M's CPU on the 2-core VMs) plus sysmon's looks after it.
    // At 1,000 jobs/s that was three wake-ups of sysmon per job
    // (docs/design/scheduler.md, sysmon); now sysmon stays up at its
    // slowest pace (10 ms, as Go's does while anything runs) as long as
    // jobs keep coming, which it tells by the Ps' schedticks: a P that ran
    // goroutines between two looks has moved its tick, even if every P is
    // idle at both.
    const allIdle = Atomics.load(m, schedw(l, SCHED_NPIDLE)) === procs
    let ticksNow = 0
    for (let p = 0; p < procs; p++) ticksNow = (ticksNow + Atomics.load(m, pbase(l, p) + P_SCHEDTICK)) | 0
    const now = performance.now()
    if (!allIdle || ticksNow !== lastTicks) quietSince = -1
    else if (quietSince < 0) quietSince = now
    lastTicks = ticksNow
    if (quietSince >= 0 && now - quietSince >= QUIET_MS && nextTrace === Infinity && now >= awakeUntil) {
      quietSince = -1
      noteclear(m, schedw(l, SCHED_SYSMONNOTE))
      // sysmonwait: a Dekker pair with wakesysmon (proc.ts). Announce the
      // sleep, then look again at both things a waker publishes first: a P
      // in use (acquirep) and work on the global queue (injectglist).
      Atomics.store(m, schedw(l, SCHED_SYSMONWAIT), 1)
      if (Atomics.load(m, schedw(l, SCHED_NPIDLE)) === procs && globrunqsize(h) === 0 && Atomics.load(m, schedw(l, SCHED_CLOSING)) === 0) {
        m[schedw(l, SCHED_SYSMONSLEEPUS)] = 0
        // Look again now and then: close() may be waiting for us to go. The
        // host wakes us (notewakeup) when it sends a control request.
        // Woken by a control request (the host posts it before the
        // wake-up, so it is on the port now): stay up a few ms, polling, so
        // that the reply goes out and a follow-up request is read. A wake
        // by an M taking a P finds the port empty and costs nothing more.
        // After a whole second asleep, sleep asynchronously: sysmon's event
        // loop then turns, so V8's own tasks for this isolate run (the
        // memory reducer gives the boot's pages back, as on an idle M:
        // IDLE_ASYNC_MS in mloop.ts). A wake costs an event-loop turn then.
        const woken = idleSleeps > 0
          ? await notetsleepAsync(m, schedw(l, SCHED_SYSMONNOTE), 1e9)
          : notetsleep(m, schedw(l, SCHED_SYSMONNOTE), 1e9)
        idleSleeps = woken ? 0 : idleSleeps + 1
        if (woken && poll() > 0) {
          awakeUntil = performance.now() + 5
          idle = 0
        }
      }
      Atomics.store(m, schedw(l, SCHED_SYSMONWAIT), 0)
      // Woken by a P taken (acquirep), not by a control request: the
      // first look WAKE_LOOK_US later, then twice as far apart at each
      // look that finds nothing (up to LENT_LOOK_US while a P is lent).
      // Go's sysmon does not start over at its fast pace for such a wake
      // ("to avoid adding system load to applications that spend most of
      // their time sleeping", proc.go sysmon; only a syscall's wake resets
      // it). Here each look is a thread's wake-up (30-50 µs of CPU on the
      // 2-core VMs): 20 µs looks for the first few ms after every gap made
      // sysmon look 2-3 times per job of a runtime fed one short job at a
      // time (gort/bullmq at low concurrency, docs/bullmq.md). A runnext
      // G seen at a look gets the next one at the fast pace (hurry).
      if (idle !== 0) {
        idle = IDLE_LOOKS + 1
        delay = WAKE_LOOK_US / 2 // doubled at the top of the loop
      }
      continue
    }
    woke = false
    hurry = false
    if (retake(h, ticks, procs, now, opts.runawayMs) > 0) {
      idle = 0
      lastRetake = now
    } else if (woke) idle = 0
    else idle++
    // While a P is lent (a step or a syscall runs), look at least every
    // 2 ms, and at the nearest runaway deadline: the retake is promised
    // within runawayMs plus a few ms, not plus sysmon's 10 ms sleep (the
    // M does not read the clock per step, so sysmon learns of a step only
    // when it first sees it). About 500 looks a second while busy.
    if (anyLent) capUs = LENT_LOOK_US
    // A G newly in a lent P's runnext: look again soon, so that wakeRunnext
    // sees it at two looks of the same step without waiting a slow pace out.
    if (hurry) capUs = 20
    if (deadline < Infinity) capUs = Math.min(capUs, Math.max(20, Math.ceil((deadline - now) * 1000)))
    // Spare Ms: a worker takes ~16 ms to start, so keep one started and
    // idle ahead of the next handoff (Go's mget before newm). The host
    // starts it if none is starting and the cap allows.
    if (Atomics.load(m, schedw(l, SCHED_NMIDLE)) === 0 && now >= nextSpare) {
      nextSpare = now + 50
      parentPort?.postMessage({ type: 'spare' })
    }
    if (now >= nextTrace) {
      process.stdout.write(schedtrace(h, opts, now))
      nextTrace = now + opts.schedtrace
    }
  }
}

/** Set by retake: when the oldest step still running would be a runaway (performance.now() ms), or Infinity. */
let deadline = Infinity
/** Set by retake: some P was lent (Pexec or Psyscall) at this look. */
let anyLent = false

/** Go's retake: preempts long-running goroutines and takes Ps from syscalls and runaway steps. Returns Ps taken. */
/** Whether the last retake started an idle P for a waiting runnext G (sysmon then keeps its fast pace). */
let woke = false
/** Set by retake: a G newly seen in a lent P's runnext (sysmon looks again at its fast pace). */
let hurry = false

/**
 * Whether some M sleeps that could run global work: it announced its sleep
 * (M.sleep is Mparked, so it looked at the global queue after announcing
 * and found nothing), imports no module, and has not retired or died. An M woken but not yet running
 * (Mwoken), or still on its way to sleep (Mawake, it will look once more),
 * does not count: on a loaded machine the OS may not run it for a while,
 * and no wake-up was lost.
 */
function idleMCouldRun(h: SharedHeap): boolean {
  const m = h.i32
  const l = h.layout
  const n = Atomics.load(m, schedw(l, SCHED_MNEXT))
  for (let i = 0; i < n; i++) {
    const b = mbase(l, i)
    if (Atomics.load(m, b + M_SLEEP) !== Msleep.Mparked || Atomics.load(m, b + M_LOADING) !== 0) continue
    // A retired M leaves its sleep word as it was (it went from its park
    // to the end of its thread), and so does a dead one: neither can run
    // anything, and work waiting for a new M is no lost wake-up.
    const st = Atomics.load(m, b + M_STATE)
    if (st !== Mstate.Mretired && st !== Mstate.Mdead) return true
  }
  return false
}

/** wakep, if a P idles and no M spins already. */
function wakeRunnext(h: SharedHeap): boolean {
  const m = h.i32
  const l = h.layout
  if (Atomics.load(m, schedw(l, SCHED_NPIDLE)) === 0 || Atomics.load(m, schedw(l, SCHED_NMSPINNING)) !== 0) return false
  wakep(h)
  return true
}

function retake(h: SharedHeap, ticks: PTick[], procs: number, now: number, runawayMs: number): number {
  const m = h.i32
  const l = h.layout
  let n = 0
  deadline = Infinity
  anyLent = false
  for (let p = 0; p < procs; p++) {
    const b = pbase(l, p)
    const pd = (ticks[p] ??= { schedtick: -1, steptick: -1, schedwhen: now, syscalltick: -1, syscallwhen: now, runnext: 0, slice: { cpu: -1, at: 0 }, step: { cpu: -1, at: 0 } })
    const s = Atomics.load(m, b + P_STATUS)
    if (s === Pstatus.Pexec || s === Pstatus.Psyscall) anyLent = true
    if (s === Pstatus.Prunning || s === Pstatus.Pexec || s === Pstatus.Psyscall) {
      const t = Atomics.load(m, b + P_SCHEDTICK)
      const st = Atomics.load(m, b + P_STEPTICK)
      if (pd.schedtick !== t) {
        pd.schedtick = t
        pd.schedwhen = now
        pd.slice.cpu = -1
        pd.slice.at = 0
      } else if (s !== Pstatus.Psyscall && overrun(h, p, pd.slice, pd.schedwhen, now, FORCE_PREEMPT_MS) <= now) {
        preemptone(h, p)
        pd.schedwhen = now // ask again only after another slice
        pd.slice.cpu = -1
        pd.slice.at = 0
      }
      if (s === Pstatus.Pexec) {
        // A G in runnext behind a step that has gone on since the last look:
        // start an idle P for it (go() wakes one only once the P has more
        // than its runnext queued; see spawnHook in mloop.ts).
        const next = Atomics.load(m, b + P_RUNNEXT)
        if (next !== 0 && next === pd.runnext && pd.steptick === st && wakeRunnext(h)) woke = true
        else if (next !== 0 && (next !== pd.runnext || pd.steptick !== st)) hurry = true
        pd.runnext = next
        // Runaway: the same step for runawayMs, not counting the time its
        // thread waited for a core (overrun).
        if (pd.steptick !== st) {
          pd.steptick = st
          pd.syscallwhen = now
          pd.step.cpu = -1
          pd.step.at = 0
        } else {
          const at = overrun(h, p, pd.step, pd.syscallwhen, now, runawayMs)
          if (at <= now && Atomics.compareExchange(m, b + P_STATUS, Pstatus.Pexec, Pstatus.Pidle) === Pstatus.Pexec) {
            m[schedw(l, SCHED_NRETAKEEXEC)]++
            if (h.tw.on[0] !== 0) h.tw.emit(Ev.Retake, p, 1)
            n++
            handoffp(h, p)
            continue
          }
          // Only a step seen twice (older than one look) is a candidate.
          if (now - pd.syscallwhen >= 1) deadline = Math.min(deadline, Math.max(at, now))
        }
        continue
      }
      pd.steptick = st
    }
    if (s === Pstatus.Psyscall) {
      const t = Atomics.load(m, b + P_SYSCALLTICK)
      if (pd.syscalltick !== t) {
        pd.syscalltick = t
        pd.syscallwhen = now
        continue
      }
      // Go: leave it if there is no other work, someone spins or idles to
      // take new work, and the call is young.
      if (runqlen(h, p) === 0 &&
        Atomics.load(m, schedw(l, SCHED_NMSPINNING)) + Atomics.load(m, schedw(l, SCHED_NPIDLE)) > 0 &&
        pd.syscallwhen + SYSCALL_GRACE_MS > now) continue
      if (Atomics.compareExchange(m, b + P_STATUS, Pstatus.Psyscall, Pstatus.Pidle) === Pstatus.Psyscall) {
        m[schedw(l, SCHED_NRETAKESYSCALL)]++
        if (h.tw.on[0] !== 0) h.tw.emit(Ev.Retake, p, 0)
        n++
        handoffp(h, p)
      }
    }
  }
  return n
}

/** What the M threads did (threadrun.ts), for overrun. */
const threads = new ThreadRun()

/**
 * When the span that P p has been in since `since` (a goroutine's time
 * slice, or a step that lends the P) is over limitMs (performance.now()
 * ms; at or before now: it is). Go's sysmon measures both by wall-clock
 * time (forcePreemptNS, and a syscall's age for retake). Here time the M's
 * thread spent waiting for a core does not count (threadrun.ts says why:
 * on an oversubscribed machine the OS deschedules Ms mid-step, and sysmon
 * took their Ps as runaways and preempted goroutines that had not run
 * their slice). So at limitMs / 2 of wall-clock time sysmon reads the
 * thread's CPU time (the mark), and the span is over once it has lasted
 * limitMs and either the thread has run limitMs / 2 since the mark, or it
 * is blocked (a call nobody announced, which uses no CPU and is what the
 * runaway rule is for). A mark taken late, because sysmon itself waited for
 * a core, still asks for limitMs / 2 of running after it. On a free core
 * the span is over at limitMs, as with wall-clock time alone; without the
 * thread's figures (not Linux; M.tid 0) wall-clock time alone decides. The
 * files are read at most once per look, and not before the span could be
 * over (mark.at).
 */
function overrun(h: SharedHeap, p: number, mark: RunMark, since: number, now: number, limitMs: number): number {
  const half = limitMs / 2
  if (now < since + half) return since + half
  if (now < mark.at) return mark.at
  const wall = since + limitMs
  const mp = Atomics.load(h.i32, pbase(h.layout, p) + P_M) - 1
  const tid = mp < 0 ? 0 : Atomics.load(h.i32, mbase(h.layout, mp) + M_TID)
  const cpu = threads.cpuMs(tid)
  if (Number.isNaN(cpu)) return (mark.at = wall)
  if (mark.cpu < 0) {
    mark.cpu = cpu
    return (mark.at = Math.max(wall, now + half))
  }
  const ran = cpu - mark.cpu
  if (ran >= half || (now >= wall && threads.blocked(tid))) return (mark.at = wall)
  // Neither yet: it cannot have run enough before what is missing has gone
  // by; a blocked thread is seen at the next look.
  return (mark.at = Math.max(wall, now + Math.min(half - ran, 2)))
}

/** How often sysmon samples the tracer's counters while a trace records (ms). */
const TRACE_SAMPLE_MS = 1

/** Go's preemptone: asks the goroutine running on P p to yield at its next safe point. */
function preemptone(h: SharedHeap, p: number): void {
  const m = h.i32
  const l = h.layout
  const mp = Atomics.load(m, pbase(l, p) + P_M) - 1
  if (mp < 0) return
  const gp = Atomics.load(m, mbase(l, mp) + M_CURG)
  if (gp === 0) return
  Atomics.store(m, gbase(l, gp) + G_PREEMPT, 1)
  m[schedw(l, SCHED_NPREEMPT)]++
  if (h.tw.on[0] !== 0) h.tw.emit(Ev.PreemptReq, p, Atomics.load(m, gbase(l, gp) + G_GOID))
}

/** Go's schedtrace line (and, with scheddetail, its P, M and G lines). */
export function schedtrace(h: SharedHeap, opts: Pick<SysmonOptions, 'scheddetail' | 'startTime'>, _now?: number): string {
  const m = h.i32
  const l = h.layout
  const procs = Atomics.load(m, schedw(l, SCHED_GOMAXPROCS))
  const nms = Atomics.load(m, schedw(l, SCHED_MNEXT))
  const ms = Date.now() - opts.startTime
  const runqs: number[] = []
  for (let p = 0; p < procs; p++) runqs.push(runqlen(h, p))
  // threads: the Ms plus sysmon's thread, as Go counts sysmon's M.
  let out = `SCHED ${ms}ms: gomaxprocs=${procs} idleprocs=${Atomics.load(m, schedw(l, SCHED_NPIDLE))} threads=${nms + 1}` +
    ` spinningthreads=${Atomics.load(m, schedw(l, SCHED_NMSPINNING))} idlethreads=${Atomics.load(m, schedw(l, SCHED_NMIDLE))}` +
    ` runqueue=${globrunqsize(h)}`
  if (!opts.scheddetail) return `${out} [${runqs.join(' ')}]\n`
  out += '\n'
  for (let p = 0; p < procs; p++) {
    const b = pbase(l, p)
    const mp = Atomics.load(m, b + P_M) - 1
    out += `  P${p}: status=${Atomics.load(m, b + P_STATUS)} schedtick=${Atomics.load(m, b + P_SCHEDTICK) >>> 0}` +
      ` syscalltick=${Atomics.load(m, b + P_SYSCALLTICK) >>> 0} m=${mp} runqsize=${runqs[p]} gfreecnt=0 timerslen=0\n`
  }
  for (let i = 0; i < nms; i++) {
    const b = mbase(l, i)
    let p = -1
    for (let q = 0; q < procs; q++) if (Atomics.load(m, pbase(l, q) + P_M) - 1 === i) p = q
    const curg = Atomics.load(m, b + M_CURG)
    const state = Atomics.load(m, b + M_STATE)
    out += `  M${i}: p=${p} curg=${curg === 0 ? -1 : Atomics.load(m, gbase(l, curg) + G_GOID)} mallocing=0 throwing=0 preemptoff= locks=0` +
      ` dying=${state === Mstate.Mdead ? 1 : 0} spinning=${Atomics.load(m, b + M_SPINNING) !== 0} blocked=${state === Mstate.Midle} lockedg=-1\n`
  }
  for (let gp = 1; gp < l.maxGs; gp++) {
    const b = gbase(l, gp)
    const st = Atomics.load(m, b + G_STATUS)
    if (st === Gstatus.Gidle || st === Gstatus.Gdead || (m[b + G_FLAGS] & Gflags.Ghostwait) !== 0) continue
    out += `  G${Atomics.load(m, b + G_GOID)}: status=${st}(${waitReasonStrings[Atomics.load(m, b + G_WAITREASON)] ?? ''}) m=${Atomics.load(m, b + G_M) - 1} lockedm=-1\n`
  }
  return out
}
