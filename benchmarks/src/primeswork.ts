// The work of the primes suite, shared by its goroutines
// (primesgoroutines.ts) and by the plain worker thread it is measured
// against (primes-worker.ts), so that both run the same function.
// No import of gort here: the plain worker must not load the runtime.

/** Trial division by the odd numbers up to the square root. */
export function isPrime(n: number): boolean {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false
  return true
}

/** Cuts [0, limit) into parts ranges of (nearly) equal length. */
export function chunks(limit: number, parts: number): Array<[lo: number, hi: number]> {
  const step = Math.ceil(limit / parts)
  const out: Array<[number, number]> = []
  for (let i = 0; i < parts; i++) out.push([Math.min(limit, i * step), Math.min(limit, (i + 1) * step)])
  return out
}
