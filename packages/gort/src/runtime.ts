// Runtime: the app's handle on a gort runtime. It lives on the thread that
// started it (the host: usually the app's main thread), which is not an M and
// never blocks. It creates the shared heap, starts the Ms, spawns goroutines
// into the global run queue without a message per goroutine, and collects
// results from the completion stack in batches, with one wake-up per batch.

import { watchCollections } from './internal/gc.js'
import { EventEmitter } from 'node:events'
import os from 'node:os'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { wrap, type Remote } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { takeResult } from './internal/gvalue.js'
import { ArenaWait } from './internal/arenawait.js'
import { SharedHeap } from './internal/heap.js'
import { lock, notewakeup, unlock } from './internal/lock_futex.js'
import {
  gbase, mbase, pbase, schedw,
  G_FLAGS, G_GOID, G_SCHEDLINK,
  M_GCREDIT, M_SPINNING, SCHED_NMSPINNING, M_NGS, M_NSTARTED, M_READYQ, M_STATE, M_WANTP, M_LOCKS, M_NPENDING, M_P, M_NEXTP, P_M, SCHED_GFLOCK, HEAP_LOCK, heapw, SCHED_GCOUNT, SCHED_NWAKEGUARD, P_SCHEDTICK, P_STATUS, P_SYSCALLTICK,
  SCHED_CLOSING, SCHED_DONEHEAD, SCHED_HOSTWAITING, SCHED_NMIDLE, SCHED_NPIDLE, SCHED_NPENDINGIO, SCHED_LOCK, SCHED_MNEXT,
  SCHED_GNEXT, SCHED_NPREEMPT, SCHED_NRETAKEEXEC, SCHED_NRETAKESYSCALL, SCHED_SYSMONSLEEPUS, SCHED_SYSMONTICK, SCHED_SYSMONWAIT, SCHED_SYSMONNOTE,
  G_STATUS, G_WAITREASON, G_WAITSINCE, G_M, G_FN,
} from './internal/layout.js'
import { gcount, gfflush, gfget, gfput, handoffp, injectglist, mremove, mwantremove, newproc1, pidleput, setNeedM, wakep } from './internal/proc.js'
import { describeFn, funcid, funcKey, goroutineMeta } from './internal/registry.js'
import { schedtrace, type SysmonControl, type SysmonView } from './internal/sysmon.js'
import { globrunqsize, runqempty, runqlen } from './internal/runq.js'
import { Gflags, Gstatus, Mstate, Pstatus, waitReasonStrings } from './internal/runtime2.js'

export interface RuntimeOptions {
  /** GOMAXPROCS: Ps, and so goroutines running at once. Default: env GOMAXPROCS, else os.availableParallelism(). */
  procs?: number
  /** Goroutines that can be alive at once (G records). Default 1,048,576. */
  maxGoroutines?: number
  /** Bytes of the shared heap's arena for arguments, results and channel buffers. Default 64 MiB. */
  heapSize?: number
  /** Goroutine modules every M imports at start (URLs). Others load on first use. */
  modules?: Array<string | URL>
  /** The most Ms (worker threads) the runtime may start (Go's SetMaxThreads). Default procs + 16. */
  maxThreads?: number
  /** A goroutine step (the code between two yields) that runs longer than this loses its P to another M (sysmon's retake). Default 20 ms. */
  runawayMs?: number
  /**
   * Go's GODEBUG settings: `schedtrace=1000` prints a SCHED line every
   * second, `scheddetail=1` adds P, M and G lines. Default: env GODEBUG.
   */
  godebug?: string
  /**
   * Run as a program's main (Go's semantics; the gort CLI sets it): when
   * every goroutine is asleep and nothing can wake them, print Go's
   * "fatal error: all goroutines are asleep - deadlock!" with the dump and
   * exit with status 2. Embedded (the default), emit 'deadlock' instead.
   */
  main?: boolean
  /**
   * An M idle this long ends its thread, if nothing lives on it and another
   * idle M stays as the spare (sysmon starts a new one ahead of need).
   * Default 60,000 ms; 0 keeps every M.
   */
  mIdleTimeoutMs?: number
  /** Passed to every M's Worker. */
  resourceLimits?: ConstructorParameters<typeof Worker>[1] extends infer O ? O extends { resourceLimits?: infer R } ? R : never : never
}

/** What `rt.go` returns: the goroutine's id and a promise of its result. */
export interface Goroutine<R> {
  readonly id: number
  readonly result: Promise<R>
}

