// The execution tracer's buffers: Go's per-P trace buffers (runtime/trace.go,
// traceBuf), here per thread, in one SharedArrayBuffer per runtime.
//
// docs/design/trace-buffer.md describes every word. In short: the host makes
// the buffer when the runtime is created (its pages are committed only when a
// trace touches them) and hands it to every M and to sysmon in workerData.
// While recording, each thread writes fixed-size events into a chunk of the
// buffer that it alone owns, claimed from a shared bump pointer with one
// Atomics.add per chunk, and publishes each event by storing the chunk's
// cursor after the event's words (Atomics.store). The host reads the chunks
// when the trace stops. No event is ever posted as a message.
//
// The hooks in the scheduler cost one load of the header's `on` word when
// tracing is off (Go's trace.enabled): `if (tw.on[0] !== 0) tw.emit(...)`.

/** Header words (int32 indexes). */
export const TR_ON = 0 // 1 while recording; stored by the host, loaded by every hook
export const TR_EPOCH = 1 // the recording's number; the host Atomics.stores it before `on`
export const TR_NEXT = 2 // next free chunk index (Atomics.add by a writer claiming a chunk)
export const TR_NCHUNKS = 3 // chunks the buffer holds (written by the creator)
export const TR_DROPPED = 4 // events dropped because every chunk was taken (Atomics.add)
/** Float64 index of the recording's base time (performance.timeOrigin + now(), ms), written by the host before `on`. */
export const TR_BASE_F = 4
export const TR_HEADER_BYTES = 64

export const CHUNK_BYTES = 64 * 1024
/** Chunk header words, relative to the chunk's first int32 word. */
export const CH_OWNER = 0 // who writes it: an M id >= 0, OWNER_HOST, OWNER_SYSMON
export const CH_EPOCH = 1 // the recording it belongs to
export const CH_USED = 2 // float64 slots of events written; Atomics.store after each event
export const CH_SEQ = 3 // the owner's chunk count in this recording (0, 1, ...)
/** Events start at this float64 slot of a chunk. */
export const CH_EVENTS_F = 2
/** Float64 slots per event: ts, kind, a, b, c, d. */
export const EV_SLOTS = 6
const CHUNK_F = CHUNK_BYTES / 8

export const OWNER_HOST = -1
export const OWNER_SYSMON = -2

/** Event kinds (slot 1). */
export const Ev = {
  /** The writing thread: a = Node threadId, b = OS thread id. First event of a thread in a recording. */
  Thread: 1,
  /** A string: a = its id (per writer and recording), b = length; its UTF-16 units follow, 3 per slot, from slot c. */
  String: 2,
  /** go statement: a = the new goroutine's id, b = its function's string id, c = the creating goroutine's id (0: the app). */
  Create: 3,
  /** A goroutine starts running: a = goid, b = P, c = its function's string id. */
  Start: 4,
  /** It stops running: a = goid, b = StopWhy, c = wait reason (for Block). */
  Stop: 5,
  /** goready: a = goid readied, b = the goroutine that readied it (0: the app, a timer, a promise), c = its wait reason. */
  Unblock: 6,
  /** A goroutine gave up its M at a safe point because sysmon asked: a = goid, b = P. */
  Preempted: 7,
  /** sysmon asked the goroutine on P a to yield (preemptone): b = goid. */
  PreemptReq: 8,
  /** sysmon took P a from its M: b = 0 a syscall, 1 a runaway step. */
  Retake: 9,
  /** findRunnable stole work into P a (stealWork): b = the goroutine it got. */
  Steal: 10,
  /** A syscall begins: a = goid, b = P. */
  SyscallEnter: 11,
  /** It ends: a = goid, b = 1 if the M kept its P, 0 if not. */
  SyscallExit: 12,
  /** Counters: a = goroutines (sched.gcount), b = runnable goroutines, c = arena bytes in use. */
  Counters: 13,
} as const

/** Why a goroutine stopped running (Ev.Stop's b). */
export const StopWhy = {
  Exit: 0,
  Yield: 1,
  Preempted: 2,
  Block: 3,
  /** Its M lost the P (sysmon retook it): runnable, waiting for a P. */
  LostP: 4,
} as const

/**
 * An event's time stamp that says "when this thread's next event
 * happened": for a goroutine readied on its own M by the goroutine running
 * there, whose next event is that goroutine's stop, after the wake-up and
 * before the readied one can run. It saves a clock read per channel
 * hand-off on one M; the wake-up shows at the waker's stop (readEvents
 * resolves it).
 */
export const DEFERRED_TS = -1

/** Buffer size when a runtime does not say. */
export const DEFAULT_TRACE_BYTES = 32 * 1024 * 1024

/** Creates a runtime's trace buffer (the host, at Runtime creation). */
export function newTraceBuffer(bytes = DEFAULT_TRACE_BYTES): SharedArrayBuffer {
  const n = Math.max(1, Math.floor((bytes - TR_HEADER_BYTES) / CHUNK_BYTES))
  const sab = new SharedArrayBuffer(TR_HEADER_BYTES + n * CHUNK_BYTES)
  new Int32Array(sab)[TR_NCHUNKS] = n // plain: published by handing the buffer over
  return sab
}

