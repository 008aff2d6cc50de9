// Bodies for the `parallel` suite: Go-style RunParallel bodies (gort/bench).

import { goroutines } from 'gort'
import type { PB } from 'gort/bench'

/** Whether n is prime, by trial division: a few microseconds of CPU for numbers near 10^9. */
function isPrime(n: number): boolean {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false
  return true
}

export const bodies = goroutines(import.meta.url, {
  /**
   * Go's `for pb.Next() { ... }`: each iteration tests one number near p (a
   * prime, so a full trial division, about 10 µs), with a safe point every 16.
   */
  *primes(pb: PB, p: number): Generator<unknown, number> {
    let found = 0
    let i = 0
    while (pb.next()) {
      if (isPrime(p + 2 * (i & 1))) found++
      if ((++i & 15) === 0) yield
    }
    return found
  },
})
