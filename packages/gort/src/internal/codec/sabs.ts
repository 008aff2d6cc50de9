// codec: SharedArrayBuffers. A value may hold shared memory (a
// SharedArrayBuffer, or a typed array, DataView or Buffer over one), and it
// must arrive as the same memory, as structured clone hands it between
// workers: a write on one side is seen on the other. Its bytes cannot be
// copied into the shared heap, and no shared word can hold a JS object; only
// Node's messaging hands a SharedArrayBuffer to another isolate. So the
// block holds an id, and the buffer goes by message.
//
// The channel. Each runtime has one BroadcastChannel, named after its heap
// (header.nonce0/1), and every thread of the runtime subscribes to it: the
// host when it creates the heap, each M when its thread starts, sysmon when
// its thread starts (sabjoin). Encoding takes an id from sched.sabgen, posts
// [NEW, id, buffer] on the channel and writes only the id into the block
// (sabpost). Decoding looks the id up in this thread's table; on a miss it
// drains the channel with receiveMessageOnPort, which is synchronous
// (sabget): a thread in the middle of a burst of goroutines, which does not
// turn its event loop, still gets the buffer, and the encoding thread may
// block right after posting (the app in Atomics.wait on the buffer it just
// passed to a goroutine). At their event-loop turns threads read the channel
// through its onmessage, the same way.
//
// Why the message is there when the id is read. postMessage on a
// BroadcastChannel puts the serialized message into every other
// subscriber's queue before it returns (Node's SiblingGroup::Dispatch, under
// each port's mutex). The block's pointer is published after that, by a
// synchronizing store (a run queue's tail, a channel's lock, an
// Atomics.store), and the reader takes its queue's mutex in
// receiveMessageOnPort after it loaded the pointer. So a subscriber that
// reads the pointer finds the message in its queue. codec-sab.test.ts checks
// it on real threads, with a reader that never turns its event loop.
//
// Late subscribers. A thread hears only what is posted after it subscribed.
// The host and the first Ms subscribe before any id exists; an M started
// later (a spare, a replacement for a dead or retired M) may have to decode
// a block encoded before it existed (a goroutine spawned long ago, a value
// in a channel's buffer). A thread loads sched.sabgen right after it
// subscribes: 0 means it missed nothing (an id is taken before it is
// posted). Otherwise, at its first miss that draining does not cure, it
// catches up from sysmon (catchup): it posts [WANT, threadId] and wakes
// sysmon, which subscribed before the runtime took any work, holds every
// live id, reads the channel on every loop and never blocks for long, and
// answers on a channel that only this thread hears, with every (id, value)
// it holds. sysmon had read everything posted before the want, and the
// thread's own queue holds everything posted after it subscribed: together
// they hold every id still alive. Ids dropped while the answer is on its way
// are kept in `window`, so that the answer does not bring them back. One
// catch-up per thread and runtime.
//
// Lifetime. An id belongs to one block: encoding takes a fresh id for each
// SharedArrayBuffer in the value (the same buffer twice in one block is one
// id, so it decodes to one object), and the block lists it in its prefix as
// (HREF_SAB, id) (block.ts). Once the block is freed (freeValue; dropStaged
// for a staged block that never reached the arena) nobody can decode the id
// again: the freeing thread deletes its entry and posts [DROP, ids], and
// every subscriber deletes its entry when it reads the drop. A subscriber
// reads NEW before DROP for an id: the free comes after the decoding, which
// comes after the post, and a port's queue is FIFO. Drops are batched
// (DROP_BATCH, the next microtask checkpoint, or sabcheck). So a table
// holds the ids of live blocks, and what was freed since this thread last
// read the channel: every thread reads it on a miss and at its event-loop
// turns, and, since an M's event loop may not turn for long, at sabcheck:
// an M after every burst and every 250 ms while parked, sysmon on every
// loop (≤ 10 ms apart, 1 s while every P idles). sabcheck costs one plain
// load when nothing was posted: sched.sabgen moves with every message.
//
// Values that go to V8 whole (a Map, a Set, a class instance, a cycle) and
// hold shared memory: V8's serializer names a SharedArrayBuffer to its
// delegate, but v8.Deserializer cannot take one back (Node does not
// implement GetSharedArrayBufferFromId for it). Such a value goes whole by
// message, through Node's structured clone, which shares the memory (a
// POSTED item), and each decoding is a structuredClone of this thread's copy
// (a fresh object every time, as for any decoding). A view of a growable
// SharedArrayBuffer goes the same way: JS cannot tell a length-tracking view
// from a fixed-length one; structured clone can.
//
// docs/design/sabs.md has the rejected designs and the costs.
//
// Who may call: any thread that holds the runtime's heap. Tables are per
// thread and heap. sabget may block (a late thread waiting for sysmon's
// answer) only on a thread that may block; the host never needs to: it
// subscribes before any id exists.

