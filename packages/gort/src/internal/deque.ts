// A FIFO of G indexes for one thread: a ring over an Int32Array that
// doubles when full, so push and shift are O(1) and allocate nothing in the
// steady state (an array whose length is reset each time it empties cost
// the busy scheduler loop several percent).

export class Deque {
  private a = new Int32Array(64)
  private head = 0
  private n = 0

  get length(): number {
    return this.n
  }

  push(x: number): void {
    if (this.n === this.a.length) this.grow()
    this.a[(this.head + this.n) & (this.a.length - 1)] = x
    this.n++
  }

  /** The first element, or 0 when empty (0 is never a G index). */
  shift(): number {
    if (this.n === 0) return 0
    const x = this.a[this.head]
    this.head = (this.head + 1) & (this.a.length - 1)
    this.n--
    return x
  }

  private grow(): void {
    const b = new Int32Array(this.a.length * 2)
    for (let i = 0; i < this.n; i++) b[i] = this.a[(this.head + i) & (this.a.length - 1)]
    this.a = b
    this.head = 0
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.n; i++) yield this.a[(this.head + i) & (this.a.length - 1)]
  }
}
