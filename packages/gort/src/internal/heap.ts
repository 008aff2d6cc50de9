// The shared heap: one SharedArrayBuffer per runtime and the views every
// thread uses on it. The main thread creates it (SharedHeap.create); each
// worker attaches to the same buffer (SharedHeap.attach), recomputes the
// layout from the parameters in the header, and checks that it matches.
// docs/design/memory-layout.md describes every region.

import {
  computeLayout, headerw, mbase, pbase, schedw,
  HDR_ARENABYTES, HDR_BYTES, HDR_MAXFUNCS, HDR_MAGIC, HDR_MAXGS, HDR_MAXMS, HDR_MAXPROCS, HDR_NONCE0, HDR_NONCE1, HDR_RUNQSIZE, HDR_VERSION,
  HEADER_MAGIC, LAYOUT_VERSION, M_ID, P_ID, P_STATUS, SCHED_GNEXT, SCHED_GOMAXPROCS,
  type Layout, type LayoutParams,
} from './layout.js'
import { randomSeed } from './fastrand.js'
import { mallocinit } from './malloc.js'
import { Pstatus } from './runtime2.js'
import { TraceWriter } from './trace/buffer.js'

let heapSerials = 0

export class SharedHeap {
  /** Int32 view of the whole buffer: every word the runtime reads or writes. */
  readonly i32: Int32Array
  /** Float64 view for the 8-byte fields (index = word offset / 2). */
  readonly f64: Float64Array
  /** Byte view, for serialized values in the arena. */
  readonly u8: Uint8Array
  /** Tells this thread's SharedHeap objects apart without holding them (registry.ts caches a function's id per heap). */
  readonly serial = ++heapSerials
  /** This thread's block of goroutine ids (proc.ts newproc1; Go's per-P goidcache). */
  goidNext = 0
  goidEnd = 0
  /** This thread's cache of free G records (proc.ts gfget/gfput). */
  readonly gcache: number[] = []
  /** This thread's cache of free sudog blocks (chan.ts), Go's per-P sudogcache. */
  readonly sudogCache: number[] = []
  /** This thread's view of the function table (registry.ts). */
  /**
   * Set on the thread that tears the runtime down (Runtime.close/destroy):
   * from then on no reference is released (refs.ts), so a finalizer that
   * runs late never takes a lock that a terminated M may have held.
   */
  dead = false
  /**
   * This thread's writer into the runtime's trace buffer (trace/buffer.ts):
   * the hooks load tw.on[0] (the recording flag). A writer with no buffer
   * until the thread attaches the runtime's (setTrace).
   */
  tw: TraceWriter = new TraceWriter(undefined, 0)
  readonly funcCache = {
    ids: new Map<string, number>(),
    keys: [] as Array<string | undefined>,
    fns: [] as Array<((...args: any[]) => Generator<unknown, unknown, any>) | undefined>,
  }

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: Layout,
  ) {
    this.i32 = new Int32Array(sab)
    this.f64 = new Float64Array(sab, 0, sab.byteLength >>> 3)
    this.u8 = new Uint8Array(sab)
  }

  /** Creates and initializes a heap. Called once, by the thread that starts the runtime. */
  static create(params: LayoutParams): SharedHeap {
    const layout = computeLayout(params)
    let sab: SharedArrayBuffer
    try {
      sab = new SharedArrayBuffer(layout.byteLength)
    } catch (e) {
      throw new RangeError(`SharedHeap.create: cannot allocate a shared heap of ${layout.byteLength} bytes; lower heapSize or maxGoroutines`, { cause: e })
    }
    const h = new SharedHeap(sab, layout)
    const m = h.i32
    // Plain stores: no other thread has the buffer yet; handing it to a
    // worker (postMessage / workerData) publishes them.
    m[headerw(layout, HDR_MAGIC)] = HEADER_MAGIC
    m[headerw(layout, HDR_VERSION)] = LAYOUT_VERSION
    m[headerw(layout, HDR_BYTES)] = layout.byteLength
    m[headerw(layout, HDR_MAXPROCS)] = layout.maxProcs
    m[headerw(layout, HDR_RUNQSIZE)] = layout.runqSize
    m[headerw(layout, HDR_MAXMS)] = layout.maxMs
    m[headerw(layout, HDR_MAXGS)] = layout.maxGs
    m[headerw(layout, HDR_ARENABYTES)] = layout.arenaBytes
    m[headerw(layout, HDR_MAXFUNCS)] = layout.maxFuncs
    // Names the runtime's BroadcastChannel (codec/sabs.ts): unique among
    // the runtimes of one process, not a secret (any code in the process
    // may join any channel). Math.random, not node:crypto: importing
    // node:crypto took 5-8 ms of every thread's start (each M loads this
    // module), for 64 bits nobody guesses at.
    m[headerw(layout, HDR_NONCE0)] = randomSeed() | 0
    m[headerw(layout, HDR_NONCE1)] = randomSeed() | 0
    m[schedw(layout, SCHED_GOMAXPROCS)] = layout.maxProcs
    m[schedw(layout, SCHED_GNEXT)] = 1 // G index 0 is nil
    for (let i = 0; i < layout.maxProcs; i++) {
      m[pbase(layout, i) + P_ID] = i
      m[pbase(layout, i) + P_STATUS] = Pstatus.Pidle
    }
    for (let i = 0; i < layout.maxMs; i++) m[mbase(layout, i) + M_ID] = i
    mallocinit(h)
    return h
  }

  /** Attaches to a heap created by another thread, checking its header. */
  static attach(sab: SharedArrayBuffer): SharedHeap {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new TypeError('SharedHeap.attach: expected the runtime\'s SharedArrayBuffer')
    }
    const m = new Int32Array(sab, 0, 16)
    if (m[HDR_MAGIC] !== HEADER_MAGIC) throw new TypeError('SharedHeap.attach: the buffer is not a gort heap (bad magic)')
    if (m[HDR_VERSION] !== LAYOUT_VERSION) {
      throw new TypeError(`SharedHeap.attach: heap layout version ${m[HDR_VERSION]}, this gort expects ${LAYOUT_VERSION}`)
    }
    const layout = computeLayout({
      maxProcs: m[HDR_MAXPROCS], runqSize: m[HDR_RUNQSIZE], maxMs: m[HDR_MAXMS],
      maxGs: m[HDR_MAXGS], arenaBytes: m[HDR_ARENABYTES], maxFuncs: m[HDR_MAXFUNCS],
    })
    if (layout.byteLength !== m[HDR_BYTES] || sab.byteLength !== layout.byteLength) {
      throw new TypeError('SharedHeap.attach: the buffer\'s size does not match its header')
    }
    return new SharedHeap(sab, layout)
  }
}
