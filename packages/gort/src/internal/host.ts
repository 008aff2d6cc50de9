// The host: the runtime's part on the thread that started it (usually the
// app's main thread). It is not an M and never blocks. It holds what Go's
// runtime does at its edges: schedinit (the heap, the idle Ps), the Ms'
// threads (newm.ts) and sysmon's (sysmonctl.ts), the spawns of the app
// (rt.go: Go's newproc), the completion loop that settles the app's
// promises, the app's own blocking operations (host waiters), its ref on
// the app's event loop, and the deadlock watch (checkdead.ts). The public
// Runtime (../runtime.ts) is a facade over one Host.
//
// Usable at once. Host.create does all of it synchronously: the heap, the
// Ms' workers (their threads boot on their own, in parallel), the
// completion loop, the deadlock watch. A goroutine spawned before any M is
// up waits in shared memory, and the first M to reach its loop takes it;
// nothing on the way needs the app's event loop to turn, so an app that
// spawns and then blocks its thread (Atomics.wait on a word the goroutine
// will notify) sees the goroutine run. `firstReady` settles when the first
// initial M is up (Runtime.start awaits it), `ready` when every one is; a
// start that fails stops everything, and whatever the app awaits rejects.
// sysmon's thread starts with the first work (wantSysmon), a spare M on
// demand (newm.ts spare): an idle runtime holds only its initial Ms.
//
// Finding the host. A channel, WaitGroup, Mutex, select or context is a
// record in one runtime's shared heap, and an operation the app awaits on
// it must be completed by that runtime's completion loop. So a record
// reaches its host through its heap (heapHost(heap)), never through a
// "current runtime": two runtimes in one app each complete their own.
//
// Spawns. rt.go takes a G record from this thread's cache and fills it
// (proc.ts newproc), counts it in sched.gcount and pushes it onto the
// global queue's lock-free inject stack (injectglist), which wakes an idle
// M if none spins (wakep), as Go's newproc does per go statement; the
// app's thread sends no message per goroutine. If no M can take it
// (startm found none idle), the M that startm asked for is started before
// rt.go returns. Spawns used to be batched until the end of the microtask
// (one push per 256): a goroutine was then invisible to the Ms until the
// app's code yielded, and an app that blocked its thread right after
// rt.go waited forever. Pushing each costs three atomic operations more
// per spawn (docs/benchmarks.md, "Starting and spawning", has the cost).
//
// Completions. Ms push finished awaited goroutines, and host waiters that
// a partner completed, on sched.donehead (proc.ts pushDone). The loop takes
// the whole stack with one exchange, settles the promises, then lets the
// app's continuations run. When the stack is empty it stores
// sched.hostwaiting = 1, checks the stack again, and waits with
// Atomics.waitAsync; an M pushing onto an empty stack notifies only if
// hostwaiting is set (a Dekker pair: each side stores, then loads).
//
// Refs. A pending Atomics.waitAsync does not keep Node's event loop alive,
// and the Ms and sysmon are unref'd. The host holds one ref'd timer while
// the app awaits something of the runtime (a result, an operation, a
// control request) or a goroutine is alive, except when checkdead has
// proven that nothing inside can run (then only the app can wake them). So
// an app that never calls close() exits when nothing is left to do, as
// with a piscina pool. Goroutines nobody awaits are seen gone by polling
// sched.gcount (it reads high while Ms hold count credit, never low).
//
// Who calls what: everything here runs on the host's thread.

import type { Worker } from 'node:worker_threads'
import { watchCollections } from './gc.js'
import { takeResult } from './gvalue.js'
import { SharedHeap } from './heap.js'
import { gbase, mbase, schedw, G_FLAGS, G_FN, G_GOID, G_M, G_WAITSINCE, G_SCHEDLINK, G_STATUS, M_NGS, SCHED_CLOSING, SCHED_DONEHEAD, SCHED_GCOUNT, SCHED_HOSTWAITING } from './layout.js'
import { Checkdead, DeadlockError, nothingCanRun } from './checkdead.js'
import { Ms, ThreadLostError, type ResourceLimits, type ThreadExit } from './newm.js'
import { sabclose, sabjoin, setSabAnswererHook } from './codec/sabs.js'
import { gcount, gfflush, gfput, injectglist, newproc, pidleput, setNewmHandoff } from './proc.js'
import { ArenaWait } from './arenawait.js'
import { describeFn, funcKey, goroutineMeta } from './registry.js'
import { Gflags, Gstatus } from './runtime2.js'
import { readStats, type RuntimeStats } from './stats.js'
import { schedtrace, type SysmonView } from './sysmon.js'
import { parseGodebug, SysmonThread } from './sysmonctl.js'
import { tracebackothers } from './traceback.js'
import { fatalpanic, printpanics } from './panic.js'
import { writeAllSync } from './stdio.js'
import { Ev, newTraceBuffer, OWNER_HOST, readEvents, traceBegin, traceEnd, traceUnpublished, TraceWriter, type RawEvent } from './trace/buffer.js'
import { traceCounters } from './trace/counters.js'
import { cancelPending, clearCancel, requestCancel, sinceStart, type CancelOptions } from './cancel.js'
import { hostsByHeap } from './hostref.js'

/**
 * How long after a cancellation with a grace period a goroutine still
 * running without a safe point gets its M's replacement started (Ms.standby):
 * a yielding goroutine sees the request within microseconds, so one still
 * running after this is likely a loop that will be terminated.
 */
const STANDBY_AFTER_MS = 20

