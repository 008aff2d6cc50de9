// The execution tracer's buffers: Go's per-P trace buffers (runtime/trace.go,
// traceBuf), here per thread, in one SharedArrayBuffer per runtime.
//
// docs/design/trace-buffer.md describes every word. In short: the host makes
// the buffer when the runtime is created (its pages are committed only when a
// trace touches them) and hands it to every M and to sysmon in workerData.
// While recording, each thread writes events of four int32 words (two for
// the kinds an M writes on every switch: a goroutine switch is one
// two-word Switch) into a chunk of the buffer that it alone owns, claimed
// from a shared bump pointer with one Atomics.add per chunk. The host reads the chunks when the
// trace stops. No event is ever posted as a message.
//
// A clock read (performance.now()) costs as much as a goroutine switch on
// the machines gort runs on, so an M's hot events carry no time: they are
// plain stores, and the M writes a time stamp once in a while (every
// few hundred events, when it starts a burst, takes or gives up a P, or when
// sysmon's tick says time went by). The reader places the events between
// two stamps by their order (readEvents). Events another thread's events
// are ordered against are stamped (a goroutine's creation, a P changing
// hands, syscalls), except a wake-up across Ms, the hottest of them: it
// carries a number instead, which orders it before the woken goroutine's
// start (UnblockX, Drain). Go's tracer does the same with its cheap
// cputicks: sequence numbers order events, ticks place them.
//
// The hooks in the scheduler cost one load of the header's `on` word when
// tracing is off (Go's trace.enabled): `if (tw.on[0] !== 0) tw.ev(...)`.

/** Header words (int32 indexes). */
export const TR_ON = 0 // 1 while recording; stored by the host, loaded by every hook
export const TR_EPOCH = 1 // the recording's number; the host Atomics.stores it before `on`
export const TR_NEXT = 2 // next free chunk index (Atomics.add by a writer claiming a chunk)
export const TR_NCHUNKS = 3 // chunks the buffer holds (written by the creator)
export const TR_DROPPED = 4 // events dropped because every chunk was taken (Atomics.add)
/** Bumped by the host at each start and by sysmon at each look while recording: a writer that sees it change stamps its next event. */
export const TR_TICK = 5
/** Float64 index of the recording's base time (performance.timeOrigin + now(), ms), written by the host before `on`. */
export const TR_BASE_F = 4
export const TR_HEADER_BYTES = 64

export const CHUNK_BYTES = 64 * 1024
/** Chunk header words, relative to the chunk's first int32 word. */
export const CH_OWNER = 0 // who writes it: an M id >= 0, OWNER_HOST, OWNER_SYSMON
export const CH_EPOCH = 1 // the recording it belongs to
export const CH_USED = 2 // end of the published events (an int32 index into the buffer); Atomics.store at each stamp and burst end
export const CH_DIRTY = 3 // 1 while the owner (an M) may have written events after CH_USED (it is in a burst); 0 once it published them all (burst end, chunk full)
export const CH_SEQ = 4 // the owner's chunk count in this recording (0, 1, ...)
/** Events start at this int32 word of a chunk. */
export const CH_EVENTS = 8
/** int32 words per event: a header (kind in the low 8 bits, a small argument x above), then a, b, c; the short kinds (evWords) have only the header and a. */
export const EV_WORDS = 4
const CHUNK_WORDS = CHUNK_BYTES / 4

export const OWNER_HOST = -1
export const OWNER_SYSMON = -2

