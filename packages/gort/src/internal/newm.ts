// The host's half of M creation: Go's newm, the hand-off of newm requests
// from threads that cannot start a worker themselves, and what the host does
// when an M's thread ends (mdied, with its circuit breaker).
//
// Only the thread that started the runtime (the host) can create worker
// threads. Go's startm calls newm directly; ours, on an M or sysmon, asks
// the host with a message, and on the host defers to a microtask (startm
// calls the hook holding sched.lock, and newm takes it too). This is Go's
// newm hand-off (newmHandoff: a thread that must not start an M itself
// queues the request for the template thread, which starts it later).
// The request arrives later than it was made, so the host starts a worker
// only if it is still needed (newmHandoff below).
//
// Refs: a worker, and the MessagePort behind its 'message' event, keep the
// app's event loop alive unless unref'd. Node re-refs the port when a
// 'message' listener is added, so listeners go on first and unref() comes
// last. An idle M then holds the app open no more than an idle piscina
// worker does; the host's own ref (host.ts) says whether the app waits.
//
// Who calls what: everything here runs on the host's thread.

import { Worker } from 'node:worker_threads'
import type { SharedHeap } from './heap.js'
import {
  gbase, heapw, mbase, pbase, schedw,
  G_FLAGS, G_M, G_STATUS, HEAP_LOCK,
  M_GCREDIT, M_LOCKS, M_NEXTP, M_NPENDING, M_P, M_STATE, P_M, P_STATUS,
  SCHED_GCOUNT, SCHED_GFLOCK, SCHED_GNEXT, SCHED_LOCK, SCHED_MNEXT, SCHED_NMIDLE, SCHED_NPENDINGIO, SCHED_NPIDLE,
  M_SPINNING, SCHED_NMSPINNING,
} from './layout.js'
import { lock, unlock } from './lock_futex.js'
import { handoffp, mremove, mwantremove, wakep } from './proc.js'
import { globrunqsize } from './runq.js'
import { Gflags, Gstatus, Mstate, Pstatus } from './runtime2.js'

/** Worker resource limits, as node:worker_threads takes them. */
export type ResourceLimits = NonNullable<ConstructorParameters<typeof Worker>[1]>['resourceLimits']

export interface MsConfig {
  maxThreads: number
  /** Goroutine modules every M imports before it reports ready. */
  modules: string[]
  mIdleTimeoutMs: number
  resourceLimits?: ResourceLimits
}

/** What the Ms tell their host. */
export interface MsHooks {
  /** A runtime-level problem (an M died, too many threads). */
  report(err: Error): void
  /** Goroutine record gp, which lived on a dead M, is lost: reject whoever awaits it. */
  lost(gp: number, mid: number, cause: Error): void
}

/** What an M's 'ready' message carries: the eager modules it could not import. */
interface ReadyMessage {
  type: 'ready'
  failed?: Array<{ url: string; message: string }>
}

/**
 * Runtime.start's rejection when an M could not import one of its
 * `modules` (a syntax error, a module that does not exist, one that throws
 * while it loads). `url` is the module; the message names it and says why.
 */
export class ModuleLoadError extends Error {
  override name = 'ModuleLoadError'
  /** @internal */
  constructor(readonly url: string, why: string) {
    super(`Runtime.start: module ${url} failed to load on an M: ${why}`)
  }
}

