// select: Go's select benchmarks (runtime/chan_test.go) on gort, next to Go's
// own figures (benchmarks/go/chan_test.go). procs 2 against `go test -cpu 2`.
//
//  - SelectUncontended: each goroutine (one per P) moves a token between two
//    channels of capacity 1 of its own with a two-case receiving select.
//  - SelectSyncContended: three unbuffered channels shared by everyone; each
//    goroutine (one per P) starts a helper that sends on whichever of them
//    has a receiver, and receives from whichever has a sender.

import { type Suite } from '../harness.js'
import { cb } from '../changoroutines.js'
import { runVsGo, type Workload } from '../vsgo.js'

const SCALE = Number(process.env.CHAN_SCALE) || 1
const PROCS = Number(process.env.GOMAXPROCS) || 2
/** x × CHAN_SCALE operations, rounded to a multiple of 2 × procs so that the workers' shares add up to it. */
const n = (x: number): number => Math.max(2 * PROCS, Math.round((x * SCALE) / (2 * PROCS)) * 2 * PROCS)

const workloads: Workload[] = [
  {
    name: 'SelectUncontended',
    op: 'one 2-case select (and the send that moves the token), per goroutine, on its own channels',
    procs: PROCS,
    go: { name: 'SelectUncontended', cpu: PROCS },
    ops: n(100_000),
    sample: (rt) => rt.run(cb.selectUncontended, PROCS, n(100_000)),
  },
  {
    name: 'SelectSyncContended',
    op: 'one 3-case receiving select on shared unbuffered channels, against sending selects',
    procs: PROCS,
    go: { name: 'SelectSyncContended', cpu: PROCS },
    ops: n(20_000),
    sample: (rt) => rt.run(cb.selectSyncContended, PROCS, n(20_000)),
  },
]

export const selectSuite: Suite = {
  name: 'select',
  description: "Go's select benchmarks on gort and on Go (ns/op, gort ÷ Go)",
  run: () => runVsGo(workloads, { suite: 'select', notes: [`procs ${PROCS} against \`go test -cpu ${PROCS}\``] }),
}