/** What the facade has validated: every option, with its default. */
export interface HostConfig {
  procs: number
  maxGoroutines: number
  heapSize: number
  /** Bytes of the execution tracer's buffer (trace/buffer.ts). */
  traceBufferBytes: number
  maxThreads: number
  /** Ms created at once (the runtime's `ready` waits for them). */
  initialThreads: number
  /** The idle timeout retires Ms only while more than this many live (0: no floor but the spare). */
  minThreads: number
  modules: string[]
  runawayMs: number
  godebug: string
  main: boolean
  mIdleTimeoutMs: number
  resourceLimits?: ResourceLimits
  /** The call that made the runtime, for start errors: 'Runtime.start' or 'Runtime.create'. */
  where: string
}

/** How the host tells its facade what happened (the facade's events). */
export interface HostEvents {
  /** A failure nobody asked for; returns false when nobody listens. */
  error(err: Error): boolean
  deadlock(dump: string): void
  close(): void
  /** An M's worker was created (told a microtask later, so that listeners added after Runtime.create hear of the first Ms). */
  threadCreate(w: Worker, mid: number): void
  /** An M's thread ended. */
  threadExit(w: Worker, why: ThreadExit): void
  /** A goroutine posted v to its M's parentPort. */
  message(v: unknown, w: Worker): void
}

/** A promise's settling functions, as the completion loop calls them. */
export { heapHost, runtimeHeap, runtimeHost, setRuntimeHost } from './hostref.js'

interface Waiter {
  resolve(v: unknown): void
  reject(e: unknown): void
}

/** An 'error' event's value: a thrown non-Error is wrapped, with the value as its cause. */
function asError(v: unknown, goid: number): Error {
  if (v instanceof Error) return v
  return Object.assign(new Error(`goroutine ${goid} failed with a non-Error value: ${String(v)}`, { cause: v }), { goid })
}

/** HostGoroutine.cancel and CallbackGoroutine.cancel: checks the options, then asks the host. */
function cancelG(host: Host | undefined, gp: number, w: Waiter, reason: unknown, options: CancelOptions): boolean {
  if (options === null || typeof options !== 'object') throw new TypeError('cancel: options must be an object')
  const { graceMs } = options
  if (graceMs !== undefined && (typeof graceMs !== 'number' || Number.isNaN(graceMs) || graceMs < 0)) {
    throw new RangeError(`cancel: graceMs must be a number of milliseconds of at least 0 (Infinity: never terminate), got ${String(graceMs)}`)
  }
  return host?.cancel(gp, w, reason, graceMs) ?? false
}

/**
 * What rt.go returns. Its result promise is made when first asked for: a
 * goroutine whose result nobody reads (Go's `go f()`) costs the app this
 * object until it finishes, not a promise and its resolving functions too
 * (a million parked goroutines: about 220 MB less on the app's thread).
 * If it fails before anyone asked, the failure goes to the runtime's
 * 'error' listeners; with none, it rejects a promise nobody handles, which
 * Node reports as an unhandled rejection (as for an unread rt.run()).
 */
export class HostGoroutine<R> implements Waiter {
  private p: Promise<R> | undefined
  private res: ((v: R) => void) | undefined
  private rej: ((e: unknown) => void) | undefined
  /** The value, once the goroutine has returned before anyone asked for the result. */
  private v: R | undefined
  private state: 'running' | 'returned' | 'failed' = 'running'
  private err: unknown

  constructor(
    readonly id: number,
    private readonly events: HostEvents,
    /** @internal */ readonly gp = 0,
    private readonly host: Host | undefined = undefined,
  ) {}

  /**
   * Asks the goroutine to stop (cancel.ts): reason is thrown in at its next
   * safe point (a yield, gosched, sleep or until; before it starts, it
   * never runs). With graceMs, a goroutine still running without having
   * reached a safe point after that long has its M terminated. Returns
   * false if it has finished or was already asked.
   */
  cancel(reason?: unknown, options: CancelOptions = {}): boolean {
    return cancelG(this.host, this.gp, this, reason, options)
  }

  /** Someone asked for the result. */
  get asked(): boolean {
    return this.p !== undefined
  }

  get result(): Promise<R> {
    if (this.p === undefined) {
      if (this.state === 'returned') this.p = Promise.resolve(this.v as R)
      else if (this.state === 'failed') this.p = Promise.reject(this.err)
      else {
        this.p = new Promise<R>((res, rej) => {
          this.res = res
          this.rej = rej
        })
      }
    }
    return this.p
  }

  resolve(v: unknown): void {
    if (this.res !== undefined) this.res(v as R)
    else if (this.p === undefined) {
      this.v = v as R
      this.state = 'returned'
    }
  }

  reject(e: unknown): void {
    if (this.rej !== undefined) {
      this.rej(e)
      return
    }
    if (this.p !== undefined) return
    this.state = 'failed'
    this.err = e
    if (!this.events.error(asError(e, this.id))) this.p = Promise.reject(e)
  }

  /** The runtime was destroyed: the result rejects with err if asked for, and nothing is reported. */
  abandon(err: Error): void {
    if (this.rej !== undefined) this.rej(err)
    else if (this.p === undefined) {
      this.state = 'failed'
      this.err = err
    }
  }
}

/**
 * A goroutine of the app whose end goes straight to a callback, with the
 * owner it was given: no promise, no resolving functions, no microtask
 * (gort/pool's tasks, thousands a second). The callback runs inside the
 * host's completion loop, so it must not throw; it may spawn.
 */
export class CallbackGoroutine<O> implements Waiter {
  /** @internal Spawned Gtimed (gort/pool's tasks, the only timed spawns): how long it ran on its M, in ms, once it has ended (-1: not known). */
  ranMs = -1