import { types } from 'node:util'
import { BroadcastChannel, receiveMessageOnPort, threadId, type MessagePort } from 'node:worker_threads'
import type { SharedHeap } from '../heap.js'
import { HDR_NONCE0, HDR_NONCE1, SCHED_SABGEN, SCHED_SABSERVE, SCHED_SYSMONTICK, headerw, schedw } from '../layout.js'
import { threadCanBlock } from '../futex.js'
import { throwFatal } from '../throw.js'

// Messages on the runtime's channel: [NEW, id, value], [DROP, ids], [WANT, threadId].
const NEW = 0
const DROP = 1
const WANT = 2

/** Freed ids a thread keeps before it posts them; fewer wait for the next microtask checkpoint or sabcheck. */
const DROP_BATCH = 64
/** How long a late thread waits for sysmon's answer before it gives up (a FatalError). */
const CATCHUP_MS = 10_000

/** This thread's side of one runtime's channel. */
class SabPort {
  readonly bc: BroadcastChannel
  /** id -> what this thread decodes it to: a SharedArrayBuffer, or a POSTED value to clone. */
  readonly table = new Map<number, unknown>()
  /** Whether every live id reaches this thread's queue or table (subscribed before sabgen moved, or caught up). */
  caughtUp: boolean
  /** While a catch-up is on its way: the ids dropped since the want was posted. */
  window: Set<number> | undefined = undefined
  /** Ids freed on this thread, not yet posted. */
  readonly drops: number[] = []
  flushQueued = false
  closed = false
  posted = 0
  catchups = 0
  /** sched.sabgen's word. */
  readonly genw: number
  /** sched.sabgen when this thread last read its channel (sabcheck). */
  seen = 0

  constructor(readonly h: SharedHeap, readonly name: string, readonly serves: boolean) {
    this.genw = schedw(h.layout, SCHED_SABGEN)
    this.bc = new BroadcastChannel(name)
    // Not a reason for the thread to stay alive.
    this.bc.unref()
    // Messages that arrive at an event-loop turn (a port dispatches them
    // then; without a listener they would be lost).
    this.bc.onmessage = (e: unknown) => this.accept((e as { data: unknown[] }).data)
    // After subscribing (pairs with the add in sabpost, made before the post): if
    // it is 0, nothing was posted before; else the ids up to it may have been.
    this.seen = Atomics.load(h.i32, this.genw)
    this.caughtUp = this.seen === 0
  }

  /** Posts a message that is not a NEW, then moves sched.sabgen, so that threads that only look at it when it moved (sabcheck) read it. */
  post(msg: unknown[]): void {
    this.bc.postMessage(msg)
    Atomics.add(this.h.i32, this.genw, 1)
  }

