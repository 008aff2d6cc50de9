// The sync package across threads. WaitGroup now; Mutex, RWMutex, Once,
// Cond and Semaphore follow on the same shared record (internal/sema.ts).

import { handleObject, kHandle, registerHandleKind, type HandleRef } from './internal/codec.js'
import type { SharedHeap } from './internal/heap.js'
import { PARK } from './internal/ops.js'
import { SEMA_LIMIT, SEMA_REFS } from './internal/layout.js'
import { defineRefKind, release, retain, track } from './internal/refs.js'
import { getg, mheap } from './internal/proc.js'
import { PARKED } from './internal/chan.js'
import {
  condenqueue, condwake, rwlock, rwrlock, rwrunlock, rwtrylock, rwunlock,
  newsemaphore, oncebegin, oncedone, semacquire, semrelease, semtryacquire,
  SemaKind, freesema, mutexG, mutexSudog, mutexlock, mutexlocked, mutextrylock, mutexunlock, mutexwoken, newsema, semaG, semaSudog,
  wgadd, wgcount, wgwait, wgwaitdone,
} from './internal/sema.js'
import type { ChanOp } from './chan.js'
import { heapHost } from './internal/host.js'
import { currentRuntime, hostOf, type Runtime } from './runtime.js'

const HANDLE_WAITGROUP = 2
const HANDLE_MUTEX = 3
const HANDLE_SEMAPHORE = 4
const HANDLE_ONCE = 5
const HANDLE_RWMUTEX = 7
const HANDLE_COND = 8

function heapHere(what: string, rt?: Runtime): SharedHeap {
  const h = mheap()
  if (h !== undefined) return h
  const r = rt ?? currentRuntime()
  if (r === undefined) throw new Error(`${what}: no runtime is running on this thread; start one with Runtime.start() or pass { runtime }`)
  return hostOf(r).heap
}

/**
 * Go's sync.WaitGroup, shared by every M and the app's thread: pass it to
 * goroutines as an argument.
 *
 * @example
 * const wg = new WaitGroup()
 * for (const job of jobs) { wg.add(1); rt.go(tasks.work, job, wg) }   // each calls wg.done()
 * await wg.wait()
 */
export class WaitGroup {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number

  constructor(opts?: { runtime?: Runtime })
  /** @internal A handle to the record at at.ptr (a decoding; registerHandleKind). */
  constructor(opts: { runtime?: Runtime }, at: { heap: SharedHeap; ptr: number })
  constructor(opts: { runtime?: Runtime } = {}, at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = heapHere('WaitGroup', opts.runtime)
      this.ptr = newsema(this.heap, SemaKind.WaitGroup)
    }
    track(this.heap, this, HANDLE_WAITGROUP, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_WAITGROUP, ptr: this.ptr }
  }

  /** Adds delta (may be negative) to the counter. Throws "sync: negative WaitGroup counter". */
  add(delta = 1): void {
    if (!Number.isInteger(delta)) throw new TypeError(`WaitGroup.add: delta must be an integer, got ${String(delta)}`)
    wgadd(this.heap, this.ptr, delta)
  }

  /** add(-1). */
  done(): void {
    wgadd(this.heap, this.ptr, -1)
  }

  /** The counter now (for diagnostics). */
  count(): number {
    return wgcount(this.heap, this.ptr)
  }

  /** Blocks until the counter is zero: yield* in a goroutine, await on the app's thread. */
  wait(): ChanOp<void> {
    if (getg() !== 0) return waitG(this.heap, this.ptr) as ChanOp<void>
    if (mheap() !== undefined) throw new Error('WaitGroup.wait: must run inside a goroutine on an M')
    return this.hostWait() as unknown as ChanOp<void>
  }

  private async hostWait(): Promise<void> {
    const host = heapHost(this.heap, 'WaitGroup.wait')
    if (wgwait(this.heap, this.ptr, 0) !== PARKED) return
    const sg = semaSudog
    await host.park(semaG)
    wgwaitdone(this.heap, sg)
  }
}

function* waitG(h: SharedHeap, p: number): Generator<unknown, void, unknown> {
  if (wgwait(h, p, getg()) !== PARKED) return
  const sg = semaSudog
  yield PARK
  wgwaitdone(h, sg)
}

registerHandleKind(HANDLE_WAITGROUP, (heap, ptr) => new WaitGroup({}, { heap, ptr }), { shared: true })