  // Six fields, not HostGoroutine's thirteen: a pool keeps one per task in
  // the runtime (thousands), and on the app's thread they outlive a
  // scavenge or two, so their bytes are copied (docs/pool.md, tiny tasks).
  constructor(
    readonly id: number,
    /** @internal */ readonly gp: number,
    private readonly host: Host,
    readonly owner: O,
    private readonly cb: (owner: O, g: CallbackGoroutine<O>, failed: boolean, v: unknown) => void,
  ) {}

  /** As HostGoroutine.cancel. */
  cancel(reason?: unknown, options: CancelOptions = {}): boolean {
    return cancelG(this.host, this.gp, this, reason, options)
  }

  resolve(v: unknown): void {
    this.cb(this.owner, this, false, v)
  }

  /** Its failure, or the runtime's end (destroy, a lost thread): the callback hears it either way. */
  reject(e: unknown): void {
    this.cb(this.owner, this, true, e)
  }
}

export class Host {
  readonly ms: Ms
  /** Created with the first work, once every initial M is up (wantSysmon), or at once when needed (startSysmon). */
  private sysmon: SysmonThread | undefined
  /** Work arrived (or tracing is on): sysmon starts once every initial M is up. */
  private sysmonWanted = false
  /** Every initial M is in its loop (`ready` resolved). */
  private bootDone = false
  readonly startTime = Date.now()
  /** By G record: whom its completion settles (a goroutine's result, a host waiter's operation). */
  /**
   * Who hears the notes from goroutine modules on the Ms (mmsg.ts
   * postNote): gort/pool and gort/bullmq add a listener each, so one
   * runtime can serve a pool and Workers at once. Each ignores the notes
   * that are not its own.
   */
  readonly noteListeners = new Set<(note: unknown) => void>()
  private readonly waiters: Array<Waiter | undefined> = []
  private nwaiters = 0
  /** startm asked for an M (the newm hook) and it has not been started yet. */
  private newmWanted = false
  /** Why the start failed, once it has: spawns throw it. */
  private startError: Error | undefined
  /** Settles when every initial M is in its loop; rejects if the start failed (then nothing is left running). */
  readonly ready: Promise<void>
  /**
   * Settles when the first initial M is in its loop (work runs from then
   * on), or rejects if the start failed before that: Runtime.start's.
   */
  readonly firstReady: Promise<void>
  private readyHeld: Promise<void> | undefined
  private firstHeld: Promise<void> | undefined

  /**
   * `ready`, for someone who waits for it: the app's event loop is held
   * until it settles (a pending promise holds nothing, and the threads are
   * unref'd). A runtime nobody asks does not hold the loop while it boots:
   * an app that created one and did nothing with it exits. Not an
   * unhandled rejection if the asker drops it.
   */
  askReady(): Promise<void> {
    if (this.readyHeld === undefined) {
      this.readyHeld = this.hold(this.ready)
      this.readyHeld.catch(() => {})
    }
    return this.readyHeld
  }

  /** `firstReady`, held as askReady holds `ready` (Runtime.start). */
  askFirstReady(): Promise<void> {
    if (this.firstHeld === undefined) {
      this.firstHeld = this.hold(this.firstReady)
      this.firstHeld.catch(() => {})
    }
    return this.firstHeld
  }
  /** close() or destroy() was called: no new goroutines. */
  private closing = false
  /** Which of them. */
  endedBy: 'close' | 'destroy' | undefined
  closed = false
  /** Stops the host's watch for collection requests (gc.ts). */
  private stopCollections: () => void = () => {}
  private readonly checkdead: Checkdead
  /** As a program's main: the SIGQUIT handler (sigquit), removed at shutdown. */
  private readonly onSigquit: (() => void) | undefined
  /** The host's one ref on the app's event loop, taken and dropped with ref()/unref(). */
  private readonly keepAlive = setInterval(() => {}, 1 << 30)
  private refd = true
  /** Requests out on sysmon's control plane. */
  private holds = 0
  /** The gcount poll runs (goroutines nobody awaits keep the loop open until they are gone). */
  private polling = false

  private constructor(
    readonly heap: SharedHeap,
    readonly procs: number,
    private readonly config: HostConfig,
    private readonly events: HostEvents,
  ) {
    this.ms = new Ms(heap, {
      maxThreads: config.maxThreads, modules: config.modules, mIdleTimeoutMs: config.mIdleTimeoutMs, keepMs: config.minThreads,
      where: config.where, reportCap: config.maxThreads > procs, ...(config.resourceLimits !== undefined ? { resourceLimits: config.resourceLimits } : {}),
    }, {
      report: (err) => this.report(err),
      lost: (gp, mid, cause) => this.lost(gp, mid, cause),
      // A microtask later: the first Ms are created before Runtime.create
      // returns, when nobody listens yet. (Still before the thread's exit
      // event, a macrotask.)
      created: (w, mid) => queueMicrotask(() => events.threadCreate(w, mid)),
      exited: (w, why) => events.threadExit(w, why),
      message: (v, w) => events.message(v, w),
      note: (v) => {
        for (const f of this.noteListeners) f(v)
      },
      sysmon: () => this.startSysmon(),
    })
    // startm calls this hook holding sched.lock; newm takes sched.lock too
    // (the host spins on it): so start the M after the caller unlocks.
    setNewmHandoff(heap, () => this.wantNewm())
    this.checkdead = new Checkdead({
      heap, procs,
      nms: () => this.ms.workers.length,
      closing: () => this.closing,
      unflushed: () => this.argqs?.length ?? 0,
      nwaiters: () => this.nwaiters,
      awaited: () => this.awaited(),
      deadlock: (dump) => this.deadlock(dump),
      failAwaited: (err) => this.failAwaited(err),
      asleepChanged: () => this.updateRef(),
    })
    void this.completionLoop()
    this.stopCollections = watchCollections(heap)
    if (config.main) {
      // Signal handlers do not hold the event loop (Node unrefs them).
      this.onSigquit = () => this.sigquit()
      process.on('SIGQUIT', this.onSigquit)
    }
    // The threads: the initial Ms now, in parallel. sysmon starts with the
    // first work once they are all up (wantSysmon), and a spare M on
    // demand (Ms.spare): neither is needed by an idle runtime, and each
    // costs a thread's boot and ~10 MB (docs/design/scheduler.md,
    // "Starting").
    setSabAnswererHook(heap, () => this.startSysmon())
    const boot = this.ms.boot(config.initialThreads)
    // GODEBUG=schedtrace: sysmon prints the trace, from the start on. It
    // boots with the Ms, and Runtime.start waits for it too.
    const tracing = (Number(parseGodebug(config.godebug).get('schedtrace') ?? 0) || 0) > 0 ? this.startSysmon()?.ready : undefined
    const fail = (e: unknown): Promise<never> => this.failStart(e instanceof Error ? e : new Error(String(e)))
    this.firstReady = Promise.all([boot.first, tracing]).then(() => {}, fail)
    this.ready = boot.all.then(
      () => {
        this.bootDone = true
        if (this.sysmonWanted) this.startSysmon()
      },
      fail,
    )
    // Not an unhandled rejection if nobody awaits it: the failure reaches
    // the app through what it awaits (results reject with it) and through
    // spawns (they throw it).
    this.ready.catch(() => {})
    this.firstReady.catch(() => {})
  }

