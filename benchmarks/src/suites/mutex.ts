// mutex: sync's BenchmarkMutex on gort, next to Go's own figure
// (benchmarks/go/chan_test.go): one goroutine per P locks and unlocks one
// shared Mutex in a loop, with no work in between. procs 2 against
// `go test -cpu 2`.

import { Mutex } from 'gort'
import { type Suite } from '../harness.js'
import { cb } from '../changoroutines.js'
import { runVsGo } from '../vsgo.js'

const SCALE = Number(process.env.CHAN_SCALE) || 1
const PROCS = Number(process.env.GOMAXPROCS) || 2
const N = Math.max(PROCS, Math.round((500_000 * SCALE) / PROCS) * PROCS)

export const mutexSuite: Suite = {
  name: 'mutex',
  description: "sync's BenchmarkMutex on gort and on Go (ns/op, gort ÷ Go)",
  run: () => {
    let mu: Mutex | undefined
    return runVsGo(
      [
        {
          name: 'Mutex',
          op: 'one Lock + Unlock of a shared Mutex (one goroutine per P)',
          procs: PROCS,
          go: { name: 'Mutex', cpu: PROCS },
          ops: N,
          sample: (rt) => {
            mu ??= new Mutex({ runtime: rt })
            return rt.run(cb.mutex, mu, PROCS, N)
          },
        },
      ],
      { suite: 'mutex', notes: [`procs ${PROCS} against \`go test -cpu ${PROCS}\``] },
    )
  },
}