  accept(msg: unknown[]): void {
    switch (msg[0]) {
      case NEW: {
        const id = msg[1] as number
        // A catch-up may have brought it first: keep the object decodings already got.
        if (!this.table.has(id)) this.table.set(id, msg[2])
        break
      }
      case DROP: {
        const ids = msg[1] as number[]
        for (let i = 0; i < ids.length; i++) {
          this.table.delete(ids[i])
          this.window?.add(ids[i])
        }
        break
      }
      case WANT:
        if (this.serves) this.answer(msg[1] as number)
        break
    }
  }

  /** Reads every message queued for this thread. */
  drain(): void {
    // Before reading: a message posted after it moves sabgen again.
    this.seen = Atomics.load(this.h.i32, this.genw)
    for (let r; (r = receive(this.bc)) !== undefined;) this.accept(r.message as unknown[])
  }

  /** sysmon: sends thread tid every id it holds, on the channel only tid hears. */
  answer(tid: number): void {
    const ids: number[] = []
    const values: unknown[] = []
    for (const [id, v] of this.table) {
      ids.push(id)
      values.push(v)
    }
    const to = new BroadcastChannel(`${this.name}.to${tid}`)
    to.postMessage([ids, values])
    to.close()
  }

  flush(): void {
    this.flushQueued = false
    if (this.drops.length === 0 || this.closed) return
    const ids = this.drops.slice()
    this.drops.length = 0
    this.post([DROP, ids])
  }
}

/** The next message queued for this thread on bc, synchronously (Node takes a BroadcastChannel as a port here; @types/node says MessagePort only). */
function receive(bc: BroadcastChannel): { message: unknown } | undefined {
  return receiveMessageOnPort(bc as unknown as MessagePort)
}

/** This thread's ports, by heap. */
const ports = new Map<SharedHeap, SabPort>()
/** The port sabcheck used last (one runtime per thread is the normal case). */
let lastPort: SabPort | undefined

/** The runtime's channel name, from its heap's nonce. */
function channelName(h: SharedHeap): string {
  const i32 = h.i32
  const n0 = (i32[headerw(h.layout, HDR_NONCE0)] >>> 0).toString(16)
  const n1 = (i32[headerw(h.layout, HDR_NONCE1)] >>> 0).toString(16)
  return `gort.sab.${n0}.${n1}`
}

/**
 * Subscribes this thread to the runtime's channel (once; later calls do
 * nothing). The host calls it when it creates the heap, an M and sysmon when
 * their threads start; other threads are subscribed by their first sabpost,
 * sabget or sabdrop. serves: this thread answers late threads (sysmon; it
 * must subscribe before any id exists).
 */
export function sabjoin(h: SharedHeap, serves = false): void {
  if (ports.has(h)) return
  const port = new SabPort(h, channelName(h), serves)
  if (serves && !port.caughtUp) {
    port.bc.close()
    throwFatal('sabjoin', 'the thread that answers late subscribers subscribed after SharedArrayBuffers were posted')
  }
  ports.set(h, port)
}

function portOf(h: SharedHeap): SabPort {
  let port = ports.get(h)
  if (port === undefined) {
    sabjoin(h)
    port = ports.get(h)!
  }
  return port
}

/** By heap: how this thread asks for the answerer (sysmon) to start now (the host starts it; an M asks the host with a message). */
const answererHooks = new WeakMap<SharedHeap, () => void>()

/** The host, and each M (with a no-op): how sabpost gets sysmon started when a buffer is posted before it is up. */
export function setSabAnswererHook(h: SharedHeap, start: () => void): void {
  answererHooks.set(h, start)
}

/**
 * Before the first buffer is posted: the answerer (sysmon) must have
 * subscribed, or threads that subscribe later could never learn the id
 * (a runtime is usable before its threads are up: Runtime.create). Asks
 * the host to start it, then waits for its subscription (Atomics.wait:
 * once per runtime, tens of milliseconds, and only when a buffer is sent
 * in the runtime's first moments).
 */
