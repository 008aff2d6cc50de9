// A goroutine module written in TypeScript and loaded as .ts (through tsx)
// by the Ms: not compiled by the test build.

import { goroutines } from 'gort'

interface Pair { a: number; b: number }

export const tsTasks = goroutines(import.meta.url, {
  *add(p: Pair): Generator<unknown, number> {
    const sum: number = p.a + p.b
    return sum
  },
})
