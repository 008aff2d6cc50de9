// Whether an M's thread ran or was blocked, for sysmon's time slices and
// runaway steps (sysmon.ts overrun). Go's sysmon measures both in
// wall-clock time. On a machine with more runnable threads than cores (a
// load generator beside the server, other processes) the OS takes the
// core from an M for tens of ms in the middle of a step of a fraction of a
// ms, and wall-clock time counts that: sysmon took the M's P as a
// runaway's, which started another M, added a thread to the oversubscribed
// cores and left the first M's goroutines waiting for a P; and it
// preempted goroutines that had not run their slice (docs/design/
// scheduler.md, "CPU-bound goroutines under load"). So a span counts when
// the thread ran (its CPU time), or when it is blocked (a call nobody
// announced: Atomics.wait, a synchronous read; such a step is what the
// runaway rule is for), but not while it waits for a core.
//
// Linux only: each M records its OS thread id at start (osThreadId, M.tid),
// and sysmon reads /proc/self/task/<tid>/schedstat (first field: the
// nanoseconds the thread has run) and, when that is not enough,
// /proc/self/task/<tid>/stat (its state: R running or runnable, S or D
// blocked), through file descriptors it keeps open (a pread: 10-50 µs,
// against 250 µs for opening the file each time; measured on the 2-core VM
// under load). Not schedstat's second field, the time spent waiting for a
// core: the kernel adds a wait to it only when the wait ends, so a thread
// waiting now shows none. Elsewhere, or when /proc cannot be read, there is
// no such information and sysmon uses wall-clock time alone.

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

/** Readers of other threads' run time and state, with files kept open per thread id. Owned by one thread (sysmon). */
export class ThreadRun {
  private fds = new Map<string, number>()
  private buf = Buffer.alloc(1024)

  /** Milliseconds thread tid (of this process) has run so far, or NaN if unknown (tid 0, no /proc, the thread has ended). */
  cpuMs(tid: number): number {
    const n = this.read(tid, 'schedstat') // "<run ns> <run_delay ns> <timeslices>\n"
    if (n <= 0) return NaN
    const sp = this.buf.indexOf(0x20)
    const ns = Number(this.buf.toString('latin1', 0, sp > 0 && sp < n ? sp : n))
    return Number.isFinite(ns) ? ns / 1e6 : NaN
  }

  /** Whether thread tid is blocked now (state S or D: not running and not waiting for a core); false if unknown. */
  blocked(tid: number): boolean {
    const n = this.read(tid, 'stat') // "<tid> (<comm>) <state> ..."
    if (n <= 0) return false
    const close = this.buf.lastIndexOf(0x29, n) // ')': comm may hold spaces and parentheses
    const state = close < 0 || close + 2 >= n ? 0 : this.buf[close + 2]
    return state === 0x53 || state === 0x44 // 'S', 'D'
  }

  /** Reads /proc/self/task/<tid>/<file> into buf; the length, or -1. */
  private read(tid: number, file: 'schedstat' | 'stat'): number {
    if (tid <= 0) return -1
    const key = `${tid}/${file}`
    let fd = this.fds.get(key)
    try {
      if (fd === undefined) {
        fd = openSync(`/proc/self/task/${key}`, 'r')
        this.fds.set(key, fd)
      }
      return readSync(fd, this.buf, 0, this.buf.length, 0)
    } catch {
      // The thread ended (its M died or retired; a new thread may reuse
      // the id much later): forget the descriptor.
      if (fd !== undefined) this.forget(key, fd)
      return -1
    }
  }

  private forget(key: string, fd: number): void {
    this.fds.delete(key)
    try {
      closeSync(fd)
    } catch {
      // already closed
    }
  }

  /** Closes every descriptor. */
  close(): void {
    for (const [key, fd] of this.fds) this.forget(key, fd)
  }
}