  /**
   * Go's schedinit and the threads' start, synchronously: creates the
   * shared heap with every P idle, the initial Ms' workers (their threads
   * boot on their own, in parallel), the completion loop and the deadlock
   * watch. Goroutines can be spawned at once; `firstReady` says when the
   * first M is up, `ready` when every initial M is.
   */
  static create(config: HostConfig, events: HostEvents): Host {
    const { procs } = config
    const heap = SharedHeap.create({
      maxProcs: procs, runqSize: 256, maxMs: config.maxThreads + 1, maxGs: config.maxGoroutines + 1, arenaBytes: config.heapSize & ~7,
    })
    // Every P starts idle, P0 first: Ms find them when work arrives (wakep, startm).
    for (let i = procs - 1; i >= 0; i--) pidleput(heap, i)
    // The execution tracer's buffer (trace/buffer.ts): the Ms and sysmon get it in workerData.
    heap.tw = new TraceWriter(newTraceBuffer(config.traceBufferBytes), OWNER_HOST, 0)
    // Before any thread exists: the host hears every SharedArrayBuffer posted (codec/sabs.ts).
    sabjoin(heap)
    const host = new Host(heap, procs, config, events)
    hostsByHeap.set(heap, host)
    host.updateRef()
    return host
  }

  /**
   * The start failed (an initial M died before its loop, or could not
   * import an eager module): everything stops, whatever the app awaits
   * rejects with err, and later spawns throw it. Rejects with err (ready's
   * rejection).
   */
  private async failStart(err: Error): Promise<never> {
    if (this.startError === undefined && !this.closing) {
      this.startError = err
      this.closing = true
      this.endedBy = 'destroy'
      this.rejectAll(err)
      await this.shutdown()
    }
    throw err
  }

  // -------------------------------------------------------------------------
  // Starting sysmon.

  /**
   * Work arrived: sysmon is wanted, and starts now if every initial M is
   * up, else when they are (a thread booting beside them would delay the
   * first result on a machine with few cores). Until it is up, a goroutine
   * that runs away keeps its P.
   */
  private wantSysmon(): void {
    if (this.sysmon !== undefined || this.closed) return
    this.sysmonWanted = true
    if (this.bootDone) this.startSysmon()
  }

  /**
   * Creates sysmon's thread now, once (it boots on its own): with the first
   * work (wantSysmon), for a control request, or when a SharedArrayBuffer
   * is sent before it is up (it answers late subscribers: codec/sabs.ts
   * awaitAnswerer). Returns it, or undefined once the runtime is closed.
   */
  private startSysmon(): SysmonThread | undefined {
    if (this.sysmon !== undefined || this.closed) return this.sysmon
    const godebug = parseGodebug(this.config.godebug)
    this.sysmon = new SysmonThread(this.heap, {
      runawayMs: this.config.runawayMs,
      schedtrace: Number(godebug.get('schedtrace') ?? 0) || 0,
      scheddetail: godebug.get('scheddetail') === '1',
      startTime: this.startTime,
    }, {
      newmHandoff: () => this.ms.newmHandoff(),
      spare: () => this.ms.spare(),
      report: (err) => this.report(err),
    })
    return this.sysmon
  }

  // -------------------------------------------------------------------------
  // Starting Ms.

  /**
   * startm's newm hook on the host: it is called holding sched.lock, and
   * newm takes it, so the M is started when the caller has let go: at the
   * end of the spawn that asked (publish), else in a microtask.
   */
  private wantNewm(): void {
    if (this.newmWanted) return
    this.newmWanted = true
    queueMicrotask(() => this.newmNow())
  }

  private newmNow(): void {
    if (!this.newmWanted) return
    this.newmWanted = false
    this.ms.newmHandoff()
  }

  /** Starts one more M now if the cap allows (gort/pool's growth); returns whether it did. */
  grow(): boolean {
    return !this.closing && this.ms.grow()
  }

  /** The Ms' workers whose thread has not ended, oldest first. */
  threads(): readonly Worker[] {
    return this.ms.live
  }

