// The goroutine module of http-stall.mjs: a chain of sha256 rounds with a
// safe point (a plain yield) every `every` rounds, about 5 ms for 2,000.
import { createHash } from 'node:crypto'
import { goroutines } from 'gort'

export const jobs = goroutines(import.meta.url, {
  *sha(id, rounds, every) {
    let d = Buffer.alloc(32, id & 0xff)
    for (let i = 1; i <= rounds; i++) {
      d = createHash('sha256').update(d).digest()
      if (i % every === 0) yield
    }
    return d.toString('hex', 0, 8)
  },
})
