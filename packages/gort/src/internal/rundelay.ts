// How long an M's thread has waited for a core, for sysmon's time slices
// and runaway steps (sysmon.ts overrun): a slice or a step is measured in
// wall-clock time, as Go's sysmon does, minus the time its thread spent
// runnable but not running. On a machine with more runnable threads than
// cores (a load generator beside the server, other processes) the OS takes
// the CPU from an M for tens of ms in the middle of a step of a fraction
// of a ms. Counting that time, sysmon took the M's P as a runaway's, which
// started another M, added a thread to the oversubscribed cores and left
// the first M's goroutines waiting for a P; and it preempted goroutines
// that had not run their slice (docs/design/scheduler.md, "CPU-bound
// goroutines under load"). Time a thread spends blocked (an unannounced
// blocking call: Atomics.wait, a synchronous read) still counts: such a
// step is what the runaway rule is for.
//
// Linux only: each M records its OS thread id at start (osThreadId, M.tid),
// and sysmon reads the second field of /proc/self/task/<tid>/schedstat,
// the nanoseconds the thread has waited on a run queue (the scheduler's
// run_delay), through a file descriptor it keeps open (a pread: 10-50 µs,
// against 250 µs for opening the file each time; measured on the 2-core
// VM under load). Elsewhere, or when /proc cannot be read, there is no such
// clock and sysmon uses wall-clock time alone.

import { closeSync, openSync, readlinkSync, readSync } from 'node:fs'

/** This thread's OS thread id (Linux: /proc/thread-self), or 0 where it cannot be known. Any thread. */
export function osThreadId(): number {
  try {
    const link = readlinkSync('/proc/thread-self') // "<pid>/task/<tid>"
    const tid = Number(link.slice(link.lastIndexOf('/') + 1))
    return Number.isInteger(tid) && tid > 0 ? tid : 0
  } catch {
    return 0
  }
}

/** Readers of other threads' run delay, one open file per thread id. Owned by one thread (sysmon). */
export class RunDelays {
  private fds = new Map<number, number>()
  private buf = Buffer.alloc(96)

  /**
   * Milliseconds thread tid (of this process) has so far spent runnable
   * but waiting for a core, or NaN if unknown (tid 0, no /proc, the
   * thread has ended).
   */
  ms(tid: number): number {
    if (tid <= 0) return NaN
    let fd = this.fds.get(tid)
    try {
      if (fd === undefined) {
        fd = openSync(`/proc/self/task/${tid}/schedstat`, 'r')
        this.fds.set(tid, fd)
      }
      // "<run ns> <run_delay ns> <timeslices>\n"
      const n = readSync(fd, this.buf, 0, this.buf.length, 0)
      const a = this.buf.indexOf(0x20)
      const b = a < 0 ? -1 : this.buf.indexOf(0x20, a + 1)
      if (a < 0 || b < 0 || b > n) return NaN
      const ns = Number(this.buf.toString('latin1', a + 1, b))
      return Number.isFinite(ns) ? ns / 1e6 : NaN
    } catch {
      // The thread ended (its M died or retired; a new thread may reuse
      // the id much later): forget the descriptor.
      if (fd !== undefined) this.forget(tid, fd)
      return NaN
    }
  }

  private forget(tid: number, fd: number): void {
    this.fds.delete(tid)
    try {
      closeSync(fd)
    } catch {
      // already closed
    }
  }

  /** Closes every descriptor. */
  close(): void {
    for (const [tid, fd] of this.fds) this.forget(tid, fd)
  }
}
