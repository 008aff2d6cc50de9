// The M's own state: what one worker thread knows about itself, shared by
// the files that make up the M (mloop.ts, the schedule loop; execute.ts,
// running a goroutine; mspawn.ts, go() inside a goroutine; gcredit.ts).
// Go keeps this in the m struct (runtime2.go) reached through getg().m;
// here it is thread-local by construction: each worker has its own copy of
// this module, and no other thread ever sees it. What other threads must
// see is mirrored into the M's record in the shared heap (M.p, M.curg,
// M.spinning, M.npending, ...), as each writer below says.
//
// Three shapes, by who writes:
//
//  - set once by mstart (minit), read everywhere: h, m, l, mid, mb, exported
//    as plain `let`s (an importer reads the live binding);
//  - the P held, pp and pb: exported `let`s too, written only here, by
//    acquirep, releasep and dropp (and endStep, which may drop it). That
//    the P changes only through these four is carried by the module
//    boundary: no other file can assign pp;
//  - everything more than one file writes, on one object, thisM
//    (`thisM.spinning`, `thisM.curg`, `thisM.localnext`, ...), as Go writes
//    `mp.spinning`. State that one file alone uses stays in that file
//    (mloop.ts: inheritTime, the steal order, rnd; execute.ts: safepoints).
//
// Invariants: pp >= 0 exactly when this M holds a P (M.p = pp + 1), and pb
// is then that P's record; thisM.spinning is true exactly when this M is
// counted in sched.nmspinning, and then pp >= 0 (docs/design/scheduler.md,
// "Spinning Ms"). A started goroutine's generator lives in gens at its
// G.lslot from startg (or spawnLocal) to goexit.
//
// The step loop reads pb, m, gens and thisM on every switch, through the
// import. Measured when mloop.ts was split (gosched suite, 8 runs of each
// interleaved, medians on the M): one file with module-local lets 185 ns a
// round trip, this shape 192 ns (+4%); copying h, m, l, mid and mb into each
// hot file's own lets at minit (a hook per file) was no faster, 193 ns, so
// the files import them. The chan suite's rows moved less than their noise.

import type { SharedHeap } from './heap.js'
import { Deque } from './deque.js'
import { mbase, pbase, G_LSLOT, M_P, M_STATE, P_M, P_STATUS, type Layout } from './layout.js'
import { wakesysmon } from './proc.js'
import { Mstate, Pstatus } from './runtime2.js'

/**
 * Without, still this often: the loop runs the finalizers that release this
 * thread's references to shared records (refs.ts), and messages to the M.
 */
export const HOUSEKEEPING_MS = 10

export let h: SharedHeap
export let m: Int32Array
export let l: Layout
export let mid = -1
export let mb = 0

/** Attaches this thread's M to the heap as M `id` (mstart, once). */
export function minit(heap: SharedHeap, id: number): void {
  h = heap
  m = h.i32
  l = h.layout
  mid = id
  mb = mbase(l, mid)
}

/** The P held (index), or -1. */
export let pp = -1
export let pb = 0

/** This M's state that more than one of its files writes (see the file comment). */
export const thisM = {
  /**
   * Whether this M is counted in sched.nmspinning (mirrored in M.spinning for
   * the host and sysmon). Only an M that holds a P and is looking for work
   * spins: every path that gives the P up stops spinning first (resetspinning,
   * or findRunnable's delicate dance in idle()). docs/design/scheduler.md,
   * "Spinning Ms", lists the transitions.
   */
  spinning: false,
  pslice: 0, // when this M's turn with its P started (performance.now)
  curg: 0,
  localnext: 0,
  /** Goroutines of this M waiting on promises or module loads. */
  pendingAsync: 0,
  /** Set by startg when it began an import: schedule() gives the P away meanwhile. */
  loadYield: false,
  burstStart: 0,
  /** Set by a preemption: findRunnable looks at the global queue first (where Go would have put the preempted G). */
  globalFirst: false,
  /** Set by a safe point that found the burst too long: schedule() lets the event loop run next. */
  loopDue: false,
}

// Started goroutines: generators and what to send into them next, in dense
// tables indexed by the G's local slot (G.lslot), reused through freeSlots.
export const gens: Array<Generator<unknown, unknown, unknown> | undefined> = []
export const resumeVal: unknown[] = []
export const resumeErr: boolean[] = []
export const freeSlots: number[] = []

/** Puts a started G's generator in a free slot of the tables and records the slot in G.lslot. */
export function slotput(gb: number, gen: Generator<unknown, unknown, unknown>): number {
  let s = freeSlots.pop()
  if (s === undefined) {
    s = gens.length
    gens.push(gen)
    resumeVal.push(undefined)
    resumeErr.push(false)
  } else gens[s] = gen
  m[gb + G_LSLOT] = s
  return s
}

/** Started Gs of this M that are runnable, behind thisM.localnext (findRunnable takes from the front). */
export const localq = new Deque()
// Goroutine modules: being imported, imported, failed to import on this M.
export const loading = new Set<string>()
export const loaded = new Set<string>()
export const loadErrors = new Map<string, unknown>()

// ---------------------------------------------------------------------------
// The P this M holds. Executed only by this M.

/** Go's acquirep: associates P p with this M. */
export function acquirep(p: number): void {
  pp = p
  pb = pbase(l, p)
  m[pb + P_M] = mid + 1
  m[mb + M_P] = p + 1
  Atomics.store(m, pb + P_STATUS, Pstatus.Prunning)
  Atomics.store(m, mb + M_STATE, thisM.spinning ? Mstate.Mspinning : Mstate.Mrunning)
  thisM.pslice = performance.now()
  // Go's sysmonwait: sysmon sleeps while every P is idle; a P in use wakes it.
  wakesysmon(h)
}

/**
 * Ends a goroutine step: takes the P back from Pexec. False if sysmon took
 * it meanwhile (retake); then this M no longer has a P and must not touch
 * the P's record (its new owner does).
 */
export function endStep(): boolean {
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
export function dropp(): void {
  m[mb + M_P] = 0
  pp = -1
}

/** Go's releasep, without putting the P anywhere: the caller does. */
export function releasep(): number {
  const p = pp
  m[pb + P_M] = 0
  m[mb + M_P] = 0
  pp = -1
  return p
}

