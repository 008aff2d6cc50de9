// futexsleep and futexwakeup (Go's os_linux.go) on Atomics.wait and
// Atomics.notify.
//
// A word of the shared heap is the futex: futexsleep(mem, addr, val, ns) parks
// the calling thread while mem[addr] === val, for at most ns nanoseconds
// (forever when ns < 0), and futexwakeup(mem, addr, cnt) wakes up to cnt
// threads parked on that word. As with the Linux futex, a sleeper may wake
// spuriously, so every caller re-checks its condition in a loop.
//
// Threads that must never block. The app's main thread runs the Node event
// loop and is not an M: parking it would freeze the app. On such a thread
// futexsleep is a fatal error, and the code that must wait there uses
// futexsleepAsync, which parks a promise (Atomics.waitAsync) instead of the
// thread. A pending Atomics.waitAsync does not keep Node's event loop alive
// by itself, so futexsleepAsync holds a ref'd timer while anything waits.
//
// Costs measured here (docs/design/locks.md): a wake-up of a thread parked on the other
// vCPU costs about 52 µs round trip, a notify with nobody waiting 34 ns. The
// callers therefore spin briefly before they sleep, and notify only when a
// sleeper has said that it sleeps (lock_futex.ts's sleeping state).

import { isMainThread } from 'node:worker_threads'
import { throwFatal } from './throw.js'

let canBlock = !isMainThread

/**
 * Says whether the calling thread may park in Atomics.wait. The default is
 * true on worker threads and false on the process's main thread; a runtime
 * started from inside a worker marks that worker as unable to block too.
 */
export function setThreadCanBlock(v: boolean): void {
  canBlock = v
}

/** Whether the calling thread may park (see setThreadCanBlock). */
export function threadCanBlock(): boolean {
  return canBlock
}

/**
 * Parks the calling thread while mem[addr] === val, for at most ns
 * nanoseconds (ns < 0: no limit). May return early (spuriously).
 * A fatal error on a thread that must not block.
 */
export function futexsleep(mem: Int32Array, addr: number, val: number, ns: number): void {
  if (!canBlock) throwFatal('futexsleep', 'this thread must never block (it runs the app\'s event loop); use futexsleepAsync')
  // Atomics.wait takes milliseconds; a fractional value is honoured.
  Atomics.wait(mem, addr, val, ns < 0 ? Infinity : ns / 1e6)
}

/** Wakes up to cnt threads (and waitAsync promises) parked on mem[addr]. */
export function futexwakeup(mem: Int32Array, addr: number, cnt: number): void {
  Atomics.notify(mem, addr, cnt)
}

// A ref'd timer held while any futexsleepAsync is pending, so that Node does
// not exit while the runtime waits for a wake-up from another thread.
let asyncWaiters = 0
let keepAlive: ReturnType<typeof setInterval> | undefined

function holdLoop(): void {
  if (asyncWaiters++ === 0) keepAlive = setInterval(() => {}, 1 << 30)
}

function releaseLoop(): void {
  if (--asyncWaiters === 0) {
    clearInterval(keepAlive)
    keepAlive = undefined
  }
}

/**
 * The non-blocking futexsleep: resolves when mem[addr] may no longer be val
 * (woken, the value differed already, or ns elapsed; ns < 0: no limit).
 * Resolves to false only on a timeout. Spurious resolutions are allowed.
 */
export async function futexsleepAsync(mem: Int32Array, addr: number, val: number, ns: number): Promise<boolean> {
  const r = Atomics.waitAsync(mem, addr, val, ns < 0 ? Infinity : ns / 1e6)
  if (!r.async) return r.value !== 'timed-out'
  holdLoop()
  try {
    return (await r.value) !== 'timed-out'
  } finally {
    releaseLoop()
  }
}