/** The Ms of one runtime, seen from the host. */
export class Ms {
  /** The workers, by M id (a retired M's slot is reused). */
  readonly workers: Worker[] = []
  /** Ms the host terminated on purpose (kill), with the cause their goroutines fail with. */
  private readonly killed = new Map<number, Error>()
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
   * Until Runtime.start resolves: an M that dies or fails an eager module
   * rejects start (once, through booted's promise) instead of being
   * reported and replaced, so a failed start leaves nothing running.
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
   * Starts the first n Ms and resolves when all are in their scheduler
   * loop; rejects with the first failure (an M that died while booting, an
   * eager module that failed to import), having terminated every M.
   */
  async boot(n: number): Promise<void> {
    const failed = new Promise<never>((_, reject) => {
      this.failBoot = reject
    })
    try {
      await Promise.race([Promise.all(Array.from({ length: n }, () => this.newm())), failed])
    } catch (e) {
      await this.terminate()
      throw e
    }
    this.booting = false
  }

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

  /** sysmon asks for a spare M (none idle): start one if none is starting and the cap allows. */
  spare(): void {
    if (this.starting === 0 && !this.stopping && this.broken === undefined &&
      (this.freeMids.length > 0 || this.workers.length < this.config.maxThreads) &&
      Atomics.load(this.heap.i32, schedw(this.heap.layout, SCHED_NMIDLE)) === 0) {
      void this.newm().catch(() => {})
    }
  }

  /** Starts one more M (Go's newm); resolves when it is in its scheduler loop. */
  newm(): Promise<void> {
    const reuse = this.freeMids.pop()
    const mid = reuse ?? this.workers.length
    const { maxThreads } = this.config
    if (mid >= maxThreads) {
      // Not fatal here (Go's is): the queued work runs when an M frees up.
      if (!this.warnedThreads) {
        this.warnedThreads = true
        this.hooks.report(new RangeError(`gort: program needs more than ${maxThreads} threads (the maxThreads option); queued goroutines wait for a free M`))
      }
      return Promise.resolve()
    }
    const h = this.heap
    if (reuse !== undefined) {
      // A retired or dead M's record: clear it (its id stays) for the new thread.
      const b = mbase(h.layout, mid)
      h.i32.fill(0, b + 1, mbase(h.layout, mid + 1))
      this.deadMs.delete(mid)
    }
    const w = new Worker(new URL('./mworker.js', import.meta.url), {
      workerData: { sab: h.sab, mid, modules: this.config.modules, idleTimeoutMs: this.config.mIdleTimeoutMs },
      ...(this.config.resourceLimits !== undefined ? { resourceLimits: this.config.resourceLimits } : {}),
    })
    this.workers[mid] = w
    lock(h.i32, schedw(h.layout, SCHED_LOCK))
    h.i32[schedw(h.layout, SCHED_MNEXT)] = this.workers.length
    unlock(h.i32, schedw(h.layout, SCHED_LOCK))
    this.starting++
    const started = new Promise<void>((resolve, reject) => {
      let ready = false
      w.on('message', (msg: ReadyMessage | { type: 'newm' }) => {
        if (msg.type === 'ready') {
          ready = true
          this.starting--
          this.startDeaths = 0
          const failed = msg.failed ?? []
          if (this.booting && failed.length > 0) this.failBoot(new ModuleLoadError(failed[0].url, failed[0].message))
          resolve()
        } else if (msg.type === 'newm') this.newmHandoff()
      })
      let cause: Error | undefined
      w.once('error', (e) => {
        cause = e instanceof Error ? e : new Error(String(e))
      })
      w.once('exit', (code) => {
        if (this.terminated) {
          if (!ready) reject(new Error('gort: the runtime was stopped while an M started'))
          return
        }
        if (Atomics.load(h.i32, mbase(h.layout, mid) + M_STATE) === Mstate.Mretired) {
          this.freeMids.push(mid)
          return
        }
        const killedFor = this.killed.get(mid)
        if (killedFor !== undefined) {
          // Terminated on purpose (kill): its goroutines fail with the
          // reason; nothing to report, and a new M takes its place.
          this.killed.delete(mid)
          this.mdied(mid, killedFor)
          return
        }
        const why = cause ?? new Error(`the thread exited with code ${code}`)
        if (this.booting) {
          // Runtime.start rejects with it, once; nothing is replaced or printed.
          this.stopping = true
          this.failBoot(new Error(`Runtime.start: M${mid} died while starting: ${why.message}`, { cause: why }))
          if (!ready) reject(why)
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
    return started
  }

  /** Posts a request to M mid's thread (its onHostMessage, mloop.ts); dropped if it has none. */
  post(mid: number, msg: unknown): void {
    this.workers[mid]?.postMessage(msg)
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
    if (!this.stopping) void this.newm().catch(() => {})
    return wasStarting
  }
}