/** Event kinds (the header word's low 8 bits). x is the header's upper 24 bits. */
export const Ev = {
  /** The writing thread: a = Node threadId, b = OS thread id. Written with a writer's first stamp in a recording. */
  Thread: 1,
  /** A string: x = its length, a = its id (per writer and recording); its UTF-16 units follow, two per word, from word b on, continuing into the next events' words. Carries no time. */
  String: 2,
  /** go statement: a = the new goroutine's id, b = its function's table id (-1: a closure, named by GoName), c = the creating goroutine's id (0: the app). Stamped. */
  Create: 3,
  /** A goroutine starts running: x = P, a = goid, b = its function's table id (-1: a closure). */
  Start: 4,
  /** It stops running: x = StopWhy | wait reason << 4, a = goid. Short. */
  Stop: 5,
  /** goready on the woken goroutine's own M, unstamped (mloop's hand-offs): x = the wait reason it ended, a = goid readied, b = the goroutine that readied it (0: none), c = 1 (it counts only if the goroutine is blocked then). Across threads: UnblockX. */
  Unblock: 6,
  /** A goroutine gave up its M at a safe point because sysmon asked: x = P, a = goid. Short. */
  Preempted: 7,
  /** sysmon asked the goroutine on P a to yield (preemptone): b = goid. */
  PreemptReq: 8,
  /** sysmon took P a from its M: b = 0 a syscall, 1 a runaway step. */
  Retake: 9,
  /** findRunnable stole work into P a (stealWork): b = the goroutine it got. */
  Steal: 10,
  /** A syscall begins: a = goid, b = P. Stamped. */
  SyscallEnter: 11,
  /** It ends: a = goid, b = 1 if the M kept its P, 0 if not. Stamped. */
  SyscallExit: 12,
  /** Counters: a = goroutines (sched.gcount), b = runnable goroutines, c = arena bytes in use. */
  Counters: 13,
  /** A closure goroutine's name: a = goid, b = string id. */
  GoName: 14,
  /** A time stamp: x = 1 if the event after it happened at this time (0: a bare stamp); b, c = the time, a float64 of µs since the base. */
  Stamp: 15,
  /** The writer's M left its scheduler (the end of a burst; stamped): the time until its next stamp went by outside goroutines. Short. */
  Idle: 16,
  /**
   * Start, short, when no stop is held to join it (see Switch): x = P, a =
   * goid, one of the M's own goroutines whose function this recording
   * already has (from its Create, GoName, or an earlier full Start on this M).
   */
  StartLocal: 17,
  /** Unblock on the woken goroutine's own M from a callback (a settled promise, a timer), short: x = the wait reason, a = goid; the waker is the goroutine running on this M then (0: none). */
  UnblockLocal: 18,
  /**
   * An M's goroutine switch, short: the goroutine running on this M stops
   * and one of its own starts, on the same P, in one event (the M holds a
   * stop, TraceWriter.stop, until its next event; a StartLocal joins it).
   * x = the stop's x (StopWhy | wait reason << 4, 10 bits) | SWITCH_WOKE if
   * the one that starts came from localnext (Go's runnext): if it was
   * blocked, the one that stopped readied it (readyHere puts a goroutine
   * readied on its own M there); a = the goroutine that starts (its
   * function known, as for StartLocal). The one that stops and the P are
   * the M's current ones in the reader's walk of its events.
   */
  Switch: 19,
  /**
   * goready from another thread: x = the wait reason it ended | the woken
   * goroutine's M << 8, a = goid readied, b = the goroutine that readied it
   * (0: the app, a timer, a promise), c = that M's M.trwakes count as the
   * waker's Atomics.add left it, just before this event. Unstamped on an M
   * (the host and sysmon stamp every event): the reader places it no later
   * than the first Drain on that M whose count reaches c, and the woken
   * goroutine starts after that Drain.
   */
  UnblockX: 20,
  /** The M took its readyq (drainReadyq), short: a = M.trwakes as it loaded it just after. Unstamped; read as an order point, not an event. */
  Drain: 21,
} as const

/** Words an event of this kind takes (String: its header's; its units follow). */
export function evWords(kind: number): number {
  return kind === Ev.Stop || kind === Ev.Preempted || kind === Ev.Idle || kind === Ev.StartLocal || kind === Ev.UnblockLocal || kind === Ev.Switch || kind === Ev.Drain ? 2 : EV_WORDS
}

/** Switch's x: the goroutine that starts came from localnext; if blocked, the one that stopped readied it. */
export const SWITCH_WOKE = 1 << 10

/** Why a goroutine stopped running (Ev.Stop's b). */
export const StopWhy = {
  Exit: 0,
  Yield: 1,
  Preempted: 2,
  Block: 3,
  /** Its M lost the P (sysmon retook it): runnable, waiting for a P. */
  LostP: 4,
} as const

/** Buffer size when a runtime does not say. */
export const DEFAULT_TRACE_BYTES = 32 * 1024 * 1024

/**
 * A writer stamps about every this many microseconds' worth of events:
 * the interval between stamps (in words) adapts to how fast events come,
 * so that a clock read (about 100 ns, and the stamp's other work) costs
 * under 1 % of the time it covers: at 8 µs it was some 3 % of a gosched
 * round trip traced. Events that come slowly (long goroutine steps) are
 * each stamped; a burst of switches every MAX_STAMP_WORDS words (256 to
 * 512 events).
 */
const STAMP_EVERY_US = 32
const MAX_STAMP_WORDS = 256 * EV_WORDS

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
 *
 * Two ways to write: ev() and ev2() (an M's hot events: plain stores, no clock,
 * placed by the reader between the stamps around it) and emit() (a stamp,
 * then the event: for what other threads' events are ordered against, and
 * for every event of the host and sysmon).
 */
export class TraceWriter {
  readonly on: Int32Array
  private readonly i: Int32Array
  private readonly f: Float64Array
  /** The recording this writer's chunk belongs to (0: none yet). */
  epoch = 0
  private chunk = -1 // int32 index of the chunk held, -1 none
  private pos = 0 // int32 index of the next event
  private end = 0 // the chunk's end
  /** ev() writes without a stamp while pos < lim: lim is min(room for one event, the stamp interval's end). */
  private lim = 0
  private published = 0 // CH_USED as last stored
  private seq = 0
  private offs = 0 // performance.timeOrigin - base
  private tick = 0 // TR_TICK when last stamped
  private every = EV_WORDS // words between stamps
  private stampPos = 0 // pos just after the last stamp
  private stampT = 0 // its time, µs
  private idled = false // an Idle marker since the last stamp
  private fresh = false // the Thread event is still to be written in this recording
  /** A stop held for the next start (stop()): the goroutine (0: none; the M reads it to tell a hand-off) and the Stop event's x. */
  pendG = 0
  private pendX = 0
  private readonly names = new Map<string, number>()

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
   * An M's hot event, unstamped (call only after seeing on[TR_ON] !== 0):
   * h = kind | x << 8. Four plain stores; every so often (and when sysmon's tick moved, or a new recording
   * began) it takes the slow path, which stamps it.
   */
  ev(h: number, a: number, b: number, c: number): void {
    if (this.pendG !== 0) this.flushStop()
    this.put4(h, a, b, c)
  }