export interface CloseResult {
  /** Goroutines still alive that can never run again (all parked with nothing to wake them). */
  left: number
}

type Fn<A extends unknown[], R> = (...args: A) => Generator<unknown, R, any>

interface Waiter {
  resolve(v: unknown): void
  reject(e: unknown): void
}

/**
 * What rt.go returns. Its result promise is made when first asked for: a
 * goroutine whose result nobody reads (Go's `go f()`) costs the app this
 * object until it finishes, not a promise and its resolving functions too
 * (a million parked goroutines: about 220 MB less on the app's thread).
 * A failure nobody asked about still rejects a promise, which Node reports
 * as an unhandled rejection, as an unread rt.run() promise would.
 */
class HostGoroutine<R> implements Goroutine<R>, Waiter {
  private p: Promise<R> | undefined
  private res: ((v: R) => void) | undefined
  private rej: ((e: unknown) => void) | undefined
  /** The value, once the goroutine has returned before anyone asked for the result. */
  private v: R | undefined
  private returned = false

  constructor(readonly id: number) {}

  get result(): Promise<R> {
    return (this.p ??= this.returned ? Promise.resolve(this.v as R) : new Promise<R>((res, rej) => {
      this.res = res
      this.rej = rej
    }))
  }

  resolve(v: unknown): void {
    if (this.res !== undefined) this.res(v as R)
    else if (this.p === undefined) {
      this.v = v as R
      this.returned = true
    }
  }

  reject(e: unknown): void {
    if (this.rej !== undefined) this.rej(e)
    else this.p ??= Promise.reject(e)
  }
}

const SPAWN_BATCH = 256

let defaultRuntime: Runtime | undefined

/** What the app thread's channel operations need from a runtime. */
export interface Host {
  readonly heap: SharedHeap
  /** Resolves when the host waiter record gp is readied (goready). */
  park(gp: number): Promise<void>
}
const hosts = new WeakMap<Runtime, Host>()

/** @internal The host side of rt, for chan.ts. */
export function hostOf(rt: Runtime): Host {
  return hosts.get(rt)!
}

/** A gort runtime: Ms on worker threads, Ps and goroutines in a shared heap. */
export class Runtime extends EventEmitter {
  private readonly heap: SharedHeap
  private readonly ms: Worker[] = []
  private readonly maxThreads: number
  private readonly workerOptions: { resourceLimits?: RuntimeOptions['resourceLimits'] }
  private readonly modules: string[]
  private readonly waiters: Array<Waiter | undefined> = []
  private nwaiters = 0
  private batchHead = 0
  private batchTail = 0
  private batchN = 0
  private flushQueued = false
  private closing = false
  private closed = false
  /** Stops the host's watch for collection requests (gc.ts). */
  private stopCollections: () => void = () => {}
  private keepAlive: ReturnType<typeof setInterval> | undefined
  readonly procs: number