/**
 * Go's sync.Mutex, shared by every M and the app's thread, with Go's
 * starvation mode: a waiter that has waited over 1 ms gets the lock handed
 * over on the next unlock.
 *
 * @example
 * yield* mu.lock(); try { ... } finally { mu.unlock() }
 */
export class Mutex {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number

  constructor(opts?: { runtime?: Runtime })
  /** @internal A handle to the record at at.ptr (a decoding; registerHandleKind). */
  constructor(opts: { runtime?: Runtime }, at: { heap: SharedHeap; ptr: number })
  constructor(opts: { runtime?: Runtime } = {}, at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = heapHere('Mutex', opts.runtime)
      this.ptr = newsema(this.heap, SemaKind.Mutex)
    }
    track(this.heap, this, HANDLE_MUTEX, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_MUTEX, ptr: this.ptr }
  }

  /** Locks it: yield* in a goroutine, await on the app's thread. */
  lock(): ChanOp<void> {
    if (getg() !== 0) return lockG(this.heap, this.ptr) as ChanOp<void>
    if (mheap() !== undefined) throw new Error('Mutex.lock: must run inside a goroutine on an M')
    return this.hostLock() as unknown as ChanOp<void>
  }

  /** Takes it if it is free; never blocks. */
  tryLock(): boolean {
    return mutextrylock(this.heap, this.ptr)
  }

  /** Unlocks it. Throws "sync: unlock of unlocked mutex". */
  unlock(): void {
    mutexunlock(this.heap, this.ptr)
  }

  /** Whether it is held (for diagnostics). */
  locked(): boolean {
    return mutexlocked(this.heap, this.ptr)
  }

  private async hostLock(): Promise<void> {
    const host = heapHost(this.heap, 'Mutex.lock')
    let front = false
    for (;;) {
      if (mutexlock(this.heap, this.ptr, 0, front) !== PARKED) return
      const sg = mutexSudog
      await host.park(mutexG)
      if (mutexwoken(this.heap, sg)) return
      front = true
    }
  }
}

function* lockG(h: SharedHeap, p: number): Generator<unknown, void, unknown> {
  let front = false
  for (;;) {
    if (mutexlock(h, p, getg(), front) !== PARKED) return
    const sg = mutexSudog
    yield PARK
    if (mutexwoken(h, sg)) return
    front = true
  }
}

registerHandleKind(HANDLE_MUTEX, (heap, ptr) => new Mutex({}, { heap, ptr }), { shared: true })

