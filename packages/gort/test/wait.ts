// Waiting helpers for the test thread. The ava test runs on a worker thread
// that may block, but these wait with promises so that the test's timers,
// workers' messages and the watchdog keep running meanwhile.

import { futexsleepAsync } from 'gort/internal'

/** Resolves after ms milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Resolves once pred(Atomics.load(mem[addr])) holds. Parks on the word with
 * futexsleepAsync, with a short timeout so that a change nobody notifies
 * about (a lock word going from LOCKED to SLEEPING) is still seen.
 */
export async function waitWord(mem: Int32Array, addr: number, pred: (v: number) => boolean): Promise<number> {
  for (;;) {
    const v = Atomics.load(mem, addr)
    if (pred(v)) return v
    await futexsleepAsync(mem, addr, v, 5e6)
  }
}