  private constructor(heap: SharedHeap, procs: number, opts: RuntimeOptions, modules: string[]) {
    super()
    this.heap = heap
    this.procs = procs
    this.maxThreads = opts.maxThreads ?? procs + 16
    this.workerOptions = opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}
    this.modules = modules
    this.main = opts.main === true
    this.mIdleTimeoutMs = opts.mIdleTimeoutMs ?? 60_000
  }

  private readonly mIdleTimeoutMs: number
  /** M records whose thread retired: reused by newm. */
  private readonly freeMids: number[] = []

  private readonly main: boolean
  private deadlockTimer: ReturnType<typeof setInterval> | undefined
  private deadlockReported = false

  /**
   * Go's checkdead, from the app's thread: every 100 ms, if goroutines are
   * alive but none is runnable or running and nothing pending (a timer,
   * I/O, a promise) could ready one, twice in a row, they are deadlocked.
   */
  private startDeadlockCheck(): void {
    let suspect = 0
    this.deadlockTimer = setInterval(() => {
      if (this.closing || gcount(this.heap) === 0 || !this.nothingCanRun()) {
        suspect = 0
        this.deadlockReported = false
        return
      }
      if (++suspect < 2 || this.deadlockReported) return
      this.deadlockReported = true
      const dump = this.dump()
      if (this.main) {
        process.stderr.write(`fatal error: all goroutines are asleep - deadlock!\n\n${dump}`)
        process.exit(2)
      }
      this.emit('deadlock', dump)
    }, 100)
    this.deadlockTimer.unref()
  }

  /**
   * A goroutine dump in Go's shape, one paragraph per goroutine:
   *
   *     goroutine 7 [chan receive, 2 minutes]:
   *     worker(...)
   *     	file:///app/tasks.js on M1
   *
   * The wait reason is Go's; the minutes are shown after one minute of
   * waiting, as Go does. V8 keeps no stack for a suspended generator, so
   * where a goroutine is comes as its function and module (a closure
   * started with go(function* ...) shows as a local closure).
   */
  dump(opts: { print?: boolean } = {}): string {
    const h = this.heap
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
    const out = parts.join('\n')
    if (opts.print === true) process.stderr.write(out)
    return out
  }

  /** Go's schedtrace line (GODEBUG=schedtrace), now; with detail, its P, M and G lines. */
  schedtrace(opts: { detail?: boolean } = {}): string {
    return schedtrace(this.heap, { scheddetail: opts.detail === true, startTime: this.startTime })
  }

  /**
   * Starts a runtime: creates the shared heap and starts procs + 1 Ms (one
   * spare, so a P can be handed off without waiting 16 ms for a new thread).
   *
   * @example
   * const rt = await Runtime.start({ procs: 2 })
   */
  static async start(opts: RuntimeOptions = {}): Promise<Runtime> {
    const envProcs = process.env.GOMAXPROCS !== undefined && process.env.GOMAXPROCS !== '' ? Number(process.env.GOMAXPROCS) : undefined
    const procs = opts.procs ?? envProcs ?? os.availableParallelism()
    if (!Number.isInteger(procs) || procs < 1 || procs > 1024) {
      throw new RangeError(`Runtime.start: procs must be an integer from 1 to 1024, got ${String(procs)}`)
    }
    const maxGoroutines = opts.maxGoroutines ?? 1 << 20
    if (!Number.isInteger(maxGoroutines) || maxGoroutines < 1 || maxGoroutines > 2 ** 26 - 1) {
      throw new RangeError(`Runtime.start: maxGoroutines must be an integer from 1 to ${2 ** 26 - 1}, got ${String(maxGoroutines)}`)
    }
    const heapSize = opts.heapSize ?? 64 << 20
    if (!Number.isInteger(heapSize) || heapSize < 4096) {
      throw new RangeError(`Runtime.start: heapSize must be an integer of at least 4096 bytes, got ${String(heapSize)}`)
    }
    const maxThreads = opts.maxThreads ?? procs + 16
    if (!Number.isInteger(maxThreads) || maxThreads < procs + 1) {
      throw new RangeError(`Runtime.start: maxThreads must be an integer of at least procs + 1 (${procs + 1}), got ${String(maxThreads)}`)
    }
    const modules = (opts.modules ?? []).map((u) => String(u))
    const heap = SharedHeap.create({
      maxProcs: procs, runqSize: 256, maxMs: maxThreads, maxGs: maxGoroutines + 1, arenaBytes: heapSize & ~7,
    })
    // Every P starts idle, P0 first: Ms find them when work arrives (wakep, startm).
    for (let i = procs - 1; i >= 0; i--) pidleput(heap, i)
    const rt = new Runtime(heap, procs, { ...opts, maxThreads }, modules)
    // startm calls this hook holding sched.lock; newm takes sched.lock too
    // (the main thread spins on it): so start the M after the caller unlocks.
    setNeedM(heap, () => queueMicrotask(() => rt.needm()))
    await Promise.all(Array.from({ length: procs + 1 }, () => rt.newm()))
    const runawayMs = opts.runawayMs ?? 20
    if (typeof runawayMs !== 'number' || !(runawayMs >= 1)) {
      throw new RangeError(`Runtime.start: runawayMs must be a number of at least 1, got ${String(runawayMs)}`)
    }
    // Resolve once sysmon watches: a goroutine that runs away right after
    // start() must not find it still loading (~45 ms here).
    await rt.startSysmon(runawayMs, parseGodebug(opts.godebug ?? process.env.GODEBUG ?? ''))
    rt.startDeadlockCheck()
    hosts.set(rt, { heap, park: (gp) => rt.hostPark(gp) })
    void rt.hostLoop()
    rt.stopCollections = watchCollections(heap)
    defaultRuntime ??= rt
    return rt
  }

  private sysmonWorker: Worker | undefined
  private readonly startTime = Date.now()

  /**
   * Lets sysmon see sched.closing and leave its loop, so that what it
   * printed reaches stdout (terminating a worker drops its pending
   * output); terminates it if it does not go within 200 ms.
   */
  private async stopSysmon(): Promise<void> {
    const w = this.sysmonWorker
    if (w === undefined) return
    const h = this.heap
    const m = h.i32
    Atomics.store(m, schedw(h.layout, SCHED_CLOSING), 1)
    const exited = new Promise<boolean>((r) => w.once('exit', () => r(true)))
    Atomics.notify(m, schedw(h.layout, SCHED_SYSMONTICK))
    if (Atomics.compareExchange(m, schedw(h.layout, SCHED_SYSMONWAIT), 1, 0) === 1) notewakeup(m, schedw(h.layout, SCHED_SYSMONNOTE))
    const gone = await Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => r(false), 200))])
    if (!gone) await w.terminate()
  }

  private sysmonControl: Remote<SysmonControl> | undefined
  private sysmonPort: MessagePort | undefined

  /** Wakes sysmon if it sleeps on its note, so that it reads a control request now. */
  private pokeSysmon(): void {
    const h = this.heap
    Atomics.notify(h.i32, schedw(h.layout, SCHED_SYSMONTICK))
    if (Atomics.compareExchange(h.i32, schedw(h.layout, SCHED_SYSMONWAIT), 1, 0) === 1) notewakeup(h.i32, schedw(h.layout, SCHED_SYSMONNOTE))
  }

  /**
   * sysmon's own view, through the control plane (comlink; sysmon answers
   * between its looks): its pace, and how long each P's schedtick and
   * current step or syscall have gone unchanged as it last saw them.
   */
  async sysmonView(): Promise<SysmonView> {
    if (this.sysmonControl === undefined || this.closed) throw new Error('sysmonView: the runtime is closed')
    const r = this.sysmonControl.view()
    this.pokeSysmon()
    return await r
  }

  /**
   * Changes GODEBUG settings at run time (schedtrace=N, scheddetail=1), as
   * the environment variable does at start. Resolves once sysmon has them.
   */
  async setGodebug(godebug: string): Promise<void> {
    if (this.sysmonControl === undefined || this.closed) throw new Error('setGodebug: the runtime is closed')
    const g = parseGodebug(godebug)
    const r = this.sysmonControl.setSchedtrace(Number(g.get('schedtrace') ?? 0) || 0, g.get('scheddetail') === '1')
    this.pokeSysmon()
    await r
  }

  /** Starts sysmon's thread (internal/sysmon.ts). */
  private startSysmon(runawayMs: number, godebug: Map<string, string>): Promise<void> {
    const schedtrace = Number(godebug.get('schedtrace') ?? 0) || 0
    // The control plane: comlink over a port of its own (sysmon polls it).
    const { port1, port2 } = new MessageChannel()
    port1.unref()
    this.sysmonControl = wrap<SysmonControl>(nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]))
    this.sysmonPort = port1
    const w = new Worker(new URL('./internal/sysmonworker.js', import.meta.url), {
      workerData: {
        sysmon: true,
        sab: this.heap.sab,
        control: port2,
        opts: { runawayMs, schedtrace, scheddetail: godebug.get('scheddetail') === '1', startTime: this.startTime },
      },
      transferList: [port2],
    })
    w.unref()
    let ready!: () => void
    const started = new Promise<void>((r) => { ready = r })
    w.once('exit', () => ready())
    w.on('message', (msg: { type: string }) => {
      if (msg.type === 'ready') ready()
      else if (msg.type === 'needm') this.needm()
      else if (msg.type === 'spare' && this.starting === 0 && !this.closing && this.broken === undefined &&
        (this.freeMids.length > 0 || this.ms.length < this.maxThreads) && Atomics.load(this.heap.i32, schedw(this.heap.layout, SCHED_NMIDLE)) === 0) {
        void this.newm().catch(() => {})
      }
    })
    w.once('error', (e) => {
      if (!this.closed) this.report(Object.assign(new Error(`gort: sysmon died: ${(e as Error).message}`), { cause: e }))
    })
    this.sysmonWorker = w
    return started
  }

  private starting = 0
  private warnedThreads = false

  /** A runtime-level problem: 'error' listeners get it; with none, it is printed (never thrown at the app). */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else process.stderr.write(`gort: ${err.stack ?? err.message}\n`)
  }

  /**
   * An M found no idle M to run a P. The request arrives later than it was
   * made, so start a worker only if it is still needed: a P idle, queued
   * work, no idle M, and none starting already.
   */
  private needm(): void {
    if (this.closing) return
    const h = this.heap
    const m = h.i32
    const l = h.layout
    if (Atomics.load(m, schedw(l, SCHED_NPIDLE)) === 0 || globrunqsize(h) === 0) return
    // An M went idle since the request was made: it may have gone to sleep
    // after the work was left on the global queue for an M that did not
    // exist yet, so wake one rather than drop the request.
    if (Atomics.load(m, schedw(l, SCHED_NMIDLE)) > 0) wakep(h)
    else if (this.starting === 0) void this.newm()
  }

  /** Starts one more M (Go's newm); resolves when it is in its scheduler loop. */
  private newm(): Promise<void> {
    const reuse = this.freeMids.pop()
    const mid = reuse ?? this.ms.length
    if (mid >= this.maxThreads) {
      // Not fatal here (Go's is): the queued work runs when an M frees up.
      if (!this.warnedThreads) {
        this.warnedThreads = true
        this.report(new RangeError(`gort: program needs more than ${this.maxThreads} threads (the maxThreads option); queued goroutines wait for a free M`))
      }
      return Promise.resolve()
    }
    if (reuse !== undefined) {
      // A retired M's record: clear it (its id stays) for the new thread.
      const l = this.heap.layout
      const b = mbase(l, mid)
      this.heap.i32.fill(0, b + 1, mbase(l, mid + 1))
    }
    const w = new Worker(new URL('./internal/mworker.js', import.meta.url), {
      workerData: { sab: this.heap.sab, mid, modules: this.modules, idleTimeoutMs: this.mIdleTimeoutMs },
      ...this.workerOptions,
    })
    this.ms[mid] = w
    lock(this.heap.i32, schedw(this.heap.layout, SCHED_LOCK))
    this.heap.i32[schedw(this.heap.layout, SCHED_MNEXT)] = this.ms.length
    unlock(this.heap.i32, schedw(this.heap.layout, SCHED_LOCK))
    w.unref()
    this.starting++
    return new Promise<void>((resolve, reject) => {
      w.on('message', (msg: { type: string }) => {
        if (msg.type === 'ready') {
          this.starting--
          this.startDeaths = 0
          resolve()
        } else if (msg.type === 'needm') this.needm()
      })
      let cause: Error | undefined
      w.once('error', (e) => {
        cause = e instanceof Error ? e : new Error(String(e))
      })
      w.once('exit', (code) => {
        if (this.closed) return
        if (Atomics.load(this.heap.i32, mbase(this.heap.layout, mid) + M_STATE) === Mstate.Mretired) {
          this.freeMids.push(mid)
          return
        }
        const why = cause ?? new Error(`the thread exited with code ${code}`)
        this.report(Object.assign(new Error(`gort: M${mid} died: ${why.message}`), { cause: why }))
        const wasStarting = this.mdied(mid, why)
        if (wasStarting) {
          this.starting--
          reject(why)
        }
      })
    })
  }

  /** Ms that died, by index. */
  private readonly deadMs = new Set<number>()
  /** Ms that died in a row before reaching their scheduler loop. */
  private startDeaths = 0
  /** Set when Ms keep dying while starting: new work is refused with it. */
  private broken: Error | undefined

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
    // never wake anyone again.
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
      const w = this.waiters[gp]
      if (w !== undefined) {
        this.waiters[gp] = undefined
        if (--this.nwaiters === 0) this.unref()
        w.reject(Object.assign(new Error(`gort: goroutine ${Atomics.load(m, b + G_GOID)} was lost: M${mid}, the thread it lived on, died: ${cause.message}`), { cause }))
      }
    }
    // And the counts it held ahead of need (mloop.ts gcountTake).
    lost += m[mbase(l, mid) + M_GCREDIT]
    m[mbase(l, mid) + M_GCREDIT] = 0
    if (lost > 0) Atomics.sub(m, schedw(l, SCHED_GCOUNT), lost)
    if (wasStarting) {
      if (++this.startDeaths >= 3) {
        this.broken = new Error(`gort: Ms keep dying while they start (${this.startDeaths} in a row); the last: ${cause.message}`, { cause })
        this.report(this.broken)
        return true
      }
    }
    if (!this.closing) void this.newm().catch(() => {})
    return wasStarting
  }

  /**
   * Starts fn(...args) as a goroutine and returns its id and a promise of
   * its result. fn must be registered with goroutines().
   *
   * @example
   * const g = rt.go(tasks.fib, 30)
   * console.log(g.id, await g.result)
   */
  go<A extends unknown[], R>(fn: Fn<A, R>, ...args: A): Goroutine<R> {
    return this.spawn(fn, args, undefined) as HostGoroutine<R>
  }

  /** rt.go(fn, ...args).result */
  run<A extends unknown[], R>(fn: Fn<A, R>, ...args: A): Promise<R> {
    let waiter!: Waiter
    const result = new Promise<R>((resolve, reject) => {
      waiter = { resolve: resolve as (v: unknown) => void, reject }
    })
    this.spawn(fn, args, waiter)
    return result
  }

  /** Starts a goroutine whose result goes to waiter, or to a HostGoroutine (returned) if none is given. */
  private spawn(fn: unknown, args: unknown[], waiter: Waiter | undefined): Waiter {
    if (this.closing) throw new Error('go: the runtime is closing (close() was called); no new goroutines can start')
    if (this.broken !== undefined) throw this.broken
    const meta = goroutineMeta(fn)
    if (meta === undefined) {
      throw new TypeError(
        `go: ${describeFn(fn)} is not a registered goroutine function; export it from a module through ` +
          'goroutines(import.meta.url, { *name(...) { ... } }) so that every M can load it',
      )
    }
    const h = this.heap
    const l = h.layout
    const fnid = funcid(h, meta)
    const gp = gfget(h)
    if (gp < 0) throw new RangeError(`go: more than ${l.maxGs - 1} goroutines alive; raise the maxGoroutines option`)
    const gb = gbase(l, gp)
    let now: boolean
    try {
      // false: the arena has no room for them yet; argq calls batch(gp) once they are in.
      now = this.argq.put(gp, args)
    } catch (e) {
      gfput(h, gp)
      // One failure mode per call (docs/design/errors.md): rt.run rejects, rt.go throws.
      if (waiter === undefined) throw e
      waiter.reject(e)
      return waiter
    }
    // Counted into sched.gcount by flush, with its batch, before anyone can see it.
    const goid = newproc1(h, gb, fnid, Gflags.Gawaited | Gflags.Ghost, true)
    waiter ??= new HostGoroutine(goid)
    this.waiters[gp] = waiter
    if (this.nwaiters++ === 0) this.ref()
    if (now) this.batch(gp)
    return waiter
  }

  private argqs: ArenaWait | undefined
  /** Spawns whose arguments wait for arena space (internal/arenawait.ts). */
  private get argq(): ArenaWait {
    return this.argqs ??= new ArenaWait(this.heap, (gp) => this.batch(gp), (gp, e) => {
      const w = this.waiters[gp]
      if (w !== undefined) {
        this.waiters[gp] = undefined
        if (--this.nwaiters === 0) this.unref()
        w.reject(e)
      }
      gfput(this.heap, gp)
    })
  }

  /** Adds G gp, its arguments in place, to the batch of spawns. */
  private batch(gp: number): void {
    const m = this.heap.i32
    const l = this.heap.layout
    // Batch spawns: one lock and one wake-up per batch.
    if (this.batchN === 0) this.batchHead = gp
    else m[gbase(l, this.batchTail) + G_SCHEDLINK] = gp
    this.batchTail = gp
    if (++this.batchN >= SPAWN_BATCH) this.flush()
    else if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(() => this.flush())
    }
  }

  private flush(): void {
    this.flushQueued = false
    if (this.batchN === 0) return
    const { batchHead, batchTail, batchN } = this
    this.batchN = 0
    Atomics.add(this.heap.i32, schedw(this.heap.layout, SCHED_GCOUNT), batchN)
    injectglist(this.heap, batchHead, batchTail, batchN)
  }

  /** Parks a promise on host waiter record gp until goready pushes it to the completion stack. */
  private hostPark(gp: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters[gp] = { resolve: resolve as (v: unknown) => void, reject }
      if (this.nwaiters++ === 0) this.ref()
    })
  }

  /** Holds the event loop open while the app awaits results. */
  private ref(): void {
    this.keepAlive ??= setInterval(() => {}, 1 << 30)
  }

  private unref(): void {
    if (this.keepAlive !== undefined) {
      clearInterval(this.keepAlive)
      this.keepAlive = undefined
    }
  }

  /**
   * Collects finished goroutines from the completion stack. Waits with
   * Atomics.waitAsync (the host never blocks) after announcing itself in
   * sched.hostwaiting, so that Ms notify only when it sleeps.
   */
  private async hostLoop(): Promise<void> {
    const h = this.heap
    const m = h.i32
    const d = schedw(h.layout, SCHED_DONEHEAD)
    const hw = schedw(h.layout, SCHED_HOSTWAITING)
    // Runs until close: a pending Atomics.waitAsync does not keep the
    // process alive, only the ref'd timer held while results are awaited.
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

  /** Settles the goroutines on a completion list. */
  private complete(list: number): void {
    const h = this.heap
    const m = h.i32
    const l = h.layout
    for (let gp = list; gp !== 0; ) {
      const gb = gbase(l, gp)
      const next = m[gb + G_SCHEDLINK]
      const flags = m[gb + G_FLAGS]
      if ((flags & Gflags.Ghostwait) !== 0) {
        // A channel operation of the app's thread was completed by a partner.
        m[gb + G_FLAGS] = 0
        const w = this.waiters[gp]!
        this.waiters[gp] = undefined
        if (--this.nwaiters === 0) this.unref()
        gfput(h, gp)
        w.resolve(undefined)
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
      const w = this.waiters[gp]
      if (w !== undefined) {
        this.waiters[gp] = undefined
        if (--this.nwaiters === 0) this.unref()
        if (failed) w.reject(value)
        else w.resolve(value)
      } else if (failed) {
        this.unhandled(value, goid)
      }
      gfput(h, gp)
      gp = next
    }
  }

  /** A goroutine nobody awaits failed: 'error' listeners get it, else print it as Go prints a panic. */
  private unhandled(err: unknown, goid: number): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else {
      const text = err instanceof Error ? (err.stack ?? String(err)) : String(err)
      process.stderr.write(`panic: ${text}\n\ngoroutine ${goid} [running]\n`)
    }
  }

  /** Live goroutines (Go's runtime.NumGoroutine). */
  numGoroutine(): number {
    return gcount(this.heap) + this.batchN + this.argq.length // and the spawns not flushed yet, or waiting for arena space
  }

  /**
   * Stops new spawns from the app and resolves when every goroutine has
   * finished, or when the ones left can never run again (parked, with
   * nothing that could wake them); `left` says how many. Then the Ms exit.
   */
  async close(): Promise<CloseResult> {
    if (this.closed) return { left: 0 }
    this.closing = true
    this.flush()
    const h = this.heap
    Atomics.store(h.i32, schedw(h.layout, SCHED_CLOSING), 1)
    let stuckChecks = 0
    let left = 0
    for (;;) {
      if (gcount(h) === 0 && this.nwaiters === 0) break
      if (this.nothingCanRun()) {
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

  /** No goroutine is runnable or running, and nothing pending could ready one. */
  private nothingCanRun(): boolean {
    const h = this.heap
    const m = h.i32
    const l = h.layout
    if (Atomics.load(m, schedw(l, SCHED_NPENDINGIO)) > 0 || globrunqsize(h) > 0) return false
    if (Atomics.load(m, schedw(l, SCHED_DONEHEAD)) !== 0) return false
    for (let p = 0; p < this.procs; p++) {
      if (!runqempty(h, p)) return false
      if (Atomics.load(m, pbase(l, p) + P_STATUS) !== Pstatus.Pidle) return false
    }
    for (let i = 0; i < this.ms.length; i++) {
      const b = mbase(l, i)
      if (Atomics.load(m, b + M_READYQ) !== 0 || Atomics.load(m, b + M_WANTP) !== 0) return false
      const st = Atomics.load(m, b + M_STATE)
      if (st !== Mstate.Midle && st !== Mstate.Mdead && st !== Mstate.Mretired) return false
    }
    return true
  }

  /** Ends everything now: the Ms exit and every awaited goroutine rejects. */
  async destroy(): Promise<void> {
    this.closing = true
    const err = new Error('gort: the runtime was destroyed')
    for (let gp = 0; gp < this.waiters.length; gp++) {
      const w = this.waiters[gp]
      if (w !== undefined) {
        this.waiters[gp] = undefined
        w.reject(err)
      }
    }
    this.nwaiters = 0
    await this.shutdown()
  }

  private async shutdown(): Promise<void> {
    this.closed = true
    this.heap.dead = true
    this.stopCollections()
    clearInterval(this.deadlockTimer)
    this.unref()
    gfflush(this.heap)
    // Wake a host loop that waits on the completion stack, so it sees `closed`.
    Atomics.notify(this.heap.i32, schedw(this.heap.layout, SCHED_DONEHEAD))
    await this.stopSysmon()
    this.sysmonPort?.close()
    await Promise.all(this.ms.map((w) => w.terminate()))
    if (defaultRuntime === this) defaultRuntime = undefined
    this.emit('close')
  }

  /** A snapshot of Ps, Ms and goroutine counts (the sysmon issue extends it). */
  stats(): RuntimeStats {
    const h = this.heap
    const m = h.i32
    const l = h.layout
    const ps = Array.from({ length: this.procs }, (_, p) => {
      const b = pbase(l, p)
      return {
        id: p,
        status: (['idle', 'running', 'syscall', 'gcstop', 'dead', 'exec'] as const)[Atomics.load(m, b + P_STATUS)],
        schedtick: Atomics.load(m, b + P_SCHEDTICK) >>> 0,
        syscalltick: Atomics.load(m, b + P_SYSCALLTICK) >>> 0,
        runqueue: runqlen(h, p),
      }
    })
    const ms = this.ms.map((w, i) => ({
      id: i,
      threadId: w.threadId,
      state: (['starting', 'running', 'spinning', 'idle', 'dead', 'retired'] as const)[Atomics.load(m, mbase(l, i) + M_STATE)],
      goroutines: Atomics.load(m, mbase(l, i) + M_NGS),
      started: Atomics.load(m, mbase(l, i) + M_NSTARTED) >>> 0,
    }))
    const byStatus = { runnable: 0, running: 0, syscall: 0, waiting: 0 }
    const n = Math.min(Atomics.load(m, schedw(l, SCHED_GNEXT)), l.maxGs)
    for (let gp = 1; gp < n; gp++) {
      const b = gbase(l, gp)
      if ((Atomics.load(m, b + G_FLAGS) & Gflags.Ghostwait) !== 0) continue
      const st = Atomics.load(m, b + G_STATUS)
      if (st === Gstatus.Grunnable) byStatus.runnable++
      else if (st === Gstatus.Grunning) byStatus.running++
      else if (st === Gstatus.Gsyscall) byStatus.syscall++
      else if (st === Gstatus.Gwaiting) byStatus.waiting++
    }
    const sysmon = {
      preemptions: Atomics.load(m, schedw(l, SCHED_NPREEMPT)) >>> 0,
      retakesSyscall: Atomics.load(m, schedw(l, SCHED_NRETAKESYSCALL)) >>> 0,
      retakesRunaway: Atomics.load(m, schedw(l, SCHED_NRETAKEEXEC)) >>> 0,
      wakeGuards: Atomics.load(m, schedw(l, SCHED_NWAKEGUARD)) >>> 0,
      loops: Atomics.load(m, schedw(l, SCHED_SYSMONTICK)) >>> 0,
      sleepMicros: Atomics.load(m, schedw(l, SCHED_SYSMONSLEEPUS)),
      waitingOnNote: Atomics.load(m, schedw(l, SCHED_SYSMONWAIT)) === 1,
    }
    return { gomaxprocs: this.procs, goroutines: gcount(h), globalRunqueue: globrunqsize(h), ps, ms, byStatus, sysmon }
  }

  /** Wait reason names, for dumps (the sysmon issue builds rt.dump on them). */
  static readonly waitReasons = waitReasonStrings
}

export interface RuntimeStats {
  gomaxprocs: number
  goroutines: number
  globalRunqueue: number
  ps: Array<{ id: number; status: string; schedtick: number; syscalltick: number; runqueue: number }>
  ms: Array<{ id: number; threadId: number; state: string; goroutines: number; started: number }>
  /** Goroutines by status (G records; the app's own waits are not goroutines). */
  byStatus: { runnable: number; running: number; syscall: number; waiting: number }
  /**
   * Sysmon's counts: preemption requests, Ps taken from syscalls and from
   * runaway steps, wake-ups it had to make up for (wakeGuards: work left on
   * the global queue with every P idle; a scheduler bug if ever above 0),
   * its loop and sleep.
   */
  sysmon: { preemptions: number; retakesSyscall: number; retakesRunaway: number; wakeGuards: number; loops: number; sleepMicros: number; waitingOnNote: boolean }
}


/** The runtime started first and not yet closed, if any. */
export function currentRuntime(): Runtime | undefined {
  return defaultRuntime
}

/** GODEBUG's comma-separated name=value pairs. */
function parseGodebug(s: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const kv of s.split(',')) {
    const i = kv.indexOf('=')
    if (i > 0) out.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim())
  }
  return out
}
