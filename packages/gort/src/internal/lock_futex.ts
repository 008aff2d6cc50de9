// The runtime lock and notes: a port of Go's lock_futex.go.
//
// A lock is one int32 word of the shared heap with three states:
//
//	MUTEX_UNLOCKED  nobody holds it
//	MUTEX_LOCKED    held, and nobody sleeps on it
//	MUTEX_SLEEPING  held, and some thread may be asleep in futexsleep on it
//
// lock swaps in LOCKED; if the old value was UNLOCKED it owns the lock. If not,
// it remembers the old value (wait): when it later takes the lock it must put
// that value back, so that a SLEEPING it overwrote is not lost. It spins a few
// rounds (parking costs about 500x a spin on these machines), then announces
// itself by swapping in SLEEPING and sleeps on the word. unlock swaps in
// UNLOCKED and calls futexwakeup only when the old value was SLEEPING, so an
// uncontended lock+unlock is two atomic swaps and no system call.
//
// Threads that must never block (the app's main thread, futex.ts) take the
// same protocol but never sleep: they keep spinning. Lock hold times in the
// runtime are short and bounded (no allocation of JS objects, no I/O, no
// waiting under a lock), so the spin ends within a critical section's length
// plus however long the OS keeps the holder off a CPU. Code on such a thread
// that may wait for long uses lockAsync, which parks a promise instead.
//
// A note is a one-shot event on one word (0 clear, 1 woken), used to park and
// wake Ms: notesleep parks until notewakeup; noteclear re-arms it. Exactly one
// thread may sleep on a note, and it may be woken once per clear.

import { futexsleep, futexsleepAsync, futexwakeup, threadCanBlock } from './futex.js'
import { throwFatal } from './throw.js'

export const MUTEX_UNLOCKED = 0
export const MUTEX_LOCKED = 1
export const MUTEX_SLEEPING = 2

// Go spins 4 rounds of 30 PAUSE instructions, then yields once. A round of
// our procyield is a loop of plain loads; 4 rounds of 64 take about 1 µs here,
// still far below the 52 µs of a park and wake.
const ACTIVE_SPIN = 4
const ACTIVE_SPIN_CNT = 64

/**
 * Go's procyield: a short busy wait that watches mem[addr] and returns early
 * once it reads `until`.
 */
function procyield(mem: Int32Array, addr: number, until: number, cycles: number): void {
  for (let i = 0; i < cycles; i++) {
    // Plain load: only a hint; the caller's CAS decides.
    if (mem[addr] === until) return
  }
}

/** Go's lock2. Takes the lock at mem[l]. Any thread; never re-entrant. */
export function lock(mem: Int32Array, l: number): void {
  // Speculative grab for the uncontended case. Synchronizes with the
  // exchange in unlock.
  const v = Atomics.exchange(mem, l, MUTEX_LOCKED)
  if (v !== MUTEX_UNLOCKED) lockSlow(mem, l, v)
  // The compares inline: most locks (channels, sync objects) are not tracked.
  if (l === tracked0 || l === tracked1 || l === tracked2) held(mem, l, true)
}

// An M records the runtime locks it holds (sched.lock, heap.lock,
// sched.gflock) as bits of a word of its M record, so that the host can
// release them if the M dies holding one. A plain store: only the M writes
// it, and the host reads it after the M's thread has ended.
let heldW = -1
let tracked0 = -1
let tracked1 = -1
let tracked2 = -1

/** On an M: record holding the locks at these three words in mem[maskWord] (bits 1, 2, 4). */
export function trackLocks(maskWord: number, words: readonly [number, number, number]): void {
  heldW = maskWord
  ;[tracked0, tracked1, tracked2] = words
}

function held(mem: Int32Array, l: number, on: boolean): void {
  const bit = l === tracked0 ? 1 : l === tracked1 ? 2 : l === tracked2 ? 4 : 0
  if (bit !== 0) mem[heldW] = on ? mem[heldW] | bit : mem[heldW] & ~bit
}

function lockSlow(mem: Int32Array, l: number, v: number): void {
  // wait is what we must leave in the word when we take the lock: LOCKED, or
  // SLEEPING if a sleeper may be parked on it.
  let wait = v
  const sleeps = threadCanBlock()
  for (;;) {
    if (spinAcquire(mem, l, wait)) return
    if (!sleeps) continue
    // Announce that we sleep, then sleep while the word still says so.
    v = Atomics.exchange(mem, l, MUTEX_SLEEPING)
    if (v === MUTEX_UNLOCKED) return
    wait = MUTEX_SLEEPING
    futexsleep(mem, l, MUTEX_SLEEPING, -1)
  }
}

