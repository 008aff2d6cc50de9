// The execution tracer's output: Chrome's trace-event JSON (the format
// Perfetto's UI and chrome://tracing open), built from the events every
// thread recorded (buffer.ts). Go's `go tool trace` draws the same things
// from its own format: a lane per P and per M, a slice for each stretch a
// goroutine ran, arrows from a goroutine's creation and unblocking to its
// next run, instants for preemption, retakes, steals and syscalls, counters.
//
// Besides the viewers' events the JSON carries `gort.goroutines`: per
// goroutine, its function and where its time went (run, blocked by wait
// reason, runnable), what `gort trace summary` aggregates (summary.ts).

import { waitReasonStrings } from '../runtime2.js'
import { Ev, OWNER_HOST, OWNER_SYSMON, StopWhy, type RawEvent } from './buffer.js'

/** One Chrome trace event (the fields gort writes). */
export interface TraceEvent {
  name: string
  ph: 'X' | 'i' | 's' | 'f' | 'C' | 'M'
  ts: number
  pid: number
  tid: number
  dur?: number
  id?: number
  cat?: string
  s?: 't' | 'p' | 'g'
  bp?: 'e'
  args?: Record<string, unknown>
}

/** Where one goroutine's time went, in microseconds. */
export interface GoroutineTime {
  goid: number
  fn: string
  /** Running on a P (its slices), syscalls excluded. */
  runUs: number
  /** Parked, by Go's wait reason ('chan receive', 'select', 'sleep', ...; 'syscall' for announced syscalls). */
  blockedUs: Record<string, number>
  /** Runnable, waiting for a P and an M (scheduler latency). */
  runnableUs: number
  /** Stretches it ran. */
  runs: number
  /** Whether the trace saw it created, and end. */
  created: boolean
  ended: boolean
}

export interface ChromeTrace {
  traceEvents: TraceEvent[]
  displayTimeUnit: 'ms'
  /** gort's own part, ignored by the viewers. */
  gort: {
    version: 1
    procs: number
    /** Recording time, µs. */
    durationUs: number
    /** Events lost because the buffer was full (the traceBufferSize option). */
    dropped: number
    goroutines: GoroutineTime[]
  }
}

const PID = 1
/** Lanes (tids): P i is 1 + i; M i is MLANE + i; sysmon and the app have their own. */
const MLANE = 1000
const SYSMON_LANE = 900
const APP_LANE = 901

function laneOfOwner(owner: number): number {
  return owner === OWNER_HOST ? APP_LANE : owner === OWNER_SYSMON ? SYSMON_LANE : MLANE + owner
}

interface GState {
  t: GoroutineTime
  /** The open slice: its start, P, M lane; -1 when not running. */
  startTs: number
  p: number
  mlane: number
  /** What it waits for now: 'runnable' since ts, or blocked by a reason since ts. */
  waitKind: 'none' | 'runnable' | 'blocked'
  waitSince: number
  waitReason: string
  /** An unblock seen while it still ran (its waker beat its stop): then it is runnable from its stop. */
  earlyUnblock: boolean
  /** The flow that ends at its next start (create or unblock), 0 none. */
  flow: number
  syscallAt: number
  /** Its P-lane slice already ended: sysmon retook the P while it ran (the M-lane slice goes on). */
  pCut: boolean
}