function awaitAnswerer(h: SharedHeap): void {
  const w = schedw(h.layout, SCHED_SABSERVE)
  if (Atomics.load(h.i32, w) !== 0) return
  // Only the threads of a runtime (the host, its Ms) have an answerer to
  // wait for; a bare heap (the codec's own tests) has none.
  const start = answererHooks.get(h)
  if (start === undefined) return
  start()
  const deadline = performance.now() + 30_000
  while (Atomics.load(h.i32, w) === 0) {
    const left = deadline - performance.now()
    if (left <= 0) throw new Error('gort: a SharedArrayBuffer could not be sent: sysmon did not start within 30 s')
    Atomics.wait(h.i32, w, 0, left)
  }
}

/** sysmon, once subscribed as the answerer: posts may go ahead (awaitAnswerer). */
export function sabserving(h: SharedHeap): void {
  const w = schedw(h.layout, SCHED_SABSERVE)
  Atomics.store(h.i32, w, 1)
  Atomics.notify(h.i32, w)
}

/** Unsubscribes this thread (the runtime ends); its table goes. */
export function sabclose(h: SharedHeap): void {
  const port = ports.get(h)
  if (port === undefined) return
  ports.delete(h)
  if (lastPort === port) lastPort = undefined
  port.closed = true
  port.bc.close()
  port.table.clear()
}


/**
 * Gives v (a SharedArrayBuffer, or a POSTED value) a new id and posts it to
 * every other thread of the runtime; returns the id. Before the caller
 * publishes a block holding the id. Throws what postMessage throws (a
 * DataCloneError for a POSTED value structured clone refuses); then nothing
 * was posted.
 */
export function sabpost(h: SharedHeap, v: unknown): number {
  const port = portOf(h)
  if (!port.serves) awaitAnswerer(h)
  // Pairs with the load a subscriber makes after subscribing (SabPort): an id taken after that load is posted after the subscription.
  const id = (Atomics.add(h.i32, port.genw, 1) + 1) | 0
  port.bc.postMessage([NEW, id, v])
  // This thread may decode the block too. A buffer is itself (its memory is
  // shared anyway); a POSTED value is copied now, as the message was, not
  // kept as the caller's object, which the caller may change after sending.
  port.table.set(id, types.isSharedArrayBuffer(v) ? v : structuredClone(v))
  port.posted++
  return id
}

/**
 * What id stands for on this thread: the SharedArrayBuffer, or the POSTED
 * value (the caller clones it). The caller owns a block that holds the id.
 */
export function sabget(h: SharedHeap, id: number): unknown {
  const port = portOf(h)
  let v = port.table.get(id)
  if (v !== undefined) return v
  port.drain()
  v = port.table.get(id)
  if (v !== undefined) return v
  if (!port.caughtUp) {
    catchup(port, id)
    v = port.table.get(id)
    if (v !== undefined) return v
  }
  return throwFatal('decodeValue', `SharedArrayBuffer #${id} never reached this thread (thread ${threadId}): ` +
    'its block was freed, or the value was encoded for another runtime')
}