/** The active-spin phase of lock2: true once the lock is taken (leaving `wait` in the word). */
function spinAcquire(mem: Int32Array, l: number, wait: number): boolean {
  for (let i = 0; i < ACTIVE_SPIN; i++) {
    while (mem[l] === MUTEX_UNLOCKED) {
      if (Atomics.compareExchange(mem, l, MUTEX_UNLOCKED, wait) === MUTEX_UNLOCKED) return true
    }
    procyield(mem, l, MUTEX_UNLOCKED, ACTIVE_SPIN_CNT)
  }
  return false
}

/** Takes the lock at mem[l] if it is free; never waits. */
export function tryLock(mem: Int32Array, l: number): boolean {
  return Atomics.compareExchange(mem, l, MUTEX_UNLOCKED, MUTEX_LOCKED) === MUTEX_UNLOCKED
}

/**
 * lock for threads that must not block: spins like lock, then parks a
 * promise (Atomics.waitAsync) instead of the thread.
 */
export async function lockAsync(mem: Int32Array, l: number): Promise<void> {
  let v = Atomics.exchange(mem, l, MUTEX_LOCKED)
  if (v === MUTEX_UNLOCKED) return
  let wait = v
  for (;;) {
    if (spinAcquire(mem, l, wait)) return
    v = Atomics.exchange(mem, l, MUTEX_SLEEPING)
    if (v === MUTEX_UNLOCKED) return
    wait = MUTEX_SLEEPING
    await futexsleepAsync(mem, l, MUTEX_SLEEPING, -1)
  }
}

/** Go's unlock2. Releases the lock at mem[l]; a fatal error if it is not held. */
export function unlock(mem: Int32Array, l: number): void {
  if (l === tracked0 || l === tracked1 || l === tracked2) held(mem, l, false)
  // Synchronizes with the exchange or CAS that took the lock.
  const v = Atomics.exchange(mem, l, MUTEX_UNLOCKED)
  if (v === MUTEX_UNLOCKED) throwFatal('unlock', 'lock is not locked')
  if (v === MUTEX_SLEEPING) futexwakeup(mem, l, 1)
}

// ---------------------------------------------------------------------------
// Notes.

/** Re-arms the note at mem[n]. Only when nobody sleeps on it. */
export function noteclear(mem: Int32Array, n: number): void {
  Atomics.store(mem, n, 0)
}

/** Wakes the note's sleeper (or lets its next notesleep return at once). */
export function notewakeup(mem: Int32Array, n: number): void {
  // Pairs with the load in notesleep/notetsleep.
  const old = Atomics.exchange(mem, n, 1)
  if (old !== 0) throwFatal('notewakeup', 'double wakeup')
  futexwakeup(mem, n, 1)
}

/** Parks until the note is woken. Only on a thread that may block. */
export function notesleep(mem: Int32Array, n: number): void {
  while (Atomics.load(mem, n) === 0) futexsleep(mem, n, 0, -1)
}

/**
 * Parks until the note is woken or ns nanoseconds have passed (ns < 0: no
 * limit). Returns whether it was woken.
 */
export function notetsleep(mem: Int32Array, n: number, ns: number): boolean {
  if (ns < 0) {
    notesleep(mem, n)
    return true
  }
  if (Atomics.load(mem, n) !== 0) return true
  const deadline = performance.now() + ns / 1e6
  for (;;) {
    const left = deadline - performance.now()
    if (left <= 0) break
    futexsleep(mem, n, 0, left * 1e6)
    if (Atomics.load(mem, n) !== 0) return true
  }
  return Atomics.load(mem, n) !== 0
}

/** notetsleep for threads that must not block: a promise of whether it was woken. */
export async function notetsleepAsync(mem: Int32Array, n: number, ns: number): Promise<boolean> {
  const deadline = ns < 0 ? Infinity : performance.now() + ns / 1e6
  while (Atomics.load(mem, n) === 0) {
    const left = deadline - performance.now()
    if (left <= 0) break
    await futexsleepAsync(mem, n, 0, left === Infinity ? -1 : left * 1e6)
  }
  return Atomics.load(mem, n) !== 0
}