function checkWeight(fn: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, got ${String(n)}`)
  return n
}

/** Parks on the app's thread until goready, through the completion loop of h's own runtime. */
async function hostWait(h: SharedHeap, g: number, what: string): Promise<void> {
  await heapHost(h, what).park(g)
}

/**
 * A weighted semaphore (golang.org/x/sync/semaphore) shared by every M and
 * the app's thread. Waiters are served first come, first served.
 *
 * @example
 * const sem = new Semaphore(4)
 * yield* sem.acquire(1); try { ... } finally { sem.release(1) }
 */
export class Semaphore {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number

  constructor(size: number, opts?: { runtime?: Runtime })
  /** @internal A handle to the record at at.ptr (a decoding; registerHandleKind). */
  constructor(size: number, opts: { runtime?: Runtime }, at: { heap: SharedHeap; ptr: number })
  constructor(size: number, opts: { runtime?: Runtime } = {}, at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
      track(this.heap, this, HANDLE_SEMAPHORE, this.ptr)
      return
    }
    if (!Number.isInteger(size) || size < 0 || size > 0x7fffffff) throw new RangeError(`Semaphore: size must be a non-negative integer, got ${String(size)}`)
    this.heap = heapHere('Semaphore', opts.runtime)
    this.ptr = newsemaphore(this.heap, size)
    track(this.heap, this, HANDLE_SEMAPHORE, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_SEMAPHORE, ptr: this.ptr }
  }

  /** Acquires n permits, waiting until they are free: yield* in a goroutine, await on the app's thread. */
  acquire(n = 1): ChanOp<void> {
    const k = checkWeight('Semaphore.acquire', n)
    if (getg() !== 0) return acquireG(this.heap, this.ptr, k) as ChanOp<void>
    if (mheap() !== undefined) throw new Error('Semaphore.acquire: must run inside a goroutine on an M')
    return (async () => {
      if (semacquire(this.heap, this.ptr, k, 0) !== PARKED) return
      const sg = semaSudog
      await hostWait(this.heap, semaG, 'Semaphore.acquire')
      wgwaitdone(this.heap, sg)
    })() as unknown as ChanOp<void>
  }

  /** Acquires n permits if they are free now and nobody waits; never blocks. */
  tryAcquire(n = 1): boolean {
    return semtryacquire(this.heap, this.ptr, checkWeight('Semaphore.tryAcquire', n))
  }

  /** Releases n permits. Throws "semaphore: released more than held". */
  release(n = 1): void {
    semrelease(this.heap, this.ptr, checkWeight('Semaphore.release', n))
  }
}

function* acquireG(h: SharedHeap, p: number, n: number): Generator<unknown, void, unknown> {
  if (semacquire(h, p, n, getg()) !== PARKED) return
  const sg = semaSudog
  yield PARK
  wgwaitdone(h, sg)
}

/**
 * Go's sync.Once, shared by every M and the app's thread: do(f) runs f the
 * first time it is called anywhere; other callers wait until f has returned.
 * In a goroutine f may be a generator function (run with yield*).
 */
export class Once {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number

  constructor(opts?: { runtime?: Runtime })
  /** @internal A handle to the record at at.ptr (a decoding; registerHandleKind). */
  constructor(opts: { runtime?: Runtime }, at: { heap: SharedHeap; ptr: number })
  constructor(opts: { runtime?: Runtime } = {}, at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = heapHere('Once', opts.runtime)
      this.ptr = newsema(this.heap, SemaKind.Once)
    }
    track(this.heap, this, HANDLE_ONCE, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_ONCE, ptr: this.ptr }
  }

  /** Runs f if no caller has; else waits for the one that did. */
  do(f: () => unknown): ChanOp<void> {
    if (typeof f !== 'function') throw new TypeError('Once.do: f must be a function')
    if (getg() !== 0) return onceG(this.heap, this.ptr, f) as ChanOp<void>
    if (mheap() !== undefined) throw new Error('Once.do: must run inside a goroutine on an M')
    return (async () => {
      const r = oncebegin(this.heap, this.ptr, 0)
      if (r === 'run') {
        try {
          await f()
        } finally {
          oncedone(this.heap, this.ptr)
        }
      } else if (r === 'parked') {
        const sg = semaSudog
        await hostWait(this.heap, semaG, 'Once.do')
        wgwaitdone(this.heap, sg)
      }
    })() as unknown as ChanOp<void>
  }
}

function* onceG(h: SharedHeap, p: number, f: () => unknown): Generator<unknown, void, unknown> {
  const r = oncebegin(h, p, getg())
  if (r === 'run') {
    try {
      const v = f()
      if (v !== null && typeof v === 'object' && typeof (v as Generator).next === 'function' && typeof (v as Generator).throw === 'function') {
        yield* v as Generator<unknown, unknown, unknown>
      }
    } finally {
      oncedone(h, p)
    }
  } else if (r === 'parked') {
    const sg = semaSudog
    yield PARK
    wgwaitdone(h, sg)
  }
}

registerHandleKind(HANDLE_SEMAPHORE, (heap, ptr) => new Semaphore(0, {}, { heap, ptr }), { shared: true })
registerHandleKind(HANDLE_ONCE, (heap, ptr) => new Once({}, { heap, ptr }), { shared: true })

/** Runs a blocking sema operation: yield* in a goroutine, await on the app's thread. */
function blocking(what: string, h: SharedHeap, start: (gp: number) => number): ChanOp<void> {
  if (getg() !== 0) return blockingG(h, start) as ChanOp<void>
  if (mheap() !== undefined) throw new Error(`${what}: must run inside a goroutine on an M`)
  return (async () => {
    if (start(0) !== PARKED) return
    const sg = semaSudog
    await hostWait(h, semaG, what)
    wgwaitdone(h, sg)
  })() as unknown as ChanOp<void>
}

function* blockingG(h: SharedHeap, start: (gp: number) => number): Generator<unknown, void, unknown> {
  if (start(getg()) !== PARKED) return
  const sg = semaSudog
  yield PARK
  wgwaitdone(h, sg)
}

/**
 * Go's sync.RWMutex, shared by every M and the app's thread. Waiters are
 * served in order, so a waiting writer is not starved by new readers.
 */
export class RWMutex {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number

  constructor(opts?: { runtime?: Runtime })
  /** @internal A handle to the record at at.ptr (a decoding; registerHandleKind). */
  constructor(opts: { runtime?: Runtime }, at: { heap: SharedHeap; ptr: number })
  constructor(opts: { runtime?: Runtime } = {}, at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = heapHere('RWMutex', opts.runtime)
      this.ptr = newsema(this.heap, SemaKind.RWMutex)
    }
    track(this.heap, this, HANDLE_RWMUTEX, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_RWMUTEX, ptr: this.ptr }
  }

  /** Locks for writing. */
  lock(): ChanOp<void> {
    return blocking('RWMutex.lock', this.heap, (gp) => rwlock(this.heap, this.ptr, gp))
  }

  /** Locks for reading. */
  rlock(): ChanOp<void> {
    return blocking('RWMutex.rlock', this.heap, (gp) => rwrlock(this.heap, this.ptr, gp))
  }

  tryLock(): boolean {
    return rwtrylock(this.heap, this.ptr, false)
  }

  tryRLock(): boolean {
    return rwtrylock(this.heap, this.ptr, true)
  }

  /** Throws "sync: Unlock of unlocked RWMutex". */
  unlock(): void {
    rwunlock(this.heap, this.ptr)
  }

  /** Throws "sync: RUnlock of unlocked RWMutex". */
  runlock(): void {
    rwrunlock(this.heap, this.ptr)
  }
}

/**
 * Go's sync.Cond on a Mutex: wait() unlocks L, waits for signal() or
 * broadcast(), and locks L again before returning.
 */
export class Cond {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number
  readonly L: Mutex

  constructor(L: Mutex)
  /** @internal A handle to the record at at.ptr (a decoding; registerHandleKind). */
  constructor(L: Mutex, at: { heap: SharedHeap; ptr: number })
  constructor(L: Mutex, at?: { heap: SharedHeap; ptr: number }) {
    if (!(L instanceof Mutex)) throw new TypeError('Cond: L must be a Mutex')
    this.L = L
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = L.heap
      this.ptr = newsema(this.heap, SemaKind.Cond)
      // The Mutex travels with the Cond: its record is kept in the limit
      // word, and the Cond's record holds a reference on it.
      retain(this.heap, HANDLE_MUTEX, L.ptr)
      Atomics.store(this.heap.i32, (this.ptr >> 2) + SEMA_LIMIT, L.ptr)
    }
    track(this.heap, this, HANDLE_COND, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HANDLE_COND, ptr: this.ptr }
  }

  /** Unlocks L, waits to be signalled, locks L again. L must be held. */
  wait(): ChanOp<void> {
    if (!this.L.locked()) throw new Error('sync: Cond.wait with its Mutex unlocked')
    if (getg() !== 0) return condWaitG(this) as ChanOp<void>
    if (mheap() !== undefined) throw new Error('Cond.wait: must run inside a goroutine on an M')
    return (async () => {
      condenqueue(this.heap, this.ptr, 0)
      const sg = semaSudog
      const g = semaG
      this.L.unlock()
      await hostWait(this.heap, g, 'Cond.wait')
      wgwaitdone(this.heap, sg)
      await this.L.lock()
    })() as unknown as ChanOp<void>
  }

  /** Wakes one waiter. */
  signal(): void {
    condwake(this.heap, this.ptr, false)
  }

  /** Wakes every waiter. */
  broadcast(): void {
    condwake(this.heap, this.ptr, true)
  }
}

function* condWaitG(c: Cond): Generator<unknown, void, unknown> {
  condenqueue(c.heap, c.ptr, getg())
  const sg = semaSudog
  c.L.unlock()
  yield PARK
  wgwaitdone(c.heap, sg)
  yield* c.L.lock()
}

registerHandleKind(HANDLE_RWMUTEX, (heap, ptr) => new RWMutex({}, { heap, ptr }), { shared: true })
registerHandleKind(HANDLE_COND, (heap, ptr) => {
  // Its L is this thread's Mutex for the record (the one other decodings share).
  const mu = Atomics.load(heap.i32, (ptr >> 2) + SEMA_LIMIT)
  return new Cond(handleObject(heap, HANDLE_MUTEX, mu, false) as Mutex, { heap, ptr })
}, { shared: true })

// Sync objects are freed when nothing references them any more (refs.ts).
for (const kind of [HANDLE_WAITGROUP, HANDLE_MUTEX, HANDLE_SEMAPHORE, HANDLE_ONCE, HANDLE_RWMUTEX]) {
  defineRefKind(kind, { refsWord: SEMA_REFS, free: freesema })
}
defineRefKind(HANDLE_COND, {
  refsWord: SEMA_REFS,
  free: (h, p) => {
    const mu = h.i32[(p >> 2) + SEMA_LIMIT]
    freesema(h, p)
    release(h, HANDLE_MUTEX, mu)
  },
})