  /** ev() for a short kind (evWords 2): the header and a. */
  ev2(h: number, a: number): void {
    if (this.pendG !== 0) this.flushStop()
    this.put2(h, a)
  }

  /**
   * An M's goroutine stopped (x: StopWhy | wait reason << 4): held, not
   * written, until the M's next event. When that is the start of one of
   * its own goroutines (startLocal, the common switch) the two are one
   * Switch event: one check of the interval and four stores for both;
   * anything else writes the Stop first (flushStop).
   */
  stop(x: number, goid: number): void {
    if (this.pendG !== 0) this.flushStop()
    this.pendG = goid
    this.pendX = x
  }

  /**
   * A start of one of the M's own goroutines whose function this recording
   * has (Ev.StartLocal), joined with the held stop into a Switch if there
   * is one; woke: SWITCH_WOKE if it comes from localnext (Go's runnext), else 0.
   */
  startLocal(pp: number, goid: number, woke: number): void {
    if (this.pendG !== 0) {
      this.pendG = 0
      this.put2(Ev.Switch | ((this.pendX | woke) << 8), goid)
    } else this.put2(Ev.StartLocal | (pp << 8), goid)
  }

  /**
   * A short unstamped event written ahead of a held stop, which stays held
   * for a Switch (Ev.Drain: where it falls among the stop and the start
   * does not matter to the reader).
   */
  mark(h: number, a: number): void {
    this.put2(h, a)
  }

  /** Writes the held stop as a Stop event. */
  private flushStop(): void {
    const g = this.pendG
    this.pendG = 0
    this.put2(Ev.Stop | (this.pendX << 8), g)
  }

  private put4(h: number, a: number, b: number, c: number): void {
    const p = this.pos
    const i = this.i
    if (p < this.lim && i[TR_TICK] === this.tick) {
      i[p] = h
      i[p + 1] = a
      i[p + 2] = b
      i[p + 3] = c
      this.pos = p + EV_WORDS
    } else this.stamped(h, a, b, c, true, -1)
  }

  private put2(h: number, a: number): void {
    const p = this.pos
    const i = this.i
    if (p < this.lim && i[TR_TICK] === this.tick) {
      i[p] = h
      i[p + 1] = a
      this.pos = p + 2
    } else this.stamped(h, a, 0, 0, true, -1)
  }

  /** A stamped event (call only after seeing on[TR_ON] !== 0): the clock is read for it. */
  emit(kind: number, a: number, b = 0, c = 0, x = 0): void {
    this.stamped(kind | (x << 8), a, b, c, true, -1)
  }

  /**
   * A bare stamp: this writer's time now (nowMs: a performance.now() the
   * caller read just before, to save a read; omitted, the clock is read).
   * The M stamps where another thread's events are ordered against its
   * own: when it takes a P (and before it gives one up), at the start of
   * a burst.
   */
  anchor(nowMs = -1): void {
    this.stamped(0, 0, 0, 0, false, nowMs)
  }

  /**
   * The end of a burst (the M leaves its scheduler: it parks, or lets its
   * event loop run): a stamped Idle marker, and everything written is published.
   * Cheap when nothing was written: mloop calls it after every burst,
   * recording or not (a recording that stopped mid-burst is read once
   * this publishes its tail).
   */
  idle(): void {
    if (this.chunk < 0 || this.i[TR_EPOCH] !== this.epoch) {
      this.chunk = -1
      this.pos = this.lim = this.end = 0
      this.pendG = 0
      return
    }
    // The burst's last stop, held for a start that did not come.
    if (this.pendG !== 0) this.flushStop()
    if (this.on[TR_ON] !== 0 && this.pos !== this.stampPos) {
      // Stamped: what ran before it (a goroutine's last step) is told from
      // the idle spell after it (one clock read per burst).
      this.stamped(Ev.Idle, 0, 0, 0, true, -1)
      this.idled = true
      this.lim = this.pos // the next event is stamped
    }
    if (this.chunk >= 0) this.release()
  }

  /** Publishes what was written (before the thread stops: exit, a fatal error). */
  flush(): void {
    if (this.chunk >= 0 && this.i[TR_EPOCH] === this.epoch) {
      if (this.pendG !== 0) this.flushStop()
      this.release()
    }
  }

  /** sysmon, at each look while recording: writers stamp their next event. */
  bumpTick(): void {
    Atomics.add(this.i, TR_TICK, 1)
  }

