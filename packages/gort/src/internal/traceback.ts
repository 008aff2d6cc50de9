// Goroutine dumps (Go's traceback.go: goroutineheader and tracebackothers),
// read from the shared heap by any thread that has it (the host's rt.dump,
// the deadlock report). V8 keeps no stack of a suspended generator, so a
// goroutine shows its function and module instead of frames.

import type { SharedHeap } from './heap.js'
import { gbase, schedw, G_FLAGS, G_FN, G_GOID, G_M, G_STATUS, G_WAITREASON, G_WAITSINCE, SCHED_GNEXT } from './layout.js'
import { funcKey } from './registry.js'
import { Gflags, Gstatus, waitReasonStrings } from './runtime2.js'

/**
 * A goroutine dump in Go's shape, one paragraph per goroutine:
 *
 *     goroutine 7 [chan receive, 2 minutes]:
 *     worker(...)
 *     	file:///app/tasks.js on M1
 *
 * The wait reason is Go's; the minutes are shown after one minute of
 * waiting, as Go does. A closure started with go(function* ...) shows as a
 * local closure. Host waiters (Ghostwait: the app's own pending operations)
 * are not goroutines and are left out. Any thread.
 */
export function tracebackothers(h: SharedHeap): string {
  const m = h.i32
  const l = h.layout
  const n = Math.min(Atomics.load(m, schedw(l, SCHED_GNEXT)), l.maxGs)
  const now = performance.timeOrigin + performance.now()
  const parts: string[] = []
  for (let gp = 1; gp < n; gp++) {
    const b = gbase(l, gp)
    const st = Atomics.load(m, b + G_STATUS)
    if (st === Gstatus.Gidle || st === Gstatus.Gdead) continue
    const flags = Atomics.load(m, b + G_FLAGS)
    if ((flags & Gflags.Ghostwait) !== 0) continue
    let state: string
    if (st === Gstatus.Gwaiting) {
      state = waitReasonStrings[Atomics.load(m, b + G_WAITREASON)] ?? 'waiting'
      const since = h.f64[(b + G_WAITSINCE) >> 1]
      const minutes = since > 0 ? Math.floor((now - since) / 60_000) : 0
      if (minutes >= 1) state += `, ${minutes} minutes`
    } else state = st === Gstatus.Grunnable ? 'runnable' : st === Gstatus.Gsyscall ? 'syscall' : 'running'
    const mp = Atomics.load(m, b + G_M) - 1
    let where: string
    if ((flags & Gflags.Glocal) !== 0) where = `(a local closure started with go())\n\ton M${mp}`
    else {
      let fn = '?'
      let url = '?'
      try {
        const k = funcKey(h, Atomics.load(m, b + G_FN))
        fn = k.name
        url = k.url
      } catch {
        // a function table entry being written: leave it out
      }
      where = `${fn}(...)\n\t${url}${mp >= 0 ? ` on M${mp}` : ' (not started)'}`
    }
    parts.push(`goroutine ${Atomics.load(m, b + G_GOID)} [${state}]:\n${where}\n`)
  }
  return parts.join('\n')
}

/**
 * The app's own pending operations (host waiters, Ghostwait), in the
 * dump's shape: what the app's thread awaits, for a deadlock report. They
 * are not goroutines; rt.dump() leaves them out. Any thread.
 */
export function tracebackhost(h: SharedHeap): string {
  const m = h.i32
  const l = h.layout
  const n = Math.min(Atomics.load(m, schedw(l, SCHED_GNEXT)), l.maxGs)
  const parts: string[] = []
  for (let gp = 1; gp < n; gp++) {
    const b = gbase(l, gp)
    if ((Atomics.load(m, b + G_FLAGS) & (Gflags.Ghostwait | Gflags.Gorphan)) !== Gflags.Ghostwait) continue
    if (Atomics.load(m, b + G_STATUS) !== Gstatus.Gwaiting) continue
    const reason = waitReasonStrings[Atomics.load(m, b + G_WAITREASON)] ?? 'waiting'
    parts.push(`the app's thread [${reason}]:\n\tan operation awaited on the app's thread (not a goroutine)\n`)
  }
  return parts.join('\n')
}
