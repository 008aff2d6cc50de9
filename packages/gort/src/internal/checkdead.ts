// checkdead: Go's deadlock detection, run by the host (the app's thread).
//
// Go's checkdead runs when an M goes idle and counts the Ms still running
// goroutines; when none is and no timer is pending, every goroutine is
// asleep for good, main included, and the program dies with "all
// goroutines are asleep - deadlock!". Here the app's thread plays main's
// part but is not a goroutine: its event loop is outside the runtime's
// view, and its own code (a timer, a socket) may still send later. So
// what the runtime can prove has two levels:
//
//  1. Nothing inside can run: no goroutine is runnable or running, no M
//     holds work, no P is in use, no timer, promise or I/O of a goroutine
//     is pending (sched.npendingio), no result is on its way
//     (nothingCanRun). Checked every 100 ms; two looks in a row make an
//     episode. With goroutines alive, it is reported: Runtime.start({ main:
//     true }) prints Go's fatal error with the dump and exits 2 (a program
//     whose main is blocked); embedded, 'deadlock' is emitted, once per
//     episode. The runtime then stops holding the app's event loop open
//     (asleep): only the app can wake its goroutines now.
//  2. Nothing can wake the app's pending operations (an awaited rt.run,
//     a channel operation, a WaitGroup.wait...): 1 holds, and the app's
//     event loop has nothing else to do. Node says so with 'beforeExit':
//     it is emitted when the loop has run dry, which, the runtime having
//     dropped its ref, means that no timer, socket or other handle of the
//     app is left that could ever call back into it. The host confirms
//     that 1 still holds over three looks 10 ms apart (holding the loop
//     meanwhile), then rejects every operation the app awaits with a
//     DeadlockError carrying the dump. The app's handlers may do more;
//     if they do nothing, the process exits.
//
// Rejected alternatives: rejecting at 1 alone would fail an app that
// awaits a channel its own timer will send on; reading Node's list of
// active handles (process.getActiveResourcesInfo) would have to guess
// which handles may call back into the runtime.

import type { SharedHeap } from './heap.js'
import {
  mbase, pbase, schedw,
  M_READYQ, M_STATE, M_WANTP, P_STATUS, SCHED_DONEHEAD, SCHED_NPENDINGIO,
} from './layout.js'
import { gcount } from './proc.js'
import { globrunqsize, runqempty } from './runq.js'
import { Mstate, Pstatus } from './runtime2.js'
import { tracebackhost, tracebackothers } from './traceback.js'
import { DeadlockError } from './rterrors.js'

export { DeadlockError } from './rterrors.js'

/**
 * The condition of Go's checkdead: no goroutine is runnable or running, no
 * M has work or wants a P, no P is in use, and nothing pending (a timer, a
 * promise or I/O of a goroutine, a result on the completion stack) could
 * ready one. nms: the Ms to look at. Any thread; a snapshot.
 */
export function nothingCanRun(h: SharedHeap, procs: number, nms: number): boolean {
  const m = h.i32
  const l = h.layout
  if (Atomics.load(m, schedw(l, SCHED_NPENDINGIO)) > 0 || globrunqsize(h) > 0) return false
  if (Atomics.load(m, schedw(l, SCHED_DONEHEAD)) !== 0) return false
  for (let p = 0; p < procs; p++) {
    if (!runqempty(h, p)) return false
    if (Atomics.load(m, pbase(l, p) + P_STATUS) !== Pstatus.Pidle) return false
  }
  for (let i = 0; i < nms; i++) {
    const b = mbase(l, i)
    if (Atomics.load(m, b + M_READYQ) !== 0 || Atomics.load(m, b + M_WANTP) !== 0) return false
    const st = Atomics.load(m, b + M_STATE)
    if (st !== Mstate.Midle && st !== Mstate.Mdead && st !== Mstate.Mretired) return false
  }
  return true
}

/** What checkdead needs of its host. */
export interface CheckdeadHost {
  readonly heap: SharedHeap
  readonly procs: number
  /** Ms started so far (the M records to look at). */
  nms(): number
  /** Whether spawns are stopped (close, destroy): no checks then. */
  closing(): boolean
  /** Spawns the host holds back (a batch not yet on the global queue). */
  unflushed(): number
  /** Promises of the app the runtime owes something: results, operations. */
  nwaiters(): number
  /** How many of them the app actually awaits (a result nobody asked for does not count). */
  awaited(): number
  /** Every goroutine asleep (an episode, goroutines alive): emit 'deadlock', or die as Go's main does. */
  deadlock(dump: string): void
  /** Nothing can wake what the app awaits: reject it all with err. */
  failAwaited(err: DeadlockError): void
  /** asleep changed: the host takes or drops its ref on the app's event loop. */
  asleepChanged(): void
}

/** The runtimes of this thread with a check running (one 'beforeExit' listener serves them all). */
const watching = new Set<Checkdead>()

function onBeforeExit(): void {
  for (const c of watching) c.beforeExit()
}

/** The host's deadlock watch (the essay above). Host thread only. */
export class Checkdead {
  /** Proven asleep (level 1): the runtime holds no ref on the app's event loop. */
  asleep = false
  private readonly timer: ReturnType<typeof setInterval>
  private suspect = 0
  private reported = false
  private confirming = false

  constructor(private readonly host: CheckdeadHost) {
    this.timer = setInterval(() => this.tick(), 100)
    this.timer.unref()
    if (watching.size === 0) process.on('beforeExit', onBeforeExit)
    watching.add(this)
  }

  stop(): void {
    clearInterval(this.timer)
    watching.delete(this)
    if (watching.size === 0) process.off('beforeExit', onBeforeExit)
  }

  /** Something is alive and nothing inside can run. */
  private stuck(): boolean {
    const host = this.host
    if (host.closing() || host.unflushed() > 0) return false
    if (gcount(host.heap) === 0 && host.nwaiters() === 0) return false
    return nothingCanRun(host.heap, host.procs, host.nms())
  }

  private setAsleep(asleep: boolean): void {
    if (this.asleep === asleep) return
    this.asleep = asleep
    this.host.asleepChanged()
  }

  /** The app did something (a spawn, an operation): whatever was proven no longer holds. */
  wake(): void {
    this.suspect = 0
    this.setAsleep(false)
  }

  private tick(): void {
    if (!this.stuck()) {
      this.suspect = 0
      this.reported = false
      this.setAsleep(false)
      return
    }
    if (++this.suspect < 2) return
    this.setAsleep(true)
    if (!this.reported && gcount(this.host.heap) > 0) {
      this.reported = true
      this.host.deadlock(tracebackothers(this.host.heap))
    }
  }

  /** The app's event loop ran dry (level 2, if the runtime is still asleep). */
  beforeExit(): void {
    if (!this.asleep || this.confirming) return
    if (!this.stuck()) {
      // Something ran since the last look (the app readied a goroutine on its way out): hold the loop again.
      this.wake()
      return
    }
    if (this.host.awaited() === 0) return // goroutines asleep that nobody awaits: let the app exit
    this.confirming = true
    let looks = 0
    // Ref'd timers: they hold the loop while the confirmation runs.
    const look = (): void => {
      if (!this.asleep || !this.stuck()) {
        this.confirming = false
        this.wake()
        return
      }
      if (++looks < 3) {
        setTimeout(look, 10)
        return
      }
      this.confirming = false
      const h = this.host.heap
      this.host.failAwaited(new DeadlockError([tracebackothers(h), tracebackhost(h)].filter((s) => s !== '').join('\n')))
    }
    setTimeout(look, 10)
  }
}