  /** The id of a string (a closure's name) in this recording, writing it out the first time. Carries no time. */
  str(s: string): number {
    if (this.i[TR_EPOCH] !== this.epoch && !this.sync()) return 0
    let id = this.names.get(s)
    if (id !== undefined) return id
    id = this.names.size + 1
    this.names.set(s, id)
    if (s.length > 600) s = s.slice(0, 600)
    // Words b and c of the first event hold 4 units; each further event 8.
    const words = EV_WORDS * (1 + Math.max(0, Math.ceil((s.length - 4) / 8)))
    if (this.pos + words > this.end && !this.claim(words)) return id
    const i = this.i
    const at = this.pos
    i[at] = Ev.String | (s.length << 8)
    i[at + 1] = id
    for (let w = at + 2, k = 0; w < at + words; w++, k += 2) {
      i[w] = (s.charCodeAt(k) || 0) | ((s.charCodeAt(k + 1) || 0) << 16)
    }
    this.pos = at + words
    return id
  }

  /**
   * The slow path: catches up with a new recording, reads the clock (or
   * takes nowMs), claims a chunk if this one is full, writes a stamp and
   * (withEvent) the event after it, publishes, and sets the next stamp's
   * distance from how fast events came since the last one.
   */
  private stamped(h: number, a: number, b: number, c: number, withEvent: boolean, nowMs: number): void {
    const i = this.i
    if (i[TR_EPOCH] !== this.epoch && !this.sync()) return
    // A held stop happened before this event: written first (it may come back here, with nothing held).
    if (this.pendG !== 0) this.flushStop()
    this.tick = i[TR_TICK]
    const t = ((nowMs >= 0 ? nowMs : performance.now()) + this.offs) * 1000
    const words = EV_WORDS * (1 + (this.fresh ? 1 : 0)) + (withEvent ? evWords(h & 0xff) : 0)
    const sameChunk = this.pos + words <= this.end
    if (!sameChunk && !this.claim(words)) return
    // Words written since the last stamp, in this chunk and with no idle
    // spell among them: how fast they came sets the next interval.
    const n = this.pos - this.stampPos
    if (sameChunk && !this.idled && n > 0) {
      const gap = (t - this.stampT) / n
      this.every = gap <= 0 ? MAX_STAMP_WORDS : Math.max(EV_WORDS, Math.min(MAX_STAMP_WORDS, Math.floor(STAMP_EVERY_US / gap)))
    }
    let p = this.pos
    i[p] = Ev.Stamp | ((withEvent || this.fresh ? 1 : 0) << 8)
    i[p + 1] = 0
    this.f[(p + 2) >> 1] = t
    p += EV_WORDS
    if (this.fresh) {
      this.fresh = false
      i[p] = Ev.Thread
      i[p + 1] = this.threadId
      i[p + 2] = this.tid
      i[p + 3] = 0
      p += EV_WORDS
    }
    if (withEvent) {
      const ew = evWords(h & 0xff)
      i[p] = h
      i[p + 1] = a
      if (ew === EV_WORDS) {
        i[p + 2] = b
        i[p + 3] = c
      }
      p += ew
    }
    this.pos = p
    this.stampPos = p
    this.stampT = t
    this.idled = false
    this.lim = Math.min(this.end - EV_WORDS + 1, p + this.every)
    this.publish()
    // An M goes on writing unpublished events until its burst ends (idle()).
    if (this.owner >= 0) i[this.chunk + CH_DIRTY] = 1
  }

  /** Catches up with a new recording: drops the last one's chunk and names. False when not recording. */
  private sync(): boolean {
    // The epoch was seen to change with a plain load; confirmed with
    // Atomics.load, which orders the base time's read after it.
    const e = Atomics.load(this.i, TR_EPOCH)
    if (Atomics.load(this.i, TR_ON) === 0) return false
    this.epoch = e
    this.chunk = -1
    this.pos = this.end = this.lim = this.stampPos = this.published = 0
    this.seq = 0
    this.every = EV_WORDS
    this.idled = false
    this.fresh = true
    this.pendG = 0 // the last recording's
    this.names.clear()
    this.offs = performance.timeOrigin - this.f[TR_BASE_F]
    return true
  }

  /** A new chunk with room for `words` (its first events), or false (dropped: the buffer is full). */
  private claim(words: number): boolean {
    const i = this.i
    if (this.chunk >= 0) this.release()
    const k = Atomics.add(i, TR_NEXT, 1)
    if (k >= i[TR_NCHUNKS] || words > CHUNK_WORDS - CH_EVENTS) {
      Atomics.add(i, TR_DROPPED, 1)
      this.lim = this.pos // stays on the slow path; it retries at the next event
      return false
    }
    const cw = (TR_HEADER_BYTES + k * CHUNK_BYTES) / 4
    i[cw + CH_OWNER] = this.owner
    i[cw + CH_EPOCH] = this.epoch
    i[cw + CH_SEQ] = this.seq++
    i[cw + CH_DIRTY] = 0
    Atomics.store(i, cw + CH_USED, cw + CH_EVENTS)
    this.chunk = cw
    this.pos = this.stampPos = this.published = cw + CH_EVENTS
    this.end = cw + CHUNK_WORDS
    this.lim = this.pos // the chunk's first event is stamped
    return true
  }

  /** Publishes the chunk and marks it clean: nothing of this writer's is left unpublished in it. */
  private release(): void {
    this.publish()
    this.i[this.chunk + CH_DIRTY] = 0
  }