  /**
   * For gort/pool's idleThreads: live Ms on which no goroutine lives
   * (`idle`), and the goroutines living on live Ms (`living`).
   */
  mload(): { idle: number; living: number } {
    const m = this.heap.i32
    const l = this.heap.layout
    let idle = 0
    let living = 0
    for (const w of this.ms.live) {
      const mid = this.ms.workers.indexOf(w)
      if (mid < 0) continue
      const n = Atomics.load(m, mbase(l, mid) + M_NGS)
      if (n === 0) idle++
      living += n
    }
    return { idle, living }
  }

  // -------------------------------------------------------------------------
  // Spawning.

  /**
   * Starts fn(...args) as a goroutine (Go's newproc, from the app): its
   * result goes to waiter, or to a HostGoroutine (returned) if none is
   * given, a CallbackGoroutine if cb is. Throws at the call site:
   * TypeError for an unregistered function, RangeError when the G table is
   * full, DataCloneError for arguments.
   */
  spawn<O>(
    fn: unknown, args: unknown[], waiter: Waiter | undefined, flags = 0,
    owner?: O, cb?: (owner: O, g: CallbackGoroutine<O>, failed: boolean, v: unknown) => void,
  ): Waiter {
    if (this.startError !== undefined) {
      throw new Error(`go: the runtime failed to start: ${this.startError.message}`, { cause: this.startError })
    }
    if (this.closing) {
      throw new Error(this.endedBy === 'destroy'
        ? 'go: the runtime was destroyed (destroy() was called); no new goroutines can start'
        : 'go: the runtime is closing (close() was called); no new goroutines can start')
    }
    if (this.ms.broken !== undefined) throw this.ms.broken
    const meta = goroutineMeta(fn)
    if (meta === undefined) {
      throw new TypeError(
        `go: ${describeFn(fn)} is not a registered goroutine function; export it from a module through ` +
          'goroutines(import.meta.url, { *name(...) { ... } }) so that every M can load it',
      )
    }
    if (this.sysmon === undefined && !this.sysmonWanted) this.wantSysmon()
    const h = this.heap
    let gp: number
    try {
      gp = newproc(h, meta, args, Gflags.Gawaited | Gflags.Ghost | flags, true, this.putArgs)
    } catch (e) {
      // One failure mode per call (docs/design/errors.md): rt.run rejects, rt.go throws.
      if (waiter === undefined) throw e
      waiter.reject(e)
      return waiter
    }
    // Counted into sched.gcount by publish, before anyone can see it.
    const goid = h.i32[gbase(h.layout, gp) + G_GOID]
    const tw = h.tw
    if (tw.on[0] !== 0) tw.emit(Ev.Create, goid, h.i32[gbase(h.layout, gp) + G_FN], 0)
    waiter ??= cb !== undefined ? new CallbackGoroutine(goid, gp, this, owner as O, cb) : new HostGoroutine(goid, this.events, gp, this)
    this.waiters[gp] = waiter
    if (this.nwaiters++ === 0 || !this.refd) this.active()
    if (this.argsIn) this.publish(gp)
    return waiter
  }

  /**
   * newproc's put for the app's spawns (made once, not per spawn): the
   * arguments go in now (argsIn), or wait for arena space in argq, which
   * calls publish(gp) once they are in.
   */
  private readonly putArgs = (gp: number, args: unknown[]): void => {
    this.argsIn = this.argq.put(gp, args)
  }
  private argsIn = true

  private argqs: ArenaWait | undefined
  /** Spawns whose arguments wait for arena space (arenawait.ts). */
  private get argq(): ArenaWait {
    return this.argqs ??= new ArenaWait(this.heap, (gp) => this.publish(gp), (gp, e) => {
      const w = this.waiters[gp]
      if (w !== undefined) {
        this.waiters[gp] = undefined
        if (--this.nwaiters === 0) this.updateRef()
        w.reject(e)
      }
      gfput(this.heap, gp)
    })
  }

  /**
   * Makes G gp, its arguments in place, runnable: counts it, pushes it onto
   * the global queue (injectglist wakes an idle M if none spins), and
   * starts the M that startm asked for meanwhile, if any: when this
   * returns, an M has the work or is on its way to it.
   */
  private publish(gp: number): void {
    const h = this.heap
    if (this.batchDepth !== 0) {
      // Held back until batchEnd: chained through G.schedlink, oldest first.
      if (this.batchN === 0) this.batchHead = gp
      else h.i32[gbase(h.layout, this.batchTail) + G_SCHEDLINK] = gp
      this.batchTail = gp
      this.batchN++
      return
    }
    Atomics.add(h.i32, schedw(h.layout, SCHED_GCOUNT), 1)
    injectglist(h, gp, gp, 1)
    if (this.newmWanted) this.newmNow()
  }

  private batchDepth = 0
  private batchHead = 0
  private batchTail = 0
  private batchN = 0

  /**
   * Spawns from here to batchEnd are published together: one injection
   * into the global queue and one round of wake-ups for all of them,
   * instead of one per spawn (gort/pool hands many tasks over at once).
   * Nothing runs before batchEnd; nests.
   */
  batchBegin(): void {
    this.batchDepth++
  }

  batchEnd(): void {
    if (--this.batchDepth !== 0 || this.batchN === 0) return
    const h = this.heap
    const n = this.batchN
    this.batchN = 0
    Atomics.add(h.i32, schedw(h.layout, SCHED_GCOUNT), n)
    injectglist(h, this.batchHead, this.batchTail, n)
    if (this.newmWanted) this.newmNow()
  }

  /** Live goroutines (Go's runtime.NumGoroutine), with the spawns waiting for arena space. */
  numGoroutine(): number {
    return gcount(this.heap) + (this.argqs?.length ?? 0)
  }

  // -------------------------------------------------------------------------
  // The app's blocking operations.

