// The host's half of M creation: Go's newm, the hand-off of newm requests
// from threads that cannot start a worker themselves, the list of the Ms'
// threads, and what the host does when an M's thread ends (mdied, with its
// circuit breaker).
//
// Only the thread that started the runtime (the host) can create worker
// threads. Go's startm calls newm directly; ours, on an M or sysmon, asks
// the host with a message, and on the host runs it once startm has let go
// of sched.lock (startm calls the hook holding it, and newm takes it too):
// right after the spawn that asked (host.ts), else in a microtask. This is
// Go's newm hand-off (newmHandoff: a thread that must not start an M itself
// queues the request for the template thread, which starts it later).
// The request arrives later than it was made, so the host starts a worker
// only if it is still needed (newmHandoff below).
//
// Starting. `new Worker()` returns at once and the thread boots on its own
// (about 50 ms to reach the M's loop on the 2-core machines, more when
// several boot at once): nothing waits for it. The initial Ms (boot) are
// created together; work queued meanwhile waits in shared memory, and the
// first M to reach its loop takes it (getp). boot's `first` (what
// Runtime.start awaits) resolves when the first of them is in its loop,
// its `all` (the runtime's `ready`) when every one is; both reject when
// one of them dies or cannot import an eager module before `all` settled
// (nothing is replaced then: a runtime that cannot start stops, even if
// Runtime.start has resolved already). No spare M starts with them: one
// starts on demand (spare: a goroutine entered a blocking call, or sysmon
// saw no idle M). An M that dies after its ready message is an ordinary
// death (mdied), even while others still boot.
//
// The threads. `live` lists the Ms' Worker objects whose thread has not
// ended, oldest first: what Runtime.threads and gort/pool's `threads`
// report. The host is told when a worker is created and when its thread
// ends (retired, died, or stopped by close/destroy), and it is told of any
// message on an M's parentPort that is not gort's own (mmsg.ts): a
// goroutine's `parentPort.postMessage(v)`.
//
// Refs: a worker, and the MessagePort behind its 'message' event, keep the
// app's event loop alive unless unref'd. Node re-refs the port when a
// 'message' listener is added, so listeners go on first and unref() comes
// last. An idle M then holds the app open no more than an idle piscina
// worker does; the host's own ref (host.ts) says whether the app waits.
//
// Who calls what: everything here runs on the host's thread.

