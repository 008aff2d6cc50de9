// The demo's goroutine module: count primes by trial division, with a safe
// point (a plain `yield`) every 1,024 candidates.

import { goroutines } from 'gort'

export function isPrime(n: number): boolean {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false
  return true
}

export const primes = goroutines(import.meta.url, {
  /** Primes in [lo, hi). */
  *count(lo: number, hi: number): Generator<unknown, number> {
    let c = 0
    for (let n = lo; n < hi; n++) {
      if (isPrime(n)) c++
      if ((n & 1023) === 0) yield
    }
    return c
  },
})