const noBuffer = new Int32Array(16)

/**
 * One thread's writer into a runtime's trace buffer. `on` is the header's
 * int32 view (on[TR_ON] is the flag every hook loads); everything else runs
 * only while recording.
 */
export class TraceWriter {
  readonly on: Int32Array
  private readonly i: Int32Array
  private readonly f: Float64Array
  private epoch = 0
  private chunk = -1 // int32 index of the chunk held, -1 none
  private pos = 0 // float64 slot of the next event
  private end = 0
  private seq = 0
  private offs = 0 // performance.timeOrigin - base
  private readonly names = new Map<string, number>()
  /** String ids by a caller's key (a function id), this recording. */
  private readonly keyed: number[] = []

  /** The string id cached under key in this recording, or 0. */
  cachedStr(key: number): number {
    if (this.sync() < 0) return 0
    return this.keyed[key] ?? 0
  }

  /** Caches string id sid under key for this recording; returns sid. */
  cacheStr(key: number, sid: number): number {
    if (key >= 0) this.keyed[key] = sid
    return sid
  }

  /** owner: an M id, OWNER_HOST or OWNER_SYSMON; threadId: the writing thread's Node threadId; tid: its OS thread id (0 unknown). */
  constructor(readonly sab: SharedArrayBuffer | undefined, readonly owner: number, readonly threadId = 0, readonly tid = 0) {
    if (sab === undefined) {
      this.on = noBuffer
      this.i = noBuffer
      this.f = new Float64Array(8)
    } else {
      this.on = new Int32Array(sab, 0, TR_HEADER_BYTES / 4)
      this.i = new Int32Array(sab)
      this.f = new Float64Array(sab)
    }
  }

  /**
   * Microseconds since the recording began, on the common clock (every
   * thread of a process shares performance.timeOrigin). Catches up with a
   * new recording first, so that the offset is this recording's.
   */
  now(): number {
    this.sync()
    return (this.offs + performance.now()) * 1000
  }

  /** Records one event (call only after seeing on[TR_ON] !== 0). */
  emit(kind: number, a: number, b = 0, c = 0, d = 0): void {
    this.emitAt(this.now(), kind, a, b, c, d)
  }

  /**
   * Records one event stamped ts, a time this thread read before (a clock
   * read costs 100+ ns on these machines, more than the rest of an event):
   * the caller vouches that nothing another thread did since then is
   * causally before this event (mloop.ts traceStart).
   */
  emitAt(ts: number, kind: number, a: number, b = 0, c = 0, d = 0): void {
    const at = this.slot()
    if (at < 0) return
    const f = this.f
    f[at] = ts
    f[at + 1] = kind
    f[at + 2] = a
    f[at + 3] = b
    f[at + 4] = c
    f[at + 5] = d
    this.publish(at + EV_SLOTS)
  }

  /** The id of a string (a function's name) in this recording, writing it out the first time. */
  str(s: string): number {
    if (this.sync() < 0) return 0
    let id = this.names.get(s)
    if (id !== undefined) return id
    id = this.names.size + 1
    this.names.set(s, id)
    if (s.length > 600) s = s.slice(0, 600)
    // The header's c and d slots hold 6 units; the rest go 18 to a continuation event.
    const extra = Math.max(0, Math.ceil((s.length - 6) / 18))
    const at = this.slot(1 + extra)
    if (at < 0) return id
    const f = this.f
    f[at] = this.now()
    f[at + 1] = Ev.String
    f[at + 2] = id
    f[at + 3] = s.length
    let k = 0
    for (let slot = at + 4; slot < at + EV_SLOTS * (1 + extra); slot++, k += 3) {
      f[slot] = (s.charCodeAt(k) || 0) + (s.charCodeAt(k + 1) || 0) * 0x10000 + (s.charCodeAt(k + 2) || 0) * 0x100000000
    }
    this.publish(at + EV_SLOTS * (1 + extra))
    return id
  }

  /** Catches up with the recording: a new one drops the chunk and names of the last. -1 when not recording. */
  private sync(): number {
    // A plain load on the fast path: the epoch changes once per recording,
    // and the change is confirmed with Atomics.load (which orders the base
    // time's read after it) before it is acted on.
    if (this.i[TR_EPOCH] === this.epoch) return 0
    const e = Atomics.load(this.i, TR_EPOCH)
    if (e === this.epoch) return 0
    if (Atomics.load(this.i, TR_ON) === 0) return -1
    this.epoch = e
    this.chunk = -1
    this.pos = this.end = 0
    this.seq = 0
    this.names.clear()
    this.keyed.length = 0
    this.offs = performance.timeOrigin - this.f[TR_BASE_F]
    this.emit(Ev.Thread, this.threadId, this.tid)
    return 0
  }

