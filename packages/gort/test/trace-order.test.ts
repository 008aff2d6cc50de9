// The trace reader's order across threads (trace/buffer.ts keepCausal): a
// wake-up across Ms is written without a time stamp on either side (the
// waker's UnblockX, the woken M's Drain), and the reader places the
// unblock before the woken goroutine's start. These write two writers'
// streams by hand, with stamps at chosen times, so that placing each
// stream on its own puts the wake-up late in its waker's stamp interval and
// the start early in the woken M's: the reader must move them into order.

import test from 'ava'
import { TraceWriter, newTraceBuffer, traceBegin, traceEnd, readEvents, TraceEv as Ev } from 'gort/internal'

/** A writer stamped at t0 and again just after, so that the events that follow go unstamped (the stamp interval opens up). */
function writer(sab: SharedArrayBuffer, owner: number, t0: number): TraceWriter {
  const w = new TraceWriter(sab, owner)
  w.anchor(t0)
  w.ev(Ev.Steal, 0, 0, 0)
  w.anchor(t0 + 1e-6)
  return w
}

/** A recording with two M writers (owners 0 and 1), both opened at t0. */
function twoMs(): { sab: SharedArrayBuffer; t0: number; a: TraceWriter; b: TraceWriter } {
  const sab = newTraceBuffer(1 << 20)
  traceBegin(sab)
  const t0 = performance.now()
  return { sab, t0, a: writer(sab, 0, t0), b: writer(sab, 1, t0) }
}

/** Publishes both writers, stops the recording and reads it back. */
function read(sab: SharedArrayBuffer, a: TraceWriter, b: TraceWriter): ReturnType<typeof readEvents>['events'] {
  a.flush()
  b.flush()
  traceEnd(sab)
  return readEvents(sab).events
}

const fill = (w: TraceWriter, n: number): void => {
  for (let k = 0; k < n; k++) w.ev(Ev.Steal, 0, 0, 0)
}
/** An UnblockX of goid by waker, aimed at M `to`, carrying that M's wake count n. */
const unblockX = (w: TraceWriter, goid: number, waker: number, to: number, n: number): void => w.ev(Ev.UnblockX | ((2 | (to << 8)) << 8), goid, waker, n)

test('an unstamped wake-up across Ms is placed before the start it leads to', (t) => {
  const { sab, t0, a, b } = twoMs()
  // M0: goroutine 1 runs a long stretch, then readies goroutine 2 (on M1) at its end.
  a.ev(Ev.Start, 1, -1, 0)
  fill(a, 60)
  unblockX(a, 2, 1, 1, 1)
  a.anchor(t0 + 0.1)
  // M1: drains its readyq first thing (count 1 covers M0's wake-up), starts goroutine 2, runs on.
  b.mark(Ev.Drain, 1)
  b.ev(Ev.Start | (1 << 8), 2, -1, 0)
  fill(b, 60)
  b.anchor(t0 + 0.1)
  const events = read(sab, a, b)
  const unblock = events.find((e) => e.kind === Ev.Unblock && e.a === 2)
  const start = events.find((e) => e.kind === Ev.Start && e.a === 2)
  t.truthy(unblock)
  t.truthy(start)
  t.is(unblock!.owner, 0)
  t.is(unblock!.b, 1, 'the waker')
  t.is(unblock!.c, 2, 'the wait reason')
  // Strictly: a reader that sorts by time alone (chrome.ts) must not meet a tie it could break either way.
  t.true(unblock!.ts < start!.ts, `unblock at ${unblock!.ts} µs, start at ${start!.ts} µs`)
  // Each writer's events stay in order, inside the recording's span.
  for (const owner of [0, 1]) {
    const ts = events.filter((e) => e.owner === owner).map((e) => e.ts)
    for (let k = 1; k < ts.length; k++) t.true(ts[k - 1] <= ts[k], `owner ${owner}: event ${k} at ${ts[k]} before ${ts[k - 1]}`)
    t.true(ts.at(-1)! <= ts[0] + 101, `owner ${owner} ends by its last stamp`)
  }
  t.false(events.some((e) => e.kind === Ev.Drain || e.kind === Ev.UnblockX), 'Drain and UnblockX are read back as order points and Unblocks')
})

test('an unstamped wake-up across Ms is placed after the run in which the woken goroutine parked', (t) => {
  const { sab, t0, a, b } = twoMs()
  // M0: goroutine 1 readies goroutine 2 (on M1) first thing, then runs a long stretch.
  a.ev(Ev.Start, 1, -1, 0)
  unblockX(a, 2, 1, 1, 1)
  fill(a, 60)
  a.anchor(t0 + 0.1)
  // M1: a long stretch of other work, then goroutine 2 runs and parks, M1 drains it and runs it again.
  fill(b, 60)
  b.ev(Ev.Start | (1 << 8), 2, -1, 0)
  b.stop(3, 2) // StopWhy.Block
  b.mark(Ev.Drain, 1)
  b.startLocal(1, 2, 0)
  b.anchor(t0 + 0.1)
  const events = read(sab, a, b)
  const unblock = events.find((e) => e.kind === Ev.Unblock && e.a === 2)!
  const starts = events.filter((e) => e.kind === Ev.Start && e.a === 2)
  t.is(starts.length, 2)
  t.true(starts[0].ts < unblock.ts && unblock.ts < starts[1].ts, `starts at ${starts[0].ts} and ${starts[1].ts} µs, unblock at ${unblock.ts} µs`)
})

test('wake-up numbers that claim a cycle (a corrupted stream) do not hang the reader', (t) => {
  const { sab, t0, a, b } = twoMs()
  // Each M drains a count that covers the other's wake-up, which it writes only after.
  a.mark(Ev.Drain, 1)
  fill(a, 10)
  unblockX(a, 2, 1, 1, 1)
  a.anchor(t0 + 0.05)
  b.mark(Ev.Drain, 1)
  fill(b, 10)
  unblockX(b, 1, 2, 0, 1)
  b.anchor(t0 + 0.05)
  const events = read(sab, a, b)
  t.is(events.filter((e) => e.kind === Ev.Unblock).length, 2)
  for (const owner of [0, 1]) {
    const ts = events.filter((e) => e.owner === owner).map((e) => e.ts)
    for (let k = 1; k < ts.length; k++) t.true(ts[k - 1] <= ts[k])
  }
})
