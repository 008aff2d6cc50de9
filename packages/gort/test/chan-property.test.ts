// Property test: random non-blocking channel operations against a plain
// array model of Go's semantics (buffer FIFO, full/empty, close, drain).

import test from 'ava'
import fc from 'fast-check'
import { Runtime, chan, select } from 'gort'

type Op = { op: 'send'; v: number } | { op: 'recv' } | { op: 'close' } | { op: 'len' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('send' as const), v: fc.integer() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('recv' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('len' as const) }) },
)

test('non-blocking sends, receives and close match the model', async (t) => {
  const rt = await Runtime.start({ procs: 1 })
  try {
    await t.notThrowsAsync(fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5 }), fc.array(opArb, { maxLength: 60 }), async (cap, ops) => {
        const c = chan<number>(cap, { runtime: rt })
        const buf: number[] = []
        let closed = false
        for (const o of ops) {
          if (o.op === 'send') {
            let threw = ''
            let idx = -2
            try {
              idx = (await select([c.sendCase(o.v)], { default: true })).index
            } catch (e) {
              threw = (e as Error).message
            }
            if (closed) {
              if (threw !== 'send on closed channel') return false
            } else if (buf.length < cap) {
              if (idx !== 0) return false
              buf.push(o.v)
            } else if (idx !== -1) return false
          } else if (o.op === 'recv') {
            const r = await select([c.recvCase()], { default: true })
            if (buf.length > 0) {
              if (r.index !== 0 || r.value !== buf.shift() || !r.ok) return false
            } else if (closed) {
              if (r.index !== 0 || r.value !== undefined || r.ok) return false
            } else if (r.index !== -1) return false
          } else if (o.op === 'close') {
            let threw = ''
            try {
              c.close()
            } catch (e) {
              threw = (e as Error).message
            }
            if (closed !== (threw === 'close of closed channel')) return false
            closed = true
          } else if (c.len() !== buf.length || c.cap() !== cap) return false
        }
        return true
      }),
      { numRuns: 200 },
    ))
  } finally {
    await rt.close()
  }
})