  /** Stores CH_USED: the reader loads it, then the words before it. */
  private publish(): void {
    if (this.published !== this.pos) Atomics.store(this.i, this.chunk + CH_USED, (this.published = this.pos))
  }
}

/** A raw event as read back, its time placed (µs since the base). */
export interface RawEvent {
  owner: number
  ts: number
  kind: number
  a: number
  b: number
  c: number
  /** Create, Start, GoName: the goroutine's function name ('func': a closure not named yet). */
  fn?: string
  /** Unblock: only if the goroutine is blocked then (a local wake-up the M told without knowing whether it had yielded instead). */
  ifBlocked?: boolean
}

/** The host's side: starts a recording. Ms, sysmon and the host see `on` at their next hook. */
export function traceBegin(sab: SharedArrayBuffer): void {
  const i = new Int32Array(sab)
  const f = new Float64Array(sab)
  if (Atomics.load(i, TR_ON) !== 0) throw new Error('trace.start: a trace is already being recorded; stop it first')
  i[TR_NEXT] = 0
  Atomics.store(i, TR_DROPPED, 0)
  f[TR_BASE_F] = performance.timeOrigin + performance.now()
  Atomics.store(i, TR_EPOCH, i[TR_EPOCH] + 1)
  // A writer's fast path looks at the tick, not the epoch: the bump sends
  // it to the slow path, which sees the new epoch.
  Atomics.add(i, TR_TICK, 1)
  Atomics.store(i, TR_ON, 1)
}

/** The host's side: stops the recording (writers see it at their next hook). */
export function traceEnd(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab), TR_ON, 0)
}

/** The chunks of the current recording, each writer's in order. */
function chunksOf(i: Int32Array): Array<{ owner: number; seq: number; cw: number; used: number; dirty: boolean }> {
  const epoch = Atomics.load(i, TR_EPOCH)
  const n = Math.min(Atomics.load(i, TR_NEXT), i[TR_NCHUNKS])
  const chunks: Array<{ owner: number; seq: number; cw: number; used: number; dirty: boolean }> = []
  for (let k = 0; k < n; k++) {
    const cw = (TR_HEADER_BYTES + k * CHUNK_BYTES) / 4
    const used = Atomics.load(i, cw + CH_USED)
    if (i[cw + CH_EPOCH] !== epoch) continue
    chunks.push({ owner: i[cw + CH_OWNER], seq: i[cw + CH_SEQ], cw, used, dirty: i[cw + CH_DIRTY] !== 0 })
  }
  return chunks.sort((x, y) => x.owner - y.owner || x.seq - y.seq)
}

/**
 * Whether some writer has written events it has not published yet (an M in
 * the middle of a burst when the recording stopped): the reader waits for
 * them a little (RuntimeTrace.stop).
 */
export function traceUnpublished(sab: SharedArrayBuffer): boolean {
  return chunksOf(new Int32Array(sab)).some((ch) => ch.dirty)
}

/** The time between an M's events when they come back to back (µs), when a trace has no bracket to measure it from. */
const DEFAULT_EVENT_US = 0.05

/**
 * Every published event of the current recording, placed in time, with
 * what was dropped. fnName names a function table id (the host's registry).
 *
 * Placement: a writer's events between two stamps keep their order and
 * fill the time between them. Each gap between two events gets the time
 * an event takes when events come back to back (measured in this trace:
 * a low percentile over the brackets of busy writers), and what is left
 * goes to the gaps where something else was going on: an idle spell (after
 * an Idle marker) if the bracket has one, else the gaps inside goroutines
 * (between a Start and its Stop), else all gaps alike. A bracket too short
 * for its events at that pace is shrunk evenly.
 */
