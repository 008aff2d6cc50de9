// arenawait: the host's spawns that wait for arena space.
//
// A goroutine's arguments live in a block of the shared heap's arena from
// its spawn until it starts (gvalue.ts putArgs, takeArgs). A burst of large
// arguments from the app (a hundred rt.run calls of 1 MB each against a
// 10 MB heap) would fill the arena and fail most of them, though the arena
// empties as the first goroutines start. So the host does not fail a spawn
// whose arguments do not fit now: it encodes them into memory of its own
// thread (a staged block: codec/encode.ts encodeArgsOrStage, the same bytes
// the arena block would hold, with the references its handles need), keeps
// the G record unpublished, and moves the block into the arena when frees
// make room for it and as much again (commitStaged's headroom: the running
// goroutines' results and channel values, which cannot wait, keep room),
// then publishes the G as any spawn (the `ready` callback puts it in the
// host's batch). The app's thread never blocks: it waits with
// Atomics.waitAsync on heap.freegen, which free bumps while anyone waits
// (malloc.ts). Spawns wait in order: once one waits, every later spawn that
// needs a block queues behind it, so that a stream of small spawns cannot
// starve a large one. Spawns that need no block (no arguments, one number,
// one shared handle) never wait.
//
// Failures stay where the caller can see them: an argument that cannot be
// cloned, or a block that could never fit even an empty arena, throws from
// put at once (the host turns it into the rejection of rt.run, or the
// throw of rt.go: docs/design/errors.md). A queued spawn fails later only
// if waiting can never end: no goroutine is alive to free anything and no
// free happened for NOTHING_FREES_MS (the arena is held by values the app
// keeps, such as full channel buffers), or the runtime is torn down.
//
// Ms do not wait (go() with a large argument, a channel send of a large
// value, a large result): a goroutine's step cannot block its thread
// without stalling its P and every goroutine living on its M, which may be
// the very ones whose frees it would wait for. They fail with malloc's
// RangeError, which names heapSize.
//
// Who may call: the host only (the thread that owns the Runtime).

import { dropStaged, type StagedBlock } from './codec/encode.js'
import { putArgsOrStage, putStaged } from './gvalue.js'
import type { SharedHeap } from './heap.js'
import { gbase, heapw, HEAP_FREEGEN, HEAP_FREEWAITERS, HEAP_INUSE_BYTES } from './layout.js'
import { gcount } from './proc.js'

/** How long the queue waits without a free, with no goroutine alive, before it decides no space will come. */
const NOTHING_FREES_MS = 500
/** The wait between looks at whether waiting can end (a free wakes it sooner). */
const LOOK_MS = 100

export class ArenaWait {
  private gps: number[] = []
  private staged: StagedBlock[] = []
  private head = 0
  private waiting = false

  /**
   * ready(gp): gp's arguments are in place, publish it. fail(gp, e): give
   * up on gp (its G record is the caller's to free).
   */
  constructor(
    private readonly h: SharedHeap,
    private readonly ready: (gp: number) => void,
    private readonly fail: (gp: number, e: Error) => void,
  ) {}

  /** Spawns waiting for space. */
  get length(): number {
    return this.gps.length - this.head
  }

  /**
   * Stores args in G gp and returns true, or queues them and returns false
   * (ready(gp) follows when they are in). Throws DataCloneError, or a
   * RangeError naming heapSize if they could never fit; nothing is queued
   * or allocated then.
   */
  put(gp: number, args: readonly unknown[]): boolean {
    const h = this.h
    const s = putArgsOrStage(h, gbase(h.layout, gp), args, this.length === 0)
    if (s === undefined) return true
    this.gps.push(gp)
    this.staged.push(s)
    if (!this.waiting) void this.wait()
    return false
  }

  /** Publishes queued spawns, oldest first, while their blocks fit. */
  private drain(): void {
    const h = this.h
    while (this.head < this.gps.length) {
      const gp = this.gps[this.head]
      if (!putStaged(h, gbase(h.layout, gp), this.staged[this.head])) return
      this.staged[this.head] = undefined as unknown as StagedBlock
      this.head++
      this.ready(gp)
    }
    this.gps.length = 0
    this.staged.length = 0
    this.head = 0
  }

  /** Fails every queued spawn with e. */
  private failAll(e: Error): void {
    const { gps, staged, head, h } = this
    this.gps = []
    this.staged = []
    this.head = 0
    for (let i = head; i < gps.length; i++) {
      dropStaged(h, staged[i])
      this.fail(gps[i], e)
    }
  }

  /** The waiting loop: retries after each free until the queue is empty. */
  private async wait(): Promise<void> {
    const h = this.h
    const m = h.i32
    const gen = heapw(h.layout, HEAP_FREEGEN)
    this.waiting = true
    // Dekker pair with free (malloc.ts): announce, then read freegen and retry.
    Atomics.add(m, heapw(h.layout, HEAP_FREEWAITERS), 1)
    let idleSince = performance.now()
    try {
      while (this.length > 0) {
        if (h.dead) {
          this.failAll(new Error('gort: the runtime was closed before the shared heap had room for the goroutine\'s arguments'))
          return
        }
        const g = Atomics.load(m, gen)
        this.drain()
        if (this.length === 0) return
        const r = Atomics.waitAsync(m, gen, g, LOOK_MS)
        const woke = r.async ? await r.value : r.value
        if (woke !== 'timed-out') {
          idleSince = performance.now()
          continue
        }
        if (gcount(h) === 0 && performance.now() - idleSince >= NOTHING_FREES_MS) {
          const need = this.staged[this.head].bytes.length
          this.failAll(new RangeError(
            `go: the shared heap has no room for the arguments (${need} bytes; heapSize is ${h.layout.arenaBytes} bytes, ` +
            `${Atomics.load(m, heapw(h.layout, HEAP_INUSE_BYTES))} in use) and no goroutine is running that could free any; ` +
            'raise the heapSize option, or release what holds the heap (values buffered in channels)'))
          return
        }
      }
    } finally {
      Atomics.sub(m, heapw(h.layout, HEAP_FREEWAITERS), 1)
      this.waiting = false
    }
  }
}
