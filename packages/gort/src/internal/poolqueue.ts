// gort/pool's task queues: piscina 5.3's TaskQueue interface and its two
// built-in queues, ArrayTaskQueue and FixedQueue (exported as Piscina's
// statics, usable as the taskQueue option). The pool keeps its FIFO of
// tasks waiting for a slot on the app's thread, in one of these, so that
// maxQueue, queueSize and aborting a queued task mean what they mean in
// piscina. FixedQueue here is a ring of fixed-size arrays like piscina's,
// not a port of its code.

import assert from 'node:assert'

export const kQueueOptions = Symbol.for('Piscina.queueOptions')

/** What the queue holds: a task, with the options its submitter attached (task[queueOptionsSymbol]). */
export interface Task {
  readonly [kQueueOptions]: object | null
}

/** piscina's public view of a queued task. */
export interface PiscinaTask extends Task {
  taskId: number
  filename: string
  name: string
  created: number
  isAbortable: boolean
}

/** piscina's TaskQueue: the taskQueue option may be any object with these. */
export interface TaskQueue {
  readonly size: number
  shift(): Task | null
  remove(task: Task): void
  push(task: Task): void
  unshift?(task: Task): void
}

/** piscina's isTaskQueue. */
export function isTaskQueue(value: unknown): value is TaskQueue {
  return typeof value === 'object' && value !== null && 'size' in value &&
    typeof (value as TaskQueue).shift === 'function' && typeof (value as TaskQueue).remove === 'function' &&
    typeof (value as TaskQueue).push === 'function'
}

/** A FIFO over an array (piscina's ArrayTaskQueue). */
export class ArrayTaskQueue implements TaskQueue {
  tasks: Task[] = []

  get size(): number {
    return this.tasks.length
  }

  shift(): Task | null {
    return this.tasks.shift() ?? null
  }

  push(task: Task): void {
    this.tasks.push(task)
  }

  unshift(task: Task): void {
    this.tasks.unshift(task)
  }

  remove(task: Task): void {
    const i = this.tasks.indexOf(task)
    assert.notStrictEqual(i, -1)
    this.tasks.splice(i, 1)
  }
}

const CHUNK = 2048

/**
 * A FIFO of fixed-size chunks (piscina's FixedQueue): push and shift are
 * O(1) without Array.prototype.shift's copying; remove is O(n).
 */
export class FixedQueue implements TaskQueue {
  #chunks: Array<Array<Task | undefined>> = [new Array(CHUNK)]
  /** Index of the first task in #chunks[0]. */
  #head = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  isEmpty(): boolean {
    return this.#size === 0
  }

  push(task: Task): void {
    const end = this.#head + this.#size
    const c = Math.floor(end / CHUNK)
    if (c === this.#chunks.length) this.#chunks.push(new Array(CHUNK))
    this.#chunks[c][end % CHUNK] = task
    this.#size++
  }

  unshift(task: Task): void {
    if (this.#head === 0) {
      this.#chunks.unshift(new Array(CHUNK))
      this.#head = CHUNK
    }
    this.#head--
    this.#chunks[0][this.#head] = task
    this.#size++
  }

  shift(): Task | null {
    if (this.#size === 0) return null
    const t = this.#chunks[0][this.#head]!
    this.#chunks[0][this.#head] = undefined
    this.#size--
    if (++this.#head === CHUNK) {
      this.#head = 0
      if (this.#chunks.length > 1) this.#chunks.shift()
    }
    if (this.#size === 0) this.#head = 0
    return t
  }

  remove(task: Task): void {
    const all: Task[] = []
    let found = false
    for (let t = this.shift(); t !== null; t = this.shift()) {
      if (!found && t === task) found = true
      else all.push(t)
    }
    for (const t of all) this.push(t)
  }
}
