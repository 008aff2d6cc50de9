// The sync package across threads. WaitGroup now; Mutex, RWMutex, Once,
// Cond and Semaphore follow on the same shared record (internal/sema.ts).

import { kHandle, registerHandleKind, type HandleRef } from './internal/codec.js'
import type { SharedHeap } from './internal/heap.js'
import { PARK } from './internal/ops.js'
import { getg, mheap } from './internal/proc.js'
import { PARKED } from './internal/chan.js'
import {
  SemaKind, mutexG, mutexSudog, mutexlock, mutexlocked, mutextrylock, mutexunlock, mutexwoken, newsema, semaG, semaSudog,
  wgadd, wgcount, wgwait, wgwaitdone,
} from './internal/sema.js'
import type { ChanOp } from './chan.js'
import { currentRuntime, hostOf, type Runtime } from './runtime.js'

const HANDLE_WAITGROUP = 2
const HANDLE_MUTEX = 3

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

  constructor(opts: { runtime?: Runtime } = {}, /** @internal */ at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = heapHere('WaitGroup', opts.runtime)
      this.ptr = newsema(this.heap, SemaKind.WaitGroup)
    }
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
    if (wgwait(this.heap, this.ptr, 0) !== PARKED) return
    const sg = semaSudog
    const rt = currentRuntime()
    if (rt === undefined) throw new Error('WaitGroup.wait: no runtime is running on this thread')
    await hostOf(rt).park(semaG)
    wgwaitdone(this.heap, sg)
  }
}

function* waitG(h: SharedHeap, p: number): Generator<unknown, void, unknown> {
  if (wgwait(h, p, getg()) !== PARKED) return
  const sg = semaSudog
  yield PARK
  wgwaitdone(h, sg)
}

registerHandleKind(HANDLE_WAITGROUP, (heap, ptr) => new WaitGroup({}, { heap, ptr }))

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

  constructor(opts: { runtime?: Runtime } = {}, /** @internal */ at?: { heap: SharedHeap; ptr: number }) {
    if (at !== undefined) {
      this.heap = at.heap
      this.ptr = at.ptr
    } else {
      this.heap = heapHere('Mutex', opts.runtime)
      this.ptr = newsema(this.heap, SemaKind.Mutex)
    }
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
    let front = false
    for (;;) {
      if (mutexlock(this.heap, this.ptr, 0, front) !== PARKED) return
      const sg = mutexSudog
      const rt = currentRuntime()
      if (rt === undefined) throw new Error('Mutex.lock: no runtime is running on this thread')
      await hostOf(rt).park(mutexG)
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

registerHandleKind(HANDLE_MUTEX, (heap, ptr) => new Mutex({}, { heap, ptr }))