/** A late thread's catch-up from sysmon (see the file's comment). */
function catchup(port: SabPort, id: number): void {
  const h = port.h
  if (!threadCanBlock()) {
    throwFatal('decodeValue', `SharedArrayBuffer #${id} was posted before this thread subscribed, and it cannot wait for sysmon's answer`)
  }
  const tick = schedw(h.layout, SCHED_SYSMONTICK)
  const reply = new BroadcastChannel(`${port.name}.to${threadId}`)
  const pause = new Int32Array(new SharedArrayBuffer(4))
  try {
    port.window = new Set()
    port.post([WANT, threadId])
    const start = performance.now()
    let nudged = -Infinity
    let answer: unknown[] | undefined
    for (;;) {
      const r = receive(reply)
      if (r !== undefined) {
        answer = r.message as unknown[]
        break
      }
      const now = performance.now()
      if (now - start > CATCHUP_MS) {
        throwFatal('decodeValue', `SharedArrayBuffer #${id}: sysmon did not answer this thread's catch-up within ${CATCHUP_MS} ms (thread ${threadId})`)
      }
      // Cut sysmon's sleep short (its sleep is an Atomics.wait on its tick; it wakes by itself within 10 ms, 1 s when every P idles).
      if (now - nudged >= 2) {
        Atomics.notify(h.i32, tick)
        nudged = now
      }
      port.drain()
      Atomics.wait(pause, 0, 0, 0.2)
    }
    // Every drop posted before sysmon's answer is in our queue now, or was read since the want (window).
    port.drain()
    const [ids, values] = answer as [number[], unknown[]]
    for (let i = 0; i < ids.length; i++) {
      if (!port.window.has(ids[i]) && !port.table.has(ids[i])) port.table.set(ids[i], values[i])
    }
    port.caughtUp = true
    port.catchups++
  } finally {
    port.window = undefined
    reply.close()
  }
}

/**
 * The block that held id was freed on this thread: forget it here and tell
 * the other threads (batched). Not after the runtime ended (heap.dead).
 */
export function sabdrop(h: SharedHeap, id: number): void {
  if (h.dead) return
  const port = portOf(h)
  // Not here: a block freed without being decoded on this thread. Its NEW
  // is in our queue (posted before the block was handed over): read it now,
  // or it would come in after our own drop, which we never hear.
  if (!port.table.delete(id)) {
    port.drain()
    port.table.delete(id)
  }
  port.drops.push(id)
  if (port.drops.length >= DROP_BATCH) port.flush()
  else if (!port.flushQueued) {
    port.flushQueued = true
    queueMicrotask(() => port.flush())
  }
}

/**
 * Posts this thread's pending drops, and reads its channel if anything was
 * posted since it last did (sched.sabgen moved): for threads whose event
 * loop may not turn for long (an M between bursts, a parked M, sysmon's
 * loop). One plain load when there is nothing. A NEW whose post had not landed
 * when sabgen was read waits for the next message, or for the miss that
 * decoding its id makes.
 */
export function sabcheck(h: SharedHeap): void {
  let port = lastPort
  if (port === undefined || port.h !== h) {
    port = ports.get(h)
    if (port === undefined) return
    lastPort = port
  }
  if (port.drops.length > 0) port.flush()
  // A plain load: only a hint (the messages are ordered by their queue's
  // lock, not by this word), and sabcheck runs after every M burst. A stale
  // value delays the reading to the next check; a miss always reads.
  if (h.i32[port.genw] !== port.seen) port.drain()
}

/** Posts this thread's pending drops and reads everything queued for it (an M that retires). */
export function sabpoll(h: SharedHeap): void {
  const port = ports.get(h)
  if (port === undefined) return
  port.flush()
  port.drain()
}

/** What one thread holds for SharedArrayBuffers (sabStats). */
export interface SabStats {
  /** Runtimes this thread is subscribed to. */
  runtimes: number
  /** Ids in its tables: live blocks, and drops it has not read yet. */
  entries: number
  /** Ids freed here, not yet posted. */
  pendingDrops: number
  /** SharedArrayBuffers and POSTED values posted from here. */
  posted: number
  /** Catch-ups from sysmon (a thread that subscribed after ids were posted). */
  catchups: number
}

/** This thread's SharedArrayBuffer tables, for h or summed over every runtime it is subscribed to. A diagnostic. */
export function sabStats(h?: SharedHeap): SabStats {
  const s: SabStats = { runtimes: 0, entries: 0, pendingDrops: 0, posted: 0, catchups: 0 }
  for (const [ph, port] of ports) {
    if (h !== undefined && ph !== h) continue
    s.runtimes++
    s.entries += port.table.size
    s.pendingDrops += port.drops.length
    s.posted += port.posted
    s.catchups += port.catchups
  }
  return s
}