export function readEvents(sab: SharedArrayBuffer, fnName: (id: number) => string = () => 'func'): { events: RawEvent[]; dropped: number; base: number } {
  const i = new Int32Array(sab)
  const f = new Float64Array(sab)
  // Each writer's events in order, stamps among them.
  interface W { owner: number; ev: number[]; stampT: Map<number, number>; names: Map<number, string> }
  const writers: W[] = []
  let w: W | undefined
  for (const ch of chunksOf(i)) {
    if (w === undefined || w.owner !== ch.owner) writers.push((w = { owner: ch.owner, ev: [], stampT: new Map(), names: new Map() }))
    for (let p = ch.cw + CH_EVENTS; p + 2 <= ch.used;) {
      const kind = i[p] & 0xff
      if (kind === Ev.String) {
        const len = i[p] >>> 8
        const words = EV_WORDS * (1 + Math.max(0, Math.ceil((len - 4) / 8)))
        const units: number[] = []
        for (let q = p + 2; units.length < len; q++) units.push(i[q] & 0xffff, i[q] >>> 16)
        w.names.set(i[p + 1], String.fromCharCode(...units.slice(0, len)))
        p += words
        continue
      }
      if (kind === Ev.Stamp) w.stampT.set(w.ev.length, f[(p + 2) >> 1])
      w.ev.push(p)
      p += evWords(kind)
    }
  }
  // The gap after each event: 0 after a stamp with its event, 'idle' after an Idle marker, 'run' inside a goroutine, else 'sched'.
  const ZERO = 0
  const SCHED = 1
  const RUN = 2
  const IDLE = 3
  const gapsOf = (ev: number[]): Uint8Array => {
    const g = new Uint8Array(ev.length)
    let running = false
    for (let k = 0; k < ev.length; k++) {
      const h = i[ev[k]]
      const kind = h & 0xff
      if (kind === Ev.Start || kind === Ev.StartLocal || kind === Ev.Switch) running = true
      else if (kind === Ev.Stop || kind === Ev.Idle) running = false
      g[k] = kind === Ev.Stamp && (h >>> 8) === 1 ? ZERO : kind === Ev.Idle ? IDLE : running ? RUN : SCHED
    }
    return g
  }
  // The pace of back-to-back events: brackets of 8+ events with no idle spell.
  const paces: number[] = []
  const gaps = writers.map((wr) => gapsOf(wr.ev))
  writers.forEach((wr, k) => {
    const g = gaps[k]
    let last = -1
    for (let e = 0; e < wr.ev.length; e++) {
      const t = wr.stampT.get(e)
      if (t === undefined) continue
      if (last >= 0 && e - last >= 9) {
        let counted = 0
        let idle = false
        for (let q = last; q < e; q++) {
          if (g[q] === IDLE) idle = true
          else if (g[q] !== ZERO) counted++
        }
        if (!idle && counted > 0 && t > wr.stampT.get(last)!) paces.push((t - wr.stampT.get(last)!) / counted)
      }
      last = e
    }
  })
  paces.sort((x, y) => x - y)
  const pace = paces.length > 0 ? Math.max(paces[Math.floor(paces.length / 5)], 1e-3) : DEFAULT_EVENT_US
  const tss = writers.map((wr, k) => {
    const g = gaps[k]
    const ts = new Float64Array(wr.ev.length)
    /** Places the events after the stamp at `from` (t0): up to the next stamp at `to` (t1), or to the end (to < 0: the open tail). */
    const place = (from: number, to: number, t0: number, t1: number): void => {
      const last = to < 0 ? wr.ev.length - 1 : to
      let base = 0
      const kinds = [0, 0, 0, 0]
      for (let q = from; q < last; q++) {
        kinds[g[q]]++
        if (g[q] === SCHED || g[q] === RUN) base += pace
      }
      let scale = 1
      let extraTo = -1
      let extra = 0
      if (to >= 0) {
        const span = t1 - t0
        if (span <= base) scale = base > 0 ? span / base : 0
        else {
          extraTo = kinds[IDLE] > 0 ? IDLE : kinds[RUN] > 0 ? RUN : SCHED
          extra = (span - base) / Math.max(1, kinds[extraTo])
        }
      }
      let t = t0
      for (let q = from; q < last; q++) {
        if (g[q] === SCHED || g[q] === RUN) t += pace * scale
        if (g[q] === extraTo) t += extra
        if (to < 0) ts[q + 1] = t
        else if (q + 1 < to) ts[q + 1] = Math.min(t, t1)
      }
    }
    let last = -1
    for (let e = 0; e < wr.ev.length; e++) {
      const t = wr.stampT.get(e)
      if (t === undefined) continue
      ts[e] = t
      // Before a writer's first stamp there is nothing (a chunk starts with one): its time.
      if (last < 0) for (let q = 0; q < e; q++) ts[q] = t
      else place(last, e, ts[last], t)
      last = e
    }
    if (last >= 0) place(last, -1, ts[last], Infinity)
    return ts
  })
  keepCausal(i, writers, tss)
  const events: RawEvent[] = []
  for (let k = 0; k < writers.length; k++) {
    const wr = writers[k]
    const ts = tss[k]
    /** The goroutine running on this writer's M (the waker of an UnblockLocal, the one a Switch stops), and its P. */
    let running = 0
    let curP = 0
    for (let e = 0; e < wr.ev.length; e++) {
      const p = wr.ev[e]
      const h = i[p]
      let kind = h & 0xff
      if (kind === Ev.Stop || kind === Ev.Idle) running = 0
      if (kind === Ev.Stamp || kind === Ev.Idle) continue
      const x = h >> 8
      const a = i[p + 1]
      const short = evWords(kind) !== EV_WORDS
      const b = short ? 0 : i[p + 2]
      const c = short ? 0 : i[p + 3]
      if (kind === Ev.Start || kind === Ev.StartLocal) curP = x
      const t = ts[e]
      if (kind === Ev.Switch) {
        // The M's running goroutine stops and a goroutine starts on its P:
        // a Stop and a Start at one time, and, if the one that stopped had
        // readied the one that starts, an Unblock before them (the flow
        // leaves the waker's slice at its end).
        const stopped = running
        running = a
        if (stopped !== 0) {
          if ((x & SWITCH_WOKE) !== 0) events.push({ owner: wr.owner, ts: t, kind: Ev.Unblock, a, b: stopped, c: 0, ifBlocked: true })
          events.push({ owner: wr.owner, ts: t, kind: Ev.Stop, a: stopped, b: x & 15, c: (x >> 4) & 63 })
        }
        events.push({ owner: wr.owner, ts: t, kind: Ev.Start, a, b: curP, c: -1 })
        continue
      }
      if (kind === Ev.StartLocal || kind === Ev.Start) running = a
      const ev: RawEvent = { owner: wr.owner, ts: t, kind, a, b, c }
      // The short kinds read back as their long ones.
      if (kind === Ev.StartLocal) {
        ev.kind = kind = Ev.Start
        ev.b = x
        events.push(ev)
        continue
      }
      if (kind === Ev.UnblockLocal) {
        ev.kind = kind = Ev.Unblock
        ev.b = running
        ev.c = x
        events.push(ev)
        continue
      }
      if (kind === Ev.UnblockX) {
        ev.kind = kind = Ev.Unblock
        ev.c = x & 0xff
        events.push(ev)
        continue
      }
      if (kind === Ev.Drain) continue
      // Back to the arguments chrome.ts reads: x moves into b or c.
      switch (kind) {
        case Ev.Create:
          ev.fn = b >= 0 ? fnName(b) : 'func'
          break
        case Ev.Start:
          ev.fn = b >= 0 ? fnName(b) : 'func'
          ev.b = x
          ev.c = b
          break
        case Ev.Stop:
          ev.b = x & 15
          ev.c = x >> 4
          break
        case Ev.Unblock:
          // c = 1: a wake-up on the M that counts only if the goroutine is blocked (mloop's traceWoken).
          if (c === 1) ev.ifBlocked = true
          ev.c = x
          break
        case Ev.Preempted:
          ev.b = x
          break
        case Ev.GoName:
          ev.fn = wr.names.get(b) ?? 'func'
          break
      }
      events.push(ev)
    }
  }
  return { events, dropped: Atomics.load(i, TR_DROPPED), base: f[TR_BASE_F] }
}

