// The sync package across threads. WaitGroup now; Mutex, RWMutex, Once,
// Cond and Semaphore follow on the same shared record (internal/sema.ts).

import { handleObject, kHandle, registerHandleKind, type HandleRef } from './internal/codec/handles.js'
import type { SharedHeap } from './internal/heap.js'
import { GoroutineFuture, PARK, hostFuture, type Future } from './internal/ops.js'
import { track } from './internal/refs.js'
import { HandleKind } from './internal/handlekind.js'
import { getg, mheap } from './internal/proc.js'
import { PARKED } from './internal/chan.js'
import {
  condenqueue, condmutex, condwake, newcond, rwlock, rwrlock, rwrunlock, rwtrylock, rwunlock,
  newsemaphore, oncebegin, oncedone, semacquire, semrelease, semtryacquire,
  SemaKind, mutexG, mutexSudog, mutexlock, mutexlocked, mutextrylock, mutexunlock, mutexwoken, newsema, semaG, semaSudog,
  wgadd, wgcount, wgwait, wgwaitdone,
} from './internal/sema.js'
import { heapHere, heapHost } from './internal/hostref.js'
import type { Runtime } from './runtime.js'

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
    track(this.heap, this, HandleKind.WaitGroup, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.WaitGroup, ptr: this.ptr }
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
  wait(): Future<void> {
    if (getg() !== 0) return new GoroutineFuture(waitG(this.heap, this.ptr), 'wg.wait()')
    if (mheap() !== undefined) throw new Error('WaitGroup.wait: must run inside a goroutine on an M')
    return hostFuture(this.hostWait(), 'wg.wait()')
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

registerHandleKind(HandleKind.WaitGroup, (heap, ptr) => new WaitGroup({}, { heap, ptr }), { shared: true })

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
    track(this.heap, this, HandleKind.Mutex, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.Mutex, ptr: this.ptr }
  }

  /** Locks it: yield* in a goroutine, await on the app's thread. */
  lock(): Future<void> {
    if (getg() !== 0) return new GoroutineFuture(lockG(this.heap, this.ptr), 'mu.lock()')
    if (mheap() !== undefined) throw new Error('Mutex.lock: must run inside a goroutine on an M')
    return hostFuture(this.hostLock(), 'mu.lock()')
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

registerHandleKind(HandleKind.Mutex, (heap, ptr) => new Mutex({}, { heap, ptr }), { shared: true })

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
      track(this.heap, this, HandleKind.Semaphore, this.ptr)
      return
    }
    if (!Number.isInteger(size) || size < 0 || size > 0x7fffffff) throw new RangeError(`Semaphore: size must be a non-negative integer, got ${String(size)}`)
    this.heap = heapHere('Semaphore', opts.runtime)
    this.ptr = newsemaphore(this.heap, size)
    track(this.heap, this, HandleKind.Semaphore, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.Semaphore, ptr: this.ptr }
  }

  /** Acquires n permits, waiting until they are free: yield* in a goroutine, await on the app's thread. */
  acquire(n = 1): Future<void> {
    const k = checkWeight('Semaphore.acquire', n)
    if (getg() !== 0) return new GoroutineFuture(acquireG(this.heap, this.ptr, k), 'sem.acquire(n)')
    if (mheap() !== undefined) throw new Error('Semaphore.acquire: must run inside a goroutine on an M')
    return hostFuture((async () => {
      if (semacquire(this.heap, this.ptr, k, 0) !== PARKED) return
      const sg = semaSudog
      await hostWait(this.heap, semaG, 'Semaphore.acquire')
      wgwaitdone(this.heap, sg)
    })(), 'sem.acquire(n)')
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
    track(this.heap, this, HandleKind.Once, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.Once, ptr: this.ptr }
  }

  /** Runs f if no caller has; else waits for the one that did. */
  do(f: () => unknown): Future<void> {
    if (typeof f !== 'function') throw new TypeError('Once.do: f must be a function')
    if (getg() !== 0) return new GoroutineFuture(onceG(this.heap, this.ptr, f), 'once.do(f)')
    if (mheap() !== undefined) throw new Error('Once.do: must run inside a goroutine on an M')
    return hostFuture((async () => {
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
    })(), 'once.do(f)')
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

registerHandleKind(HandleKind.Semaphore, (heap, ptr) => new Semaphore(0, {}, { heap, ptr }), { shared: true })
registerHandleKind(HandleKind.Once, (heap, ptr) => new Once({}, { heap, ptr }), { shared: true })

/** Runs a blocking sema operation: yield* in a goroutine, await on the app's thread. */
function blocking(what: string, call: string, h: SharedHeap, start: (gp: number) => number): Future<void> {
  if (getg() !== 0) return new GoroutineFuture(blockingG(h, start), call)
  if (mheap() !== undefined) throw new Error(`${what}: must run inside a goroutine on an M`)
  return hostFuture((async () => {
    if (start(0) !== PARKED) return
    const sg = semaSudog
    await hostWait(h, semaG, what)
    wgwaitdone(h, sg)
  })(), call)
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
    track(this.heap, this, HandleKind.RWMutex, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.RWMutex, ptr: this.ptr }
  }

  /** Locks for writing. */
  lock(): Future<void> {
    return blocking('RWMutex.lock', 'rw.lock()', this.heap, (gp) => rwlock(this.heap, this.ptr, gp))
  }

  /** Locks for reading. */
  rlock(): Future<void> {
    return blocking('RWMutex.rlock', 'rw.rlock()', this.heap, (gp) => rwrlock(this.heap, this.ptr, gp))
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
      // The Mutex travels with the Cond (its record holds a reference on it).
      this.ptr = newcond(this.heap, L.ptr)
    }
    track(this.heap, this, HandleKind.Cond, this.ptr)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.Cond, ptr: this.ptr }
  }

  /** Unlocks L, waits to be signalled, locks L again. L must be held. */
  wait(): Future<void> {
    if (!this.L.locked()) throw new Error('sync: Cond.wait with its Mutex unlocked')
    if (getg() !== 0) return new GoroutineFuture(condWaitG(this), 'cond.wait()')
    if (mheap() !== undefined) throw new Error('Cond.wait: must run inside a goroutine on an M')
    return hostFuture((async () => {
      condenqueue(this.heap, this.ptr, 0)
      const sg = semaSudog
      const g = semaG
      this.L.unlock()
      await hostWait(this.heap, g, 'Cond.wait')
      wgwaitdone(this.heap, sg)
      await this.L.lock()
    })(), 'cond.wait()')
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

registerHandleKind(HandleKind.RWMutex, (heap, ptr) => new RWMutex({}, { heap, ptr }), { shared: true })
registerHandleKind(HandleKind.Cond, (heap, ptr) => {
  // Its L is this thread's Mutex for the record (the one other decodings share).
  return new Cond(handleObject(heap, HandleKind.Mutex, condmutex(heap, ptr), false) as Mutex, { heap, ptr })
}, { shared: true })