  /**
   * Go's gopark for the app's thread: resolves when host waiter record gp,
   * queued by a channel, sync or select operation, is readied (goready
   * pushes it to the completion stack). Rejects with a DeadlockError if
   * nothing can ever ready it (checkdead.ts).
   */
  park(gp: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters[gp] = { resolve: resolve as (v: unknown) => void, reject }
      if (this.nwaiters++ === 0 || !this.refd) this.active()
    })
  }

  /**
   * An operation of the app's thread that nothing can ever complete (a nil
   * channel's send or receive, a select of nil channels only): Go blocks
   * forever. It holds the app's event loop like any wait, and rejects with
   * a DeadlockError once checkdead proves nothing can run, so that an app
   * blocked on it ends as a Go program does, with the error instead of a
   * silent hang.
   */
  parkForever(): Promise<never> {
    return new Promise<never>((_, reject) => {
      this.forever.add(reject)
      if (this.nwaiters++ === 0 || !this.refd) this.active()
    })
  }
  private readonly forever = new Set<(e: unknown) => void>()

  // -------------------------------------------------------------------------
  // The ref on the app's event loop.

  /** The app started something: whatever checkdead proved no longer holds, and the loop is held. */
  private active(): void {
    this.checkdead.wake()
    this.updateRef()
  }

  /** Takes or drops the ref: held while the app awaits something or a goroutine is alive, unless all are asleep. */
  private updateRef(): void {
    const busy = this.nwaiters > 0 || this.holds > 0 || gcount(this.heap) > 0
    const want = !this.closed && busy && this.checkdead.asleep !== true
    if (want !== this.refd) {
      this.refd = want
      if (want) this.keepAlive.ref()
      else this.keepAlive.unref()
    }
    // Only goroutines nobody awaits hold it: see them gone.
    if (want && this.nwaiters === 0 && this.holds === 0 && !this.polling) {
      this.polling = true
      const poll = (): void => {
        this.polling = false
        this.updateRef()
      }
      setTimeout(poll, 10).unref()
    }
  }

  /** A waiter settled. */
  private settled(): void {
    if (--this.nwaiters === 0) this.updateRef()
  }

  /** Holds the loop while the app awaits a control request (sysmon's). */
  private async hold<T>(p: Promise<T>): Promise<T> {
    if (this.holds++ === 0) this.updateRef()
    try {
      return await p
    } finally {
      if (--this.holds === 0) this.updateRef()
    }
  }

  // -------------------------------------------------------------------------
  // Completions.

  /**
   * Collects finished goroutines and completed host waiters from the
   * completion stack until the runtime closes. Waits with
   * Atomics.waitAsync after announcing itself in sched.hostwaiting.
   */
  private async completionLoop(): Promise<void> {
    const h = this.heap
    const m = h.i32
    const d = schedw(h.layout, SCHED_DONEHEAD)
    const hw = schedw(h.layout, SCHED_HOSTWAITING)
    while (!this.closed) {
      const list = Atomics.exchange(m, d, 0)
      if (list !== 0) {
        this.complete(list)
        // Let the app's continuations run before the next batch.
        await new Promise((r) => setImmediate(r))
        continue
      }
      // Dekker pair with pushDone: store hostwaiting, then load donehead.
      Atomics.store(m, hw, 1)
      if (Atomics.load(m, d) === 0) {
        const r = Atomics.waitAsync(m, d, 0)
        if (r.async) await r.value
      }
      Atomics.store(m, hw, 0)
    }
  }

  /** Settles the goroutines and host waiters on a completion list. */
  private complete(list: number): void {
    const h = this.heap
    const m = h.i32
    const l = h.layout
    for (let gp = list; gp !== 0;) {
      const gb = gbase(l, gp)
      const next = m[gb + G_SCHEDLINK]
      const flags = m[gb + G_FLAGS]
      if ((flags & Gflags.Ghostwait) !== 0) {
        // An operation of the app's thread was completed by a partner. The
        // record is no goroutine: back to the free records as dead (a
        // record left runnable there would show in stats and dumps).
        m[gb + G_FLAGS] = 0
        m[gb + G_STATUS] = Gstatus.Gdead
        const w = this.waiters[gp]
        this.waiters[gp] = undefined
        gfput(h, gp)
        if (w !== undefined) {
          this.settled()
          w.resolve(undefined)
        }
        gp = next
        continue
      }
      const goid = m[gb + G_GOID]
      let value: unknown
      try {
        value = takeResult(h, gb)
      } catch (e) {
        value = e
      }
      m[gb + G_FLAGS] = 0
      const failed = (flags & Gflags.Gfailed) !== 0
      if (failed && value !== null && typeof value === 'object' && !('goid' in value)) {
        try {
          ;(value as { goid?: number }).goid = goid
        } catch {
          // leave it
        }
      }
      clearCancel(h, gb)
      this.clearGrace(gp)
      const w = this.waiters[gp]
      if ((flags & Gflags.Gtimed) !== 0 && w instanceof CallbackGoroutine) w.ranMs = h.f64[(gb + G_WAITSINCE) >> 1]
      if (w !== undefined) {
        this.waiters[gp] = undefined
        this.settled()
        if (failed) w.reject(value)
        else w.resolve(value)
      } else if (failed) {
        this.unhandled(value, goid)
      }
      gfput(h, gp)
      gp = next
    }
  }

  /**
   * A goroutine nobody awaits failed. As a program's main (config.main),
   * Go's panic: printed, and the process exits with status 2. Embedded,
   * 'error' listeners get it, else it is printed as Go prints a panic and
   * the runtime goes on.
   */
  private unhandled(err: unknown, goid: number): void {
    if (this.config.main) fatalpanic(err, goid)
    if (this.events.error(asError(err, goid))) return
    process.stderr.write(printpanics(err, goid) + '\n')
  }

  /** A runtime-level problem: 'error' listeners get it; with none, it is printed (never thrown at the app). */
  private report(err: Error): void {
    if (!this.events.error(err)) process.stderr.write(`gort: ${err.stack ?? err.message}\n`)
  }

  /** Goroutine record gp lived on M mid, which died: whoever awaits it gets the cause. */
  private lost(gp: number, mid: number, cause: Error): void {
    this.clearGrace(gp)
    const w = this.waiters[gp]
    if (w === undefined) return
    this.waiters[gp] = undefined
    this.settled()
    const goid = Atomics.load(this.heap.i32, gbase(this.heap.layout, gp) + G_GOID)
    w.reject(new ThreadLostError(goid, mid, cause))
  }

  // -------------------------------------------------------------------------
  // Cancellation (cancel.ts).

  /** By G record: the grace timers of cancelled goroutines (terminate the M if they never reach a safe point). */
  private readonly graceTimers = new Map<number, ReturnType<typeof setTimeout>>()

  /**
   * Cancels the goroutine in record gp, whose completion goes to w: the
   * request is stored in the record, and the M it lives on (if it has
   * started) is told, in case it is parked in sleep() or until(). With a
   * finite graceMs, the M is terminated if the goroutine is still running
   * without having taken the request by then. False if gp is no longer
   * w's or was cancelled already.
   */
  cancel(gp: number, w: Waiter, reason: unknown, graceMs: number | undefined): boolean {
    if (this.closed || gp === 0 || this.waiters[gp] !== w) return false
    const h = this.heap
    const m = h.i32
    const gb = gbase(h.layout, gp)
    if (!requestCancel(h, gp, reason)) return false
    // Dekker pair with startg (store G.m, then load G.cancel).
    const mp = Atomics.load(m, gb + G_M)
    if (mp !== 0) this.ms.post(mp - 1, { type: 'cancel', gp })
    if (graceMs !== undefined && graceMs !== Infinity) {
      // The M it runs on, while it runs without having seen the request; else -1.
      const stuck = (): number => {
        if (this.waiters[gp] !== w || !cancelPending(m, gb)) return -1
        const on = Atomics.load(m, gb + G_M)
        return on !== 0 && Atomics.load(m, gb + G_STATUS) === Gstatus.Grunning ? on - 1 : -1
      }
      // Still stuck a little later: its M will likely be terminated, so
      // have its replacement boot meanwhile (Ms.standby); then the kill.
      const early = Math.min(STANDBY_AFTER_MS, graceMs / 2)
      const kill = (): void => {
        this.graceTimers.delete(gp)
        const mid = stuck()
        if (mid >= 0) this.ms.kill(mid, new Error(`goroutine ${m[gb + G_GOID]} was cancelled and reached no safe point within ${graceMs} ms`))
      }
      const t = setTimeout(() => {
        if (stuck() < 0) {
          this.graceTimers.delete(gp)
          return
        }
        this.ms.standby()
        const t2 = setTimeout(kill, graceMs - early)
        t2.unref()
        this.graceTimers.set(gp, t2)
      }, early)
      t.unref()
      this.graceTimers.set(gp, t)
    }
    return true
  }

  private clearGrace(gp: number): void {
    if (this.graceTimers.size === 0) return
    const t = this.graceTimers.get(gp)
    if (t !== undefined) {
      clearTimeout(t)
      this.graceTimers.delete(gp)
    }
  }

  /**
   * Calls expired() once goroutine gp (spawned with Gflags.Gtimed, awaited
   * by w) has run for ms milliseconds since it started, unless it finished
   * first. The timer re-arms itself while gp has not started, and then for
   * what is left: no polling.
   */
  timeout(gp: number, w: Waiter, ms: number, expired: () => void): void {
    const check = (): void => {
      if (this.closed || this.waiters[gp] !== w) return
      const ran = sinceStart(this.heap, gp)
      const left = ran < 0 ? ms : ms - ran
      if (left <= 0) expired()
      else setTimeout(check, left).unref()
    }
    setTimeout(check, ms).unref()
  }

  // -------------------------------------------------------------------------
  // Deadlock (checkdead.ts).

  /**
   * As a program's main, SIGQUIT (Ctrl-\\) prints every goroutine's stack
   * and exits with status 2, as Go's sighandler does for it (dieFromSignal
   * after the traceback). Go's "PC=... m=0 sigcode=0" line and register
   * dump have nothing to show here and are left out.
   */
  private sigquit(): void {
    try {
      writeAllSync(2, Buffer.from(`SIGQUIT: quit\n\n${tracebackothers(this.heap)}`))
    } catch {
      // stderr is gone: exit all the same
    }
    process.exit(2)
  }

  private deadlock(dump: string): void {
    if (this.config.main) {
      try {
        writeAllSync(2, Buffer.from(`fatal error: all goroutines are asleep - deadlock!\n\n${dump}`))
      } catch {
        // stderr is gone: exit all the same
      }
      process.exit(2)
    }
    this.events.deadlock(dump)
  }

  /** How many of the waiters the app awaits: all but the results of rt.go nobody asked for. */
  private awaited(): number {
    let n = this.forever.size
    for (const w of this.waiters) if (w !== undefined && !(w instanceof HostGoroutine && !w.asked)) n++
    return n
  }

  /**
   * Nothing can complete what the app awaits: rejects it with err. A host
   * waiter's record is flagged Gorphan, so that its sudogs are withdrawn
   * (dequeue skips them) should the app wake a partner later; the record
   * and its sudogs are not reused (a deadlock is the end of an episode).
   */
  private failAwaited(err: DeadlockError): void {
    const h = this.heap
    const m = h.i32
    for (let gp = 0; gp < this.waiters.length; gp++) {
      const w = this.waiters[gp]
      if (w === undefined) continue
      const gb = gbase(h.layout, gp)
      if ((Atomics.load(m, gb + G_FLAGS) & Gflags.Ghostwait) !== 0) Atomics.or(m, gb + G_FLAGS, Gflags.Gorphan)
      else if (w instanceof HostGoroutine && !w.asked) continue
      this.waiters[gp] = undefined
      this.nwaiters--
      w.reject(err)
    }
    for (const reject of this.forever) {
      this.nwaiters--
      reject(err)
    }
    this.forever.clear()
    this.updateRef()
  }

  // -------------------------------------------------------------------------
  // Seeing inside.

  dump(): string {
    return tracebackothers(this.heap)
  }

  stats(): RuntimeStats {
    return readStats(this.heap, this.procs, this.ms.workers)
  }

  /** Starts recording a trace (rt.trace.start): the hooks on every thread see the flag at their next event. */
  traceStart(): void {
    if (this.closed) throw new Error('trace.start: the runtime is closed')
    traceBegin(this.heap.tw.sab!)
    traceCounters(this.heap)
  }

  /** Whether a trace is being recorded. */
  get tracing(): boolean {
    return this.heap.tw.on[0] !== 0
  }

  /** Stops the recording (rt.trace.stop); traceRead reads it back. */
  traceStop(): void {
    if (!this.tracing) throw new Error('trace.stop: no trace is being recorded (call rt.trace.start() first)')
    traceCounters(this.heap)
    traceEnd(this.heap.tw.sab!)
  }

  /** Whether a thread has events of the stopped recording it has not published yet (an M in mid-burst). */
  get traceUnpublished(): boolean {
    return traceUnpublished(this.heap.tw.sab!)
  }

  /** Every thread's events of the last recording, as published now. */
  traceRead(): { events: RawEvent[]; dropped: number; procs: number } {
    const h = this.heap
    return { ...readEvents(h.tw.sab!, (id) => funcKey(h, id).name), procs: this.procs }
  }

  schedtrace(detail: boolean): string {
    return schedtrace(this.heap, { scheddetail: detail, startTime: this.startTime })
  }

  /** sysmon's own view; starts sysmon if it is not up yet (a runtime that had no work). */
  sysmonView(): Promise<SysmonView> {
    if (this.closed) return Promise.reject(new Error('sysmonView: the runtime is closed'))
    const s = this.startSysmon()!
    return this.hold(s.ready.then(() => s.view()))
  }

  /** Changes schedtrace and scheddetail at run time; starts sysmon if it is not up yet. */
  setGodebug(godebug: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('setGodebug: the runtime is closed'))
    const g = parseGodebug(godebug)
    const s = this.startSysmon()!
    return this.hold(s.ready.then(() => s.setSchedtrace(Number(g.get('schedtrace') ?? 0) || 0, g.get('scheddetail') === '1')))
  }

  // -------------------------------------------------------------------------
  // The end.

  /**
   * Stops new spawns from the app and resolves when every goroutine has
   * finished, or when the ones left can never run again (three checks 10 ms
   * apart find nothing that can run); returns how many are left. Then the
   * threads exit.
   */
  async close(): Promise<{ left: number }> {
    if (this.closing) {
      while (!this.closed) await new Promise((r) => setTimeout(r, 10))
      return { left: 0 }
    }
    this.closing = true
    this.endedBy = 'close'
    const h = this.heap
    Atomics.store(h.i32, schedw(h.layout, SCHED_CLOSING), 1)
    let stuckChecks = 0
    let left = 0
    for (;;) {
      if (gcount(h) === 0 && this.nwaiters === 0) break
      if (nothingCanRun(h, this.procs, this.ms.workers.length)) {
        if (++stuckChecks >= 3) {
          left = gcount(h)
          break
        }
      } else stuckChecks = 0
      await new Promise((r) => setTimeout(r, 10))
    }
    await this.shutdown()
    return { left }
  }

  /** Ends everything now: the threads exit and every awaited goroutine and operation rejects. */
  async destroy(): Promise<void> {
    if (this.closed) return
    this.closing = true
    this.endedBy = 'destroy'
    this.rejectAll(new Error('gort: the runtime was destroyed'))
    await this.shutdown()
  }

  /** Rejects everything the app awaits with err (a result nobody asked for is abandoned: nothing is reported). */
  private rejectAll(err: Error): void {
    for (let gp = 0; gp < this.waiters.length; gp++) {
      const w = this.waiters[gp]
      if (w === undefined) continue
      this.waiters[gp] = undefined
      if (w instanceof HostGoroutine) w.abandon(err)
      else w.reject(err)
    }
    for (const reject of this.forever) reject(err)
    this.forever.clear()
    this.nwaiters = 0
  }

  private async shutdown(): Promise<void> {
    this.closed = true
    this.heap.dead = true
    sabclose(this.heap)
    this.stopCollections()
    this.checkdead.stop()
    if (this.onSigquit !== undefined) process.off('SIGQUIT', this.onSigquit)
    this.ms.stopping = true
    gfflush(this.heap)
    // Wake a completion loop that waits, so that it sees `closed`.
    Atomics.notify(this.heap.i32, schedw(this.heap.layout, SCHED_DONEHEAD))
    // Hold the loop until the threads are gone (a close() the app does not await still finishes).
    this.keepAlive.ref()
    try {
      await this.sysmon?.stop()
      await this.ms.terminate()
    } finally {
      clearInterval(this.keepAlive)
    }
    this.events.close()
  }
}
