// A FIFO of numbers for one thread: an array with a moving head, compacted
// when the dead prefix grows, so push and shift are O(1) amortized.

export class Deque {
  private a: number[] = []
  private head = 0

  get length(): number {
    return this.a.length - this.head
  }

  push(x: number): void {
    this.a.push(x)
  }

  /** The first element, or 0 when empty (0 is never a G index). */
  shift(): number {
    if (this.head === this.a.length) return 0
    const x = this.a[this.head++]
    if (this.head === this.a.length) {
      this.a.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head)
      this.head = 0
    }
    return x
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = this.head; i < this.a.length; i++) yield this.a[i]
  }
}
