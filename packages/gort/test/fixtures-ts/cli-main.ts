// A program's main module in TypeScript, run by `gort run` (cli.test.ts):
// the M that runs main loads it through tsx; so does the M that runs its
// registered goroutine.

import { chan, go, goroutines, type Chan } from 'gort'

interface Job { n: number }

export const work = goroutines(import.meta.url, {
  *square(job: Job, out: Chan<number>): Generator<unknown, void> {
    yield* out.send(job.n * job.n)
  },
})

export function* main(): Generator<unknown, void> {
  const out = chan<number>(3)
  for (let n = 1; n <= 3; n++) go(work.square, { n }, out)
  let sum = 0
  for (let i = 0; i < 3; i++) sum += (yield* out.recv()) ?? 0
  const args: string[] = process.argv.slice(2)
  console.log(`ts: sum ${sum} args ${args.join(',')}`)
}
