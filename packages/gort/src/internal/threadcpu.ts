// The CPU time of an M's thread, for sysmon's runaway rule (sysmon.ts
// retake): a goroutine step that has not ended for runawayMs of wall-clock
// time is a runaway only if its thread has also been running. On a machine
// with more runnable threads than cores (a load generator beside the
// server, other processes) the OS takes the CPU from an M for tens of ms in
// the middle of a step of a fraction of a ms; taking that M's P then starts
// another M, which makes the oversubscription worse, and binds new
// goroutines to it while the first M's goroutines wait for a P (the http
// suite, docs/design/scheduler.md, "CPU-bound goroutines under load").
//
// Linux only: each M records its OS thread id at start (osThreadId, M.tid),
// and sysmon reads the first field of /proc/self/task/<tid>/schedstat, the
// nanoseconds the thread has run, through a file descriptor it keeps open
// (a pread: 10-50 µs, against 250 µs for opening the file each time).
// Elsewhere, or when /proc cannot be read, there is no thread clock and
// the rule falls back to wall-clock time alone.

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

/** Readers of other threads' CPU clocks, one open file per thread id. Owned by one thread (sysmon). */
export class ThreadClocks {
  private fds = new Map<number, number>()
  private buf = Buffer.alloc(96)

  /**
   * Milliseconds thread tid (of this process) has run so far, or NaN if
   * unknown (tid 0, no /proc, the thread has ended).
   */
  cpuMs(tid: number): number {
    if (tid <= 0) return NaN
    let fd = this.fds.get(tid)
    try {
      if (fd === undefined) {
        fd = openSync(`/proc/self/task/${tid}/schedstat`, 'r')
        this.fds.set(tid, fd)
      }
      const n = readSync(fd, this.buf, 0, this.buf.length, 0)
      const sp = this.buf.indexOf(0x20)
      const ns = Number(this.buf.toString('latin1', 0, sp > 0 && sp < n ? sp : n))
      return Number.isFinite(ns) ? ns / 1e6 : NaN
    } catch {
      // The thread ended (its M died or retired; a new one may reuse the id
      // much later): forget the descriptor.
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