  /** Room for n events: the float64 slot to write at, or -1 (dropped). */
  private slot(n = 1): number {
    if (this.sync() < 0) return -1
    const need = n * EV_SLOTS
    if (this.pos + need > this.end) {
      const i = this.i
      const k = Atomics.add(i, TR_NEXT, 1)
      if (k >= i[TR_NCHUNKS] || need > CHUNK_F - CH_EVENTS_F) {
        Atomics.add(i, TR_DROPPED, n)
        return -1
      }
      const cw = (TR_HEADER_BYTES + k * CHUNK_BYTES) / 4
      i[cw + CH_OWNER] = this.owner
      i[cw + CH_EPOCH] = this.epoch
      i[cw + CH_SEQ] = this.seq++
      Atomics.store(i, cw + CH_USED, 0)
      this.chunk = cw
      this.pos = cw / 2 + CH_EVENTS_F
      this.end = cw / 2 + CHUNK_F
    }
    return this.pos
  }

  /** Publishes the events up to float64 slot `to`: the reader loads CH_USED, then the words before it. */
  private publish(to: number): void {
    this.pos = to
    Atomics.store(this.i, this.chunk + CH_USED, to - (this.chunk / 2 + CH_EVENTS_F))
  }
}

/** A raw event as read back. */
export interface RawEvent {
  owner: number
  ts: number
  kind: number
  a: number
  b: number
  c: number
  d: number
  /** For Ev.String: the string. */
  s?: string
}

/** The host's side: starts a recording. Ms, sysmon and the host see `on` at their next hook. */
export function traceBegin(sab: SharedArrayBuffer): void {
  const i = new Int32Array(sab)
  const f = new Float64Array(sab)
  if (Atomics.load(i, TR_ON) !== 0) throw new Error('trace.start: a trace is already being recorded; stop it first')
  // Chunks of the last recording are not reused until every writer has seen
  // the new epoch: a writer checks the epoch before claiming a slot, and a
  // stale one (it read `on` just before the last stop) writes at most one
  // event into a chunk whose epoch the reader no longer accepts.
  i[TR_NEXT] = 0
  Atomics.store(i, TR_DROPPED, 0)
  f[TR_BASE_F] = performance.timeOrigin + performance.now()
  Atomics.store(i, TR_EPOCH, i[TR_EPOCH] + 1)
  Atomics.store(i, TR_ON, 1)
}

/** The host's side: stops the recording (writers see it at their next hook). */
export function traceEnd(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab), TR_ON, 0)
}

/** Every published event of the current recording, chunk by chunk, with what was dropped. */
export function readEvents(sab: SharedArrayBuffer): { events: RawEvent[]; dropped: number; base: number } {
  const i = new Int32Array(sab)
  const f = new Float64Array(sab)
  const epoch = Atomics.load(i, TR_EPOCH)
  const n = Math.min(Atomics.load(i, TR_NEXT), i[TR_NCHUNKS])
  const chunks: Array<{ owner: number; seq: number; cw: number; used: number }> = []
  for (let k = 0; k < n; k++) {
    const cw = (TR_HEADER_BYTES + k * CHUNK_BYTES) / 4
    const used = Atomics.load(i, cw + CH_USED)
    if (i[cw + CH_EPOCH] !== epoch) continue
    chunks.push({ owner: i[cw + CH_OWNER], seq: i[cw + CH_SEQ], cw, used })
  }
  chunks.sort((x, y) => x.owner - y.owner || x.seq - y.seq)
  const events: RawEvent[] = []
  // Deferred stamps wait for their thread's next stamped event.
  let deferred: RawEvent[] = []
  let owner = NaN
  let lastTs = 0
  const resolve = (ts: number): void => {
    for (const e of deferred) e.ts = ts
    deferred = []
  }
  for (const ch of chunks) {
    if (ch.owner !== owner) {
      resolve(lastTs)
      owner = ch.owner
      lastTs = 0
    }
    const start = ch.cw / 2 + CH_EVENTS_F
    let at = start
    while (at + EV_SLOTS <= start + ch.used) {
      const ev: RawEvent = { owner: ch.owner, ts: f[at], kind: f[at + 1], a: f[at + 2], b: f[at + 3], c: f[at + 4], d: f[at + 5] }
      let len = EV_SLOTS
      if (ev.kind === Ev.String) {
        const extra = Math.max(0, Math.ceil((ev.b - 6) / 18))
        len += extra * EV_SLOTS
        const units: number[] = []
        for (let slot = at + 4; units.length < ev.b; slot++) {
          let v = f[slot]
          for (let u = 0; u < 3 && units.length < ev.b; u++) {
            units.push(v % 0x10000)
            v = Math.floor(v / 0x10000)
          }
        }
        ev.s = String.fromCharCode(...units)
      }
      if (ev.ts === DEFERRED_TS) deferred.push(ev)
      else {
        resolve(ev.ts)
        lastTs = ev.ts
      }
      events.push(ev)
      at += len
    }
  }
  resolve(lastTs)
  return { events, dropped: Atomics.load(i, TR_DROPPED), base: f[TR_BASE_F] }
}