/** Builds the Chrome JSON from every thread's events. */
export function toChrome(raw: { events: RawEvent[]; dropped: number; procs: number }): ChromeTrace {
  // Events of one thread are in order; across threads the clock is common
  // (performance.timeOrigin + now()), so one stable sort orders them all.
  const evs = raw.events.slice().sort((x, y) => x.ts - y.ts)
  const out: TraceEvent[] = []
  const threads = new Map<number, number>() // owner -> Node threadId
  const gs = new Map<number, GState>()
  let flowSeq = 0
  let endTs = 0
  /** Goroutines running on each M lane now (a flow's start binds to one). */
  const busy = new Map<number, number>()

  const g = (goid: number, fn?: string): GState => {
    let st = gs.get(goid)
    if (st === undefined) {
      st = {
        t: { goid, fn: fn ?? 'func', runUs: 0, blockedUs: {}, runnableUs: 0, runs: 0, created: false, ended: false },
        startTs: -1, p: -1, mlane: 0, waitKind: 'none', waitSince: 0, waitReason: '', earlyUnblock: false, flow: 0, syscallAt: -1, pCut: false,
      }
      gs.set(goid, st)
    } else if (fn !== undefined && st.t.fn === 'func') st.t.fn = fn
    return st
  }
  const block = (st: GState, until: number): void => {
    if (st.waitKind === 'blocked') {
      const r = st.waitReason || 'unknown'
      st.t.blockedUs[r] = (st.t.blockedUs[r] ?? 0) + Math.max(0, until - st.waitSince)
    } else if (st.waitKind === 'runnable') st.t.runnableUs += Math.max(0, until - st.waitSince)
  }
  /** A flow's start, bound to whatever runs on the writer's M lane now, or to a mark of its own. */
  const flowFrom = (st: GState, owner: number, ts: number, what: string, goid: number): void => {
    const id = ++flowSeq
    const lane = laneOfOwner(owner)
    if ((busy.get(lane) ?? 0) === 0) out.push({ name: `${what} G${goid}`, ph: 'X', ts, dur: 0.5, pid: PID, tid: lane, cat: 'mark' })
    out.push({ name: what, cat: what, ph: 's', id, ts, pid: PID, tid: lane })
    st.flow = id
  }
  const closeSlice = (st: GState, ts: number, why: string): void => {
    const dur = Math.max(0, ts - st.startTs)
    const name = `G${st.t.goid} ${st.t.fn}`
    const args = { goid: st.t.goid, fn: st.t.fn, end: why }
    if (!st.pCut) out.push({ name, ph: 'X', ts: st.startTs, dur, pid: PID, tid: 1 + st.p, cat: 'goroutine', args })
    st.pCut = false
    out.push({ name, ph: 'X', ts: st.startTs, dur, pid: PID, tid: st.mlane, cat: 'goroutine', args })
    st.t.runUs += dur
    st.startTs = -1
    busy.set(st.mlane, (busy.get(st.mlane) ?? 1) - 1)
  }

  for (const e of evs) {
    endTs = Math.max(endTs, e.ts)
    switch (e.kind) {
      case Ev.Thread:
        if (!threads.has(e.owner)) threads.set(e.owner, e.a)
        break
      case Ev.GoName:
        if (e.fn !== undefined) g(e.a).t.fn = e.fn
        break
      case Ev.Create: {
        const st = g(e.a, e.fn)
        st.t.created = true
        st.waitKind = 'runnable'
        st.waitSince = e.ts
        flowFrom(st, e.owner, e.ts, 'go', e.a)
        break
      }
      case Ev.Start: {
        const st = g(e.a, e.fn)
        if (st.startTs >= 0) closeSlice(st, e.ts, 'unknown')
        block(st, e.ts)
        st.waitKind = 'none'
        st.earlyUnblock = false
        st.startTs = e.ts
        st.p = e.b
        st.mlane = laneOfOwner(e.owner)
        busy.set(st.mlane, (busy.get(st.mlane) ?? 0) + 1)
        st.t.runs++
        if (st.flow !== 0) {
          out.push({ name: st.t.created && st.t.runs === 1 ? 'go' : 'unblock', cat: st.t.runs === 1 && st.t.created ? 'go' : 'unblock', ph: 'f', bp: 'e', id: st.flow, ts: e.ts, pid: PID, tid: 1 + e.b })
          st.flow = 0
        }
        break
      }
      case Ev.Stop: {
        const st = g(e.a)
        const why = e.b
        const whyName = why === StopWhy.Exit ? 'exit' : why === StopWhy.Yield ? 'yield' : why === StopWhy.Preempted ? 'preempted' : why === StopWhy.Block ? 'block' : 'lost P'
        if (st.startTs >= 0) closeSlice(st, e.ts, whyName)
        if (why === StopWhy.Exit) {
          st.t.ended = true
          st.waitKind = 'none'
        } else if (why === StopWhy.Block && !st.earlyUnblock) {
          st.waitKind = 'blocked'
          st.waitSince = e.ts
          st.waitReason = waitReasonStrings[e.c] ?? ''
        } else {
          st.waitKind = 'runnable'
          st.waitSince = e.ts
        }
        st.earlyUnblock = false
        break
      }
      case Ev.Unblock: {
        const st = g(e.a)
        // A hand-off the M told by a bit, or a wake-up it wrote without knowing: only for a blocked goroutine.
        if (e.ifBlocked === true && st.waitKind !== 'blocked') break
        const reason = waitReasonStrings[e.c] ?? ''
        if (st.startTs >= 0) {
          // Readied before its own M recorded the park: runnable from its stop.
          st.earlyUnblock = true
        } else {
          if (st.waitKind === 'blocked' && reason !== '') st.waitReason = reason
          block(st, e.ts)
          st.waitKind = 'runnable'
          st.waitSince = e.ts
        }
        flowFrom(st, e.owner, e.ts, 'unblock', e.a)
        break
      }
      case Ev.Preempted:
        out.push({ name: 'preempted', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: 1 + e.b, args: { goid: e.a } })
        break
      case Ev.PreemptReq:
        out.push({ name: 'preempt request', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: SYSMON_LANE, args: { p: e.a, goid: e.b } })
        break
      case Ev.Retake:
        // The goroutine that ran on the P goes on without it: its P-lane slice ends here.
        for (const st of gs.values()) {
          if (st.startTs >= 0 && st.p === e.a && !st.pCut) {
            const name = `G${st.t.goid} ${st.t.fn}`
            const from = Math.min(st.startTs, e.ts)
            out.push({ name, ph: 'X', ts: from, dur: e.ts - from, pid: PID, tid: 1 + st.p, cat: 'goroutine', args: { goid: st.t.goid, fn: st.t.fn, end: 'retake' } })
            st.pCut = true
          }
        }
        out.push({ name: 'retake', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: SYSMON_LANE, args: { p: e.a, from: e.b === 0 ? 'syscall' : 'runaway step' } })
        out.push({ name: 'retake', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: 1 + e.a, args: { from: e.b === 0 ? 'syscall' : 'runaway step' } })
        break
      case Ev.Steal:
        out.push({ name: 'steal', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: 1 + e.a, args: { goid: e.b } })
        break
      case Ev.SyscallEnter: {
        const st = g(e.a)
        st.syscallAt = e.ts
        out.push({ name: 'syscall', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: laneOfOwner(e.owner), args: { goid: e.a } })
        break
      }
      case Ev.SyscallExit: {
        const st = g(e.a)
        if (st.syscallAt >= 0) {
          const d = e.ts - st.syscallAt
          st.t.blockedUs.syscall = (st.t.blockedUs.syscall ?? 0) + d
          st.t.runUs -= d // counted back when its slice closes
          st.syscallAt = -1
        }
        out.push({ name: 'syscall exit', ph: 'i', s: 't', ts: e.ts, pid: PID, tid: laneOfOwner(e.owner), args: { goid: e.a, keptP: e.b === 1 } })
        break
      }
      case Ev.Counters:
        out.push({ name: 'goroutines', ph: 'C', ts: e.ts, pid: PID, tid: 0, args: { goroutines: e.a } })
        out.push({ name: 'runnable goroutines', ph: 'C', ts: e.ts, pid: PID, tid: 0, args: { runnable: e.b } })
        out.push({ name: 'shared heap bytes', ph: 'C', ts: e.ts, pid: PID, tid: 0, args: { bytes: e.c } })
        break
    }
  }
  // Still running, or waiting, when the recording stopped.
  for (const st of gs.values()) {
    if (st.startTs >= 0) closeSlice(st, endTs, 'trace end')
    else block(st, endTs)
  }
  // Metadata: the process, then a lane per P, the app, sysmon, a lane per M.
  const meta: TraceEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: 'gort runtime' } }]
  const lane = (tid: number, name: string, sort: number): void => {
    meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid, args: { name } })
    meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: PID, tid, args: { sort_index: sort } })
  }
  for (let p = 0; p < raw.procs; p++) lane(1 + p, `P${p}`, p)
  lane(APP_LANE, 'app (main thread)', 2000)
  lane(SYSMON_LANE, 'sysmon', 2001)
  for (const [owner, tid] of [...threads].sort((x, y) => x[0] - y[0])) {
    if (owner >= 0) lane(MLANE + owner, `M${owner} (thread ${tid})`, 3000 + owner)
  }
  return {
    traceEvents: [...meta, ...out],
    displayTimeUnit: 'ms',
    gort: {
      version: 1,
      procs: raw.procs,
      durationUs: endTs,
      dropped: raw.dropped,
      goroutines: [...gs.values()].map((s) => s.t).sort((x, y) => x.goid - y.goid),
    },
  }
}
