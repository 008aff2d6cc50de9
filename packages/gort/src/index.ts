// gort: Go's runtime scheduler for Node.js.
//
// The public surface grows with the scheduler (Runtime, go, goroutines),
// channels and sync; this first layer exposes the shared heap's errors and
// options so that apps can already size and diagnose it.

export { FatalError } from './internal/throw.js'
export { SharedHeap } from './internal/heap.js'
export type { LayoutParams } from './internal/layout.js'