/**
 * How far apart keepCausal places the two ends of an edge across writers
 * (µs): strictly apart, since readers sort by time alone (chrome.ts), and
 * a tie between a wake-up and the start it leads to, on two writers, would
 * go to whichever writer's events come first (a flow from an Unblock placed
 * before the goroutine's first Start replaced its creation flow). 1 ns:
 * below any stamp's resolution, well above a double's step at the times of
 * a recording (µs since its base).
 */
const ORDER_GAP_US = 1e-3

/**
 * Makes the placed times of every writer agree with the order across
 * threads that the UnblockX and Drain events tell, where neither is
 * stamped. A wake-up across Ms, an UnblockX of goroutine g on the waker's
 * M with count n, is placed
 *  - no later than the first Drain on g's M whose count reaches n: the
 *    waker took n before that M loaded its count, and g starts after that
 *    Drain;
 *  - no earlier than g's last start on its M before that Drain: the run in
 *    which g parked (g cannot start again before it is drained).
 *
 * With each writer's own order these form a graph without cycles (the
 * order in which things happened). Two passes over it, Lamport-style:
 * backwards, each event's latest time (the next stamp, the next event's
 * latest, the latest of what must come after it); forwards, each event's
 * time, its placed one clamped to at least its predecessor's and that of
 * everything that must come before it, and to at most its latest. A stamp
 * keeps its time unless the order says later (threads' clocks that
 * disagree by a little). An edge that would close a cycle (a corrupted or
 * mixed-up stream) is dropped. tss is updated in place.
 */