import { MessageChannel, Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads'
import type { SharedHeap } from './heap.js'
import {
  gbase, heapw, mbase, pbase, schedw,
  G_FLAGS, G_M, G_STATUS, HEAP_LOCK,
  M_GCREDIT, M_LOCKS, M_NEXTP, M_NPENDING, M_P, M_STATE, P_M, P_STATUS,
  SCHED_GCOUNT, SCHED_GFLOCK, SCHED_GNEXT, SCHED_LOCK, SCHED_MNEXT, SCHED_NMIDLE, SCHED_NPENDINGIO, SCHED_NPIDLE,
  M_SPINNING, SCHED_NMSPINNING,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { isMMessage, MMSG_TAG, type MMessage } from './mmsg.js'
import { exitProcess } from './exit.js'
import { handoffp, mremove, mwantremove, wakep } from './proc.js'
import { globrunqsize } from './runq.js'
import { Gflags, Gstatus, Mstate, Pstatus } from './runtime2.js'
import { ModuleLoadError } from './rterrors.js'

/**
 * An M's young generation at most, in MB (the Worker's
 * resourceLimits.maxYoungGenerationSizeMb), unless the app's resourceLimits
 * set it: V8's start size on 64-bit Node 20 (two semi-spaces of 2 MB and
 * the large-object part), so the space never grows. V8 doubles it once
 * enough has survived its scavenges since the last growth, and an M got
 * there at its first allocation-heavy goroutine (its start leaves more
 * alive than a bare worker's). A scavenge costs in proportion to what it
 * finds (a sha256 chain: a dead Hash object's weak handle per round), so
 * the doubled space doubled every pause (20 ms instead of 10 on the 2-core
 * benchmark machine): every goroutine on the M and a cancellation wait it
 * out, and sysmon, which cannot tell a collection from a loop, took a P
 * from an M in such a pause as from a runaway step, putting a third M to
 * work under load. Held: no such retakes, shorter tails for CPU-bound jobs
 * and less memory per parked goroutine; the price is paid by goroutines
 * that keep many objects alive across scavenges (10-20 % longer in a
 * probe), which can ask for more. docs/design/scheduler.md, "An M's young
 * generation".
 */
export const M_YOUNG_GENERATION_MB = 6

/** Worker resource limits, as node:worker_threads takes them. */
export type ResourceLimits = NonNullable<ConstructorParameters<typeof Worker>[1]>['resourceLimits']

export interface MsConfig {
  maxThreads: number
  /** Goroutine modules every M imports before it reports ready. */
  modules: string[]
  mIdleTimeoutMs: number
  /** The idle timeout retires Ms only while more than this many live (0: no floor but the spare). */
  keepMs: number
  resourceLimits?: ResourceLimits
  /** The call that started the runtime, for start errors: 'Runtime.start' or 'Runtime.create'. */
  where: string
  /**
   * Whether reaching maxThreads is worth an 'error' report: only when the
   * cap is above procs. A cap at or below procs (gort/pool's, piscina's
   * maxThreads) means work waits for a free M by design.
   */
  reportCap: boolean
}

/** Why an M's thread ended: retired (idle timeout), died, or stopped (close, destroy, a failed start). */
export interface ThreadExit {
  /** The M's id (its record; a later M may reuse it). */
  mid: number
  reason: 'retired' | 'died' | 'stopped'
  /** The thread's exit code. */
  code: number
  /** For 'died': what ended it (an uncaught exception, process.exit(), out of memory). */
  error?: Error
}

/** What the Ms tell their host. */
export interface MsHooks {
  /** A runtime-level problem (an M died, too many threads). */
  report(err: Error): void
  /** Goroutine record gp, which lived on a dead M, is lost: reject whoever awaits it. */
  lost(gp: number, mid: number, cause: Error): void
  /** M mid's worker was just created (its thread boots; it is in `live`). Called synchronously by newm. */
  created(w: Worker, mid: number): void
  /** M's thread ended (it has left `live`). */
  exited(w: Worker, why: ThreadExit): void
  /** A goroutine on the M posted v to parentPort (not one of gort's own messages). */
  message(v: unknown, w: Worker): void
  /** A goroutine module on the M posted a note for the host's embedder (mmsg.ts postNote). */
  note(v: unknown): void
  /** An M waits for sysmon (a buffer sent before it was up): start it now. */
  sysmon(): void
}

export { ModuleLoadError, ThreadLostError } from './rterrors.js'

/**
 * The export condition under which `import 'gort'` on an M resolves to the
 * Ms' entry (dist/m.js: the API without the host's side, package.json's
 * exports): a goroutine module's `import 'gort'` then loads about 90 KB
 * less in every M.
 */
const M_CONDITION = '--conditions=gort-m'
/** Whether the Ms get M_CONDITION (false once Worker refused this process's execArgv with it). */
let withCondition = true

/**
 * Creates an M's worker with M_CONDITION added to the execArgv it would
 * inherit. Setting execArgv makes Worker check every option, and it refuses
 * some that the default inheritance quietly drops (a process started with
 * --max-old-space-size or --expose-gc); then the Ms start without the
 * condition, as before it existed: 'gort' resolves to the full index
 * (dist/index.js), which works on an M too, only heavier.
 */
function newMWorker(opts: WorkerOptions): Worker {
  const url = new URL('./mworker.js', import.meta.url)
  if (withCondition) {
    try {
      return new Worker(url, Object.assign(Object.create(null) as WorkerOptions, opts, { execArgv: [...process.execArgv, M_CONDITION] }))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e
      withCondition = false
    }
  }
  return new Worker(url, opts)
}

/** The Ms of one runtime, seen from the host. */
export class Ms {
  /** The workers, by M id (a retired M's slot is reused). */
  readonly workers: Worker[] = []
  /** By M id: the host's end of the M's control port (post). */
  private readonly ctl: Array<MessagePort | undefined> = []
  /** Ms the host terminated on purpose (kill), with the cause their goroutines fail with. */
  private readonly killed = new Map<number, Error>()
  /** The workers whose thread has not ended, oldest first. */
  readonly live: Worker[] = []
  /** M records whose thread retired: reused by newm. */
  private readonly freeMids: number[] = []
  /** Ms started and not yet in their scheduler loop. */
  private starting = 0
  private warnedThreads = false
  /** Ms that died, by id. */
  private readonly deadMs = new Set<number>()
  /** Ms that died in a row before reaching their scheduler loop. */
  private startDeaths = 0
  /** Set when Ms keep dying while starting: new work is refused with it (the circuit breaker). */
  broken: Error | undefined
  /**
   * Until boot's promise settles: an initial M that dies before its ready
   * message, or fails an eager module, rejects the start (once, through
   * failBoot) instead of being reported and replaced, so a failed start
   * leaves nothing running.
   */
  private booting = true
  /** No more Ms are started or replaced (close, destroy, a failed start). */
  stopping = false
  /** Exits are expected from now on (the workers are being terminated). */
  private terminated = false

  constructor(
    private readonly heap: SharedHeap,
    private readonly config: MsConfig,
    private readonly hooks: MsHooks,
  ) {}

  /**
   * Creates the initial Ms at once (their threads boot in parallel).
   * `first` resolves when one of them is in its scheduler loop with every
   * eager module imported (at once if `n` is 0): work runs from then on
   * (Runtime.start). `all` resolves when every one is. Both reject with the
   * first failure before `all` settles (an initial M died before its loop,
   * or could not import an eager module), having terminated every M. No
   * spare M and no sysmon start here: the spare starts on demand (a
   * goroutine enters a blocking call while no M idles, or sysmon sees none
   * idle), sysmon with the first work (host.ts); the measurements are in
   * docs/design/scheduler.md, "Starting".
   */
  boot(n: number): { first: Promise<void>; all: Promise<void> } {
    const failed = new Promise<never>((_, reject) => {
      this.failBoot = (e) => {
        if (this.bootFailed) return
        this.bootFailed = true
        reject(e)
      }
    })
    const up = new Promise<void>((resolve) => {
      this.firstUp = resolve
    })
    if (n === 0) this.firstUp()
    // Before the first await: the Ms exist when boot returns.
    const ms = Array.from({ length: n }, () => this.newm(true))
    const all = (async () => {
      try {
        await Promise.race([Promise.all(ms), failed])
      } catch (e) {
        await this.terminate()
        throw e
      } finally {
        this.booting = false
      }
    })()
    const first = Promise.race([up, all.then(() => up)])
    all.catch(() => {})
    return { first, all }
  }

  /** Resolves boot's `first` (an initial M reported ready without a failed module; later calls do nothing). */
  private firstUp: () => void = () => {}

  /** An initial M failed while booting: `first` can no longer resolve. */
  private bootFailed = false
  /** Rejects boot (the first call wins). */
  private failBoot: (err: Error) => void = () => {}

  /** Terminates every M; their exits are expected. */
  async terminate(): Promise<void> {
    this.stopping = true
    this.terminated = true
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  /**
   * The host's side of Go's newm hand-off: an M (or sysmon) found no idle
   * M to run a P (startm) and asked for one. The request arrives later than
   * it was made, so start a worker only if it is still needed: a P idle,
   * queued work, no idle M, and none starting already.
   */
  newmHandoff(): void {
    if (this.stopping) return
    const h = this.heap
    const m = h.i32
    const l = h.layout
    if (Atomics.load(m, schedw(l, SCHED_NPIDLE)) === 0 || globrunqsize(h) === 0) return
    // An M went idle since the request was made: it may have gone to sleep
    // after the work was left on the global queue for an M that did not
    // exist yet, so wake one rather than drop the request.
    if (Atomics.load(m, schedw(l, SCHED_NMIDLE)) > 0) wakep(h)
    else if (this.starting === 0) void this.newm().catch(() => {})
  }

  /**
   * sysmon, or an M entering a blocking call, asks for a spare M (none
   * idle): start one if none is starting and the cap allows.
   */
  spare(): void {
    if (this.starting === 0 && this.canGrow() && Atomics.load(this.heap.i32, schedw(this.heap.layout, SCHED_NMIDLE)) === 0) {
      void this.newm().catch(() => {})
    }
  }

  /** Whether one more M may start now: not stopping, not broken, fewer than maxThreads threads alive. */
  private canGrow(): boolean {
    return !this.stopping && this.broken === undefined && this.live.length < this.config.maxThreads
  }

  /**
   * A goroutine cancelled with a grace period is still running without a
   * safe point: if it never reaches one, its M is terminated when the grace
   * period ends, and with no idle M (every one busy, or a pool of one
   * thread) the work behind it would then wait for a new M to boot, tens to
   * hundreds of ms after the terminate. Start that M now, one beyond
   * maxThreads if need be (the layout has a record for it): sysmon hands
   * it the stuck M's P when it retakes it, so the other work goes on before
   * the terminate, and the terminated M is not replaced (live count). If
   * the goroutine reaches a safe point after all, the extra M idles and
   * retires after mIdleTimeoutMs, as a spare does.
   */
  standby(): void {
    if (this.stopping || this.broken !== undefined || this.starting > 0) return
    if (Atomics.load(this.heap.i32, schedw(this.heap.layout, SCHED_NMIDLE)) > 0) return
    void this.newm(false, true).catch(() => {})
  }

  /**
   * Starts one more M now, if the cap allows (gort/pool: a task found no
   * idle thread, as piscina starts a Worker). Returns whether it did; the
   * Worker is in `live` when this returns.
   */
  grow(): boolean {
    if (!this.canGrow()) return false
    void this.newm().catch(() => {})
    return true
  }

  /**
   * Starts one more M (Go's newm): creates its worker now and resolves
   * when it is in its scheduler loop. initial: one of boot's, whose early
   * death fails the start.
   */
  newm(initial = false, standby = false): Promise<void> {
    const { maxThreads } = this.config
    // A record: a retired or dead M's, or the next one. The layout has
    // maxThreads + 1 (standby), and fewer than that are held by live
    // threads here, so one is free.
    const mid = this.live.length < maxThreads + (standby ? 1 : 0) ? (this.freeMids.pop() ?? this.workers.length) : -1
    if (mid > maxThreads) throw new Error(`gort: internal error: M record ${mid} beyond the layout's ${maxThreads + 1}`)
    if (mid < 0) {
      // Not fatal here (Go's is): the queued work runs when an M frees up.
      if (!standby && !this.warnedThreads && this.config.reportCap) {
        this.warnedThreads = true
        this.hooks.report(new RangeError(`gort: program needs more than ${maxThreads} threads (the maxThreads option); queued goroutines wait for a free M`))
      }
      return Promise.resolve()
    }
    const h = this.heap
    // A null prototype: Worker must not find options (execArgv, env, argv)
    // that a polluted Object.prototype would lend an ordinary object.
    // The host's requests to this M (a cancellation, cancel.ts) go on a
    // port of their own: the worker's parentPort belongs to the goroutines'
    // code (piscina's tasks listen on it).
    const ctl = new MessageChannel()
    const opts: WorkerOptions = Object.assign(Object.create(null) as WorkerOptions, {
      // argv: the host's process.argv as it is now, so that a goroutine
      // reads the program's arguments on any M (a worker's own starts as
      // [execPath, the app's script]; gort run rewrites the host's).
      workerData: { sab: h.sab, trace: h.tw.sab, mid, modules: this.config.modules, idleTimeoutMs: this.config.mIdleTimeoutMs, keepMs: this.config.keepMs, ctl: ctl.port2, argv: process.argv },
      transferList: [ctl.port2],
    })
    this.ctl[mid]?.close()
    this.ctl[mid] = ctl.port1
    // The young generation held at V8's start size unless the app sets it (M_YOUNG_GENERATION_MB).
    opts.resourceLimits = { maxYoungGenerationSizeMb: M_YOUNG_GENERATION_MB, ...this.config.resourceLimits }
    lock(h.i32, schedw(h.layout, SCHED_LOCK))
    // A retired or dead M's record: clear it (its id stays) for the new
    // thread. Under sched.lock: a retiring M counts the live records
    // (mloop.ts liveMs).
    if (mid < this.workers.length) {
      h.i32.fill(0, mbase(h.layout, mid) + 1, mbase(h.layout, mid + 1))
      this.deadMs.delete(mid)
    }
    h.i32[schedw(h.layout, SCHED_MNEXT)] = Math.max(this.workers.length, mid + 1)
    unlock(h.i32, schedw(h.layout, SCHED_LOCK))
    const w = newMWorker(opts)
    this.workers[mid] = w
    this.live.push(w)
    this.starting++
    const started = new Promise<void>((resolve, reject) => {
      let ready = false
      w.on('message', (msg: MMessage | unknown) => {
        if (!isMMessage(msg)) this.hooks.message(msg, w)
        else if (msg[MMSG_TAG] === 'ready') {
          ready = true
          this.starting--
          this.startDeaths = 0
          const failed = msg.failed
          if (initial && this.booting && failed.length > 0) this.failBoot(new ModuleLoadError(failed[0].url, failed[0].message, this.config.where))
          else if (initial && !this.bootFailed) this.firstUp()
          resolve()
        } else if (msg[MMSG_TAG] === 'note') this.hooks.note(msg.note)
        else if (msg[MMSG_TAG] === 'exit') void exitProcess(msg.code)
        else if (msg[MMSG_TAG] === 'spare') this.spare()
        else if (msg[MMSG_TAG] === 'sysmon') this.hooks.sysmon()
        else this.newmHandoff()
      })
      let cause: Error | undefined
      w.once('error', (e) => {
        cause = e instanceof Error ? e : new Error(String(e))
      })
      w.once('exit', (code) => {
        const i = this.live.indexOf(w)
        if (i >= 0) this.live.splice(i, 1)
        if (this.ctl[mid] === ctl.port1) this.ctl[mid] = undefined
        ctl.port1.close()
        if (this.terminated) {
          this.hooks.exited(w, { mid, reason: 'stopped', code })
          if (!ready) reject(new Error('gort: the runtime was stopped while an M started'))
          return
        }
        if (Atomics.load(h.i32, mbase(h.layout, mid) + M_STATE) === Mstate.Mretired) {
          this.freeMids.push(mid)
          this.hooks.exited(w, { mid, reason: 'retired', code })
          return
        }
        const killedFor = this.killed.get(mid)
        if (killedFor !== undefined) {
          // Terminated on purpose (kill): its goroutines fail with the
          // reason; nothing to report, and a new M takes its place.
          this.killed.delete(mid)
          this.hooks.exited(w, { mid, reason: 'died', code, error: killedFor })
          this.mdied(mid, killedFor)
          return
        }
        // A thread that exited without an error (process.exit(n)) carries its code.
        const why = cause ?? Object.assign(new Error(`the thread exited with code ${code}`), { exitCode: code })
        this.hooks.exited(w, { mid, reason: 'died', code, error: why })
        if (initial && this.booting && !ready) {
          // The start rejects with it, once; nothing is replaced or printed.
          this.stopping = true
          this.failBoot(new Error(`${this.config.where}: M${mid} died while starting: ${why.message}`, { cause: why }))
          reject(why)
          return
        }
        this.hooks.report(Object.assign(new Error(`gort: M${mid} died: ${why.message}`), { cause: why }))
        if (this.mdied(mid, why)) {
          this.starting--
          reject(why)
        }
      })
    })
    // Listeners first: adding a 'message' listener refs the worker's port again.
    w.unref()
    this.hooks.created(w, mid)
    return started
  }

  /** Posts a request to M mid's thread (its onHostMessage, mloop.ts); dropped if it has none. */
  post(mid: number, msg: unknown): void {
    this.ctl[mid]?.postMessage(msg)
  }

  /**
   * Terminates M mid's thread (a cancelled goroutine that never reached a
   * safe point, cancel.ts): the goroutines that lived on it fail with an
   * error naming cause, its P and unstarted work go on elsewhere, and a new
   * M takes its place (mdied). Returns false if it is not running.
   */
  kill(mid: number, cause: Error): boolean {
    const w = this.workers[mid]
    if (w === undefined || this.deadMs.has(mid) || this.killed.has(mid) || this.terminated) return false
    this.killed.set(mid, new Error(`terminated by the runtime: ${cause.message}`, { cause }))
    void w.terminate()
    return true
  }

  /**
   * An M's thread ended (an exception outside any goroutine, process.exit()
   * in a goroutine, out of memory under resourceLimits). Recovers what can
   * be: releases the runtime locks it held (its M.locks bits), takes its P
   * and hands it on (its unstarted goroutines run elsewhere), fails the
   * goroutines that lived on it (their awaited results reject; their
   * channel and sync waits are withdrawn: dequeue skips Gorphan sudogs),
   * and starts a new M. If Ms keep dying while starting, stops replacing
   * them and refuses new work with the cause (a circuit breaker). Returns
   * whether the M died while starting.
   */
  private mdied(mid: number, cause: Error): boolean {
    if (this.deadMs.has(mid)) return false
    this.deadMs.add(mid)
    const h = this.heap
    const m = h.i32
    const l = h.layout
    const mb = mbase(l, mid)
    const wasStarting = Atomics.load(m, mb + M_STATE) === Mstate.Mstarting
    Atomics.store(m, mb + M_STATE, Mstate.Mdead)
    // Its thread is gone: what it held, nobody will release.
    const held = m[mb + M_LOCKS]
    const words = [schedw(l, SCHED_LOCK), heapw(l, HEAP_LOCK), schedw(l, SCHED_GFLOCK)]
    for (let i = 0; i < words.length; i++) {
      if ((held & (1 << i)) !== 0) {
        Atomics.store(m, words[i], 0)
        Atomics.notify(m, words[i])
      }
    }
    m[mb + M_LOCKS] = 0
    const pending = m[mb + M_NPENDING]
    if (pending !== 0) Atomics.sub(m, schedw(l, SCHED_NPENDINGIO), pending)
    m[mb + M_NPENDING] = 0
    lock(m, schedw(l, SCHED_LOCK))
    mremove(h, mid)
    mwantremove(h, mid)
    const ps: number[] = []
    const p = m[mb + M_P] - 1
    if (p >= 0 && m[pbase(l, p) + P_M] === mid + 1) ps.push(p)
    const np = m[mb + M_NEXTP] - 1
    if (np >= 0) ps.push(np)
    m[mb + M_P] = 0
    m[mb + M_NEXTP] = 0
    // A spinning M (or one startm counted as spinning before it woke) takes
    // its count in sched.nmspinning with it: give it back, or wakep would
    // never wake anyone again (docs/design/scheduler.md, "Spinning Ms").
    if (m[mb + M_SPINNING] !== 0) {
      m[mb + M_SPINNING] = 0
      Atomics.sub(m, schedw(l, SCHED_NMSPINNING), 1)
    }
    unlock(m, schedw(l, SCHED_LOCK))
    for (const pp of ps) {
      const b = pbase(l, pp)
      const st = Atomics.load(m, b + P_STATUS)
      // A lent P (in a step or a syscall) may be taken by sysmon meanwhile: CAS.
      if ((st === Pstatus.Pexec || st === Pstatus.Psyscall) && Atomics.compareExchange(m, b + P_STATUS, st, Pstatus.Prunning) !== st) continue
      Atomics.store(m, b + P_STATUS, Pstatus.Prunning)
      m[b + P_M] = 0
      handoffp(h, pp)
    }
    // The goroutines that lived on it.
    const n = Math.min(Atomics.load(m, schedw(l, SCHED_GNEXT)), l.maxGs)
    let lost = 0
    for (let gp = 1; gp < n; gp++) {
      const b = gbase(l, gp)
      if (Atomics.load(m, b + G_M) !== mid + 1) continue
      const st = Atomics.load(m, b + G_STATUS)
      if (st === Gstatus.Gidle || st === Gstatus.Gdead) continue
      if ((Atomics.or(m, b + G_FLAGS, Gflags.Gorphan) & Gflags.Gorphan) !== 0) continue
      lost++
      this.hooks.lost(gp, mid, cause)
    }
    // And the counts it held ahead of need (mloop.ts gcountTake).
    lost += m[mb + M_GCREDIT]
    m[mb + M_GCREDIT] = 0
    if (lost > 0) Atomics.sub(m, schedw(l, SCHED_GCOUNT), lost)
    if (wasStarting) {
      if (++this.startDeaths >= 3) {
        this.broken = new Error(`gort: Ms keep dying while they start (${this.startDeaths} in a row); the last: ${cause.message}`, { cause })
        this.hooks.report(this.broken)
        return true
      }
    }
    // Its record can serve a new M: nothing of the dead thread is left in it
    // that a new one could mistake for its own (its goroutines are orphans:
    // goready and drainReadyq skip them). Without reuse every death would
    // use up one of maxThreads for good (a pool that terminates threads to
    // abort tasks ran out after a few).
    this.freeMids.push(mid)
    // Replaced, unless a standby took its place already (standby()).
    if (!this.stopping && this.live.length < this.config.maxThreads) void this.newm().catch(() => {})
    return wasStarting
  }
}
