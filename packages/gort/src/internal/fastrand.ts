// A per-thread pseudo-random generator (Go's fastrand), for the scheduler's
// random choices and for tests that log their seed: xoshiro128**, seeded
// through splitmix32. It is small, needs only int32 arithmetic (fast in
// JIT-compiled JS), and a logged seed replays the same sequence.

export class FastRand {
  private a: number
  private b: number
  private c: number
  private d: number
  readonly seed: number

  constructor(seed: number) {
    this.seed = seed >>> 0
    let s = this.seed
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next() | 1
  }

  /** A uniformly distributed uint32. */
  next(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return r
  }

  /**
   * Go's fastrandn: a number in [0, n) by multiply-and-shift (Lemire's
   * reduction) rather than modulo. Exact in float64 for n <= 2^21.
   */
  n(n: number): number {
    return Math.floor((this.next() * n) / 4294967296)
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** A seed from the clock and the thread, for when none was given. */
export function randomSeed(): number {
  return (Math.random() * 2 ** 32) >>> 0
}
