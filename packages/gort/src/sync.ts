// The sync package across threads. WaitGroup now; Mutex, RWMutex, Once,
// Cond and Semaphore follow on the same shared record (internal/sema.ts).

import { kHandle, registerHandleKind, type HandleRef } from './internal/codec.js'
import type { SharedHeap } from './internal/heap.js'
import { PARK } from './internal/ops.js'
import { getg, mheap } from './internal/proc.js'
import { PARKED } from './internal/chan.js'
import { SemaKind, newsema, semaG, semaSudog, wgadd, wgcount, wgwait, wgwaitdone } from './internal/sema.js'
import type { ChanOp } from './chan.js'
import { currentRuntime, hostOf, type Runtime } from './runtime.js'

const HANDLE_WAITGROUP = 2

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