function keepCausal(i: Int32Array, writers: Array<{ owner: number; ev: number[]; stampT: Map<number, number> }>, tss: Float64Array[]): void {
  const W = writers.length
  const byOwner = new Map<number, number>()
  writers.forEach((wr, k) => byOwner.set(wr.owner, k))
  // Each writer's Drains (positions, counts) and each goroutine's starts on it, in order.
  const drainAt: number[][] = writers.map(() => [])
  const drainN: number[][] = writers.map(() => [])
  const startsOf = writers.map(() => new Map<number, number[]>())
  writers.forEach((wr, k) => {
    for (let e = 0; e < wr.ev.length; e++) {
      const p = wr.ev[e]
      const kind = i[p] & 0xff
      if (kind === Ev.Drain) {
        drainAt[k].push(e)
        drainN[k].push(i[p + 1])
      } else if (kind === Ev.Start || kind === Ev.StartLocal || kind === Ev.Switch) {
        const list = startsOf[k].get(i[p + 1])
        if (list === undefined) startsOf[k].set(i[p + 1], [e])
        else list.push(e)
      }
    }
  })
  /** The first index of the sorted list xs at which at(x) holds (xs.length: none). */
  const first = (n: number, at: (q: number) => boolean): number => {
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (at(mid)) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  // Edges, each (k, e) -> (k2, e2): kept in both directions, as flat [k, e, ...] lists per event.
  const succ = writers.map(() => new Map<number, number[]>())
  const pred = writers.map(() => new Map<number, number[]>())
  const add = (m: Map<number, number[]>, e: number, k: number, e2: number): void => {
    const list = m.get(e)
    if (list === undefined) m.set(e, [k, e2])
    else list.push(k, e2)
  }
  const edge = (k: number, e: number, k2: number, e2: number): void => {
    add(succ[k], e, k2, e2)
    add(pred[k2], e2, k, e)
  }
  let edges = 0
  writers.forEach((wr, k) => {
    for (let e = 0; e < wr.ev.length; e++) {
      const p = wr.ev[e]
      if ((i[p] & 0xff) !== Ev.UnblockX) continue
      const k2 = byOwner.get(i[p] >>> 16)
      if (k2 === undefined || k2 === k) continue
      const n = i[p + 3]
      const ns = drainN[k2]
      // Counts wrap as int32.
      const d = first(ns.length, (q) => ((ns[q] - n) | 0) >= 0)
      if (d === ns.length) continue // its M's drain was not recorded
      const j = drainAt[k2][d]
      edge(k, e, k2, j)
      const starts = startsOf[k2].get(i[p + 1])
      if (starts !== undefined) {
        const s = first(starts.length, (q) => starts[q] > j) - 1
        if (s >= 0) edge(k2, starts[s], k, e)
      }
      edges++
    }
  })
  if (edges === 0) return
  const stampAt = writers.map((wr) => {
    const a = new Float64Array(wr.ev.length).fill(NaN)
    for (const [e, t] of wr.stampT) a[e] = t
    return a
  })
  let total = 0
  for (const wr of writers) total += wr.ev.length
  /** Drops edge (k, e) -> (k2, e2). */
  const drop = (k: number, e: number, k2: number, e2: number): void => {
    const cut = (list: number[], a: number, b: number): void => {
      for (let q = 0; q < list.length; q += 2) {
        if (list[q] === a && list[q + 1] === b) {
          list.splice(q, 2)
          return
        }
      }
    }
    cut(succ[k].get(e)!, k2, e2)
    cut(pred[k2].get(e2)!, k, e)
  }

  // Backwards: the latest time of each event. cur[k]: the next event of writer k to do.
  const H = writers.map((wr) => new Float64Array(wr.ev.length))
  const cur = writers.map((wr) => wr.ev.length - 1)
  /** An edge out of (k, e) to an event not done yet (its index in the list), or -1. */
  const waitsAfter = (k: number, e: number): number => {
    const list = succ[k].get(e)
    if (list !== undefined) for (let q = 0; q < list.length; q += 2) if (cur[list[q]] >= list[q + 1]) return q
    return -1
  }
  for (let left = total; left > 0;) {
    let moved = false
    for (let k = 0; k < W; k++) {
      const h = H[k]
      const st = stampAt[k]
      // cur[k] moves with e: an edge within one writer sees its own progress.
      for (let e = cur[k]; e >= 0; e = --cur[k]) {
        let hi = e + 1 < h.length ? h[e + 1] : Infinity
        if (!Number.isNaN(st[e])) hi = Math.min(hi, st[e])
        const list = succ[k].get(e)
        if (list !== undefined) {
          if (waitsAfter(k, e) >= 0) break
          for (let q = 0; q < list.length; q += 2) hi = Math.min(hi, H[list[q]][list[q + 1]] - ORDER_GAP_US)
        }
        h[e] = hi
        left--
        moved = true
      }
    }
    if (!moved) {
      // A cycle: drop an edge one writer waits on.
      const k = cur.findIndex((e, k) => e >= 0 && waitsAfter(k, e) >= 0)
      const list = succ[k].get(cur[k])!
      const q = waitsAfter(k, cur[k])
      drop(k, cur[k], list[q], list[q + 1])
    }
  }

  // Forwards: each event's time.
  const T = writers.map((wr) => new Float64Array(wr.ev.length))
  cur.fill(0)
  /** An edge into (k, e) from an event not done yet (its index in the list), or -1. */
  const waitsBefore = (k: number, e: number): number => {
    const list = pred[k].get(e)
    if (list !== undefined) for (let q = 0; q < list.length; q += 2) if (cur[list[q]] <= list[q + 1]) return q
    return -1
  }
  for (let left = total; left > 0;) {
    let moved = false
    for (let k = 0; k < W; k++) {
      const t = T[k]
      const ts = tss[k]
      const h = H[k]
      const st = stampAt[k]
      for (let e = cur[k]; e < t.length; e = ++cur[k]) {
        let lo = e > 0 ? t[e - 1] : -Infinity
        const list = pred[k].get(e)
        if (list !== undefined) {
          if (waitsBefore(k, e) >= 0) break
          for (let q = 0; q < list.length; q += 2) lo = Math.max(lo, T[list[q]][list[q + 1]] + ORDER_GAP_US)
        }
        t[e] = Number.isNaN(st[e]) ? Math.max(lo, Math.min(ts[e], h[e])) : Math.max(lo, st[e])
        left--
        moved = true
      }
    }
    if (!moved) {
      const k = cur.findIndex((e, k) => e < T[k].length && waitsBefore(k, e) >= 0)
      const list = pred[k].get(cur[k])!
      const q = waitsBefore(k, cur[k])
      drop(list[q], list[q + 1], k, cur[k])
    }
  }
  for (let k = 0; k < W; k++) tss[k].set(T[k])
}
