// select: Go's select statement over channel cases, inside goroutines
// (yield*) and on the app's thread (await).

import { encodeSlotCode, slotCodeF64 } from './internal/gvalue.js'
import { freeValue } from './internal/codec.js'
import { PARK } from './internal/ops.js'
import { getg, mheap } from './internal/proc.js'
import { DONE, PARKED, finishSelect, selG, selIndex, selOk, selSudogs, selValue, selectgo, type Scase } from './internal/select.js'
import type { SharedHeap } from './internal/heap.js'
import { Chan, type ChanOp } from './chan.js'
import { heapHost } from './internal/host.js'

/** A case of select: ch.sendCase(v) or ch.recvCase(). */
export interface SelectCase<T = unknown> {
  readonly chan: Chan<T> | null
  readonly send: boolean
  readonly value?: T
}

/** What select returns: the index of the case that fired (-1: default), and for a receive the value and ok. */
export interface SelectResult<T = unknown> {
  index: number
  value: T | undefined
  ok: boolean
}

export interface SelectOptions {
  /** Go's `default:` case: return { index: -1 } at once if no case is ready. */
  default?: boolean
}

/**
 * Go's select: waits until one of the cases can proceed and performs it.
 * Among several ready cases one is chosen at random. A null channel never
 * proceeds; `select([])` blocks forever.
 *
 * @example
 * const r = yield* select([jobs.recvCase(), quit.recvCase(), after(50).recvCase()])
 * if (r.index === 0) handle(r.value)
 */
export function select<T = unknown>(cases: ReadonlyArray<SelectCase<T>>, opts: SelectOptions = {}): ChanOp<SelectResult<T>> {
  if (!Array.isArray(cases)) throw new TypeError('select: expected an array of cases (ch.sendCase(v), ch.recvCase())')
  const block = opts.default !== true
  let heap: SharedHeap | undefined = mheap()
  for (const [i, k] of cases.entries()) {
    if (k === null || typeof k !== 'object' || typeof k.send !== 'boolean') {
      throw new TypeError(`select: case ${i} is not a case; use ch.sendCase(v) or ch.recvCase()`)
    }
    if (k.chan === null || k.chan.ptr === 0) continue
    heap ??= k.chan.heap
    if (k.chan.heap !== heap) throw new TypeError(`select: case ${i}'s channel belongs to another runtime than the others'`)
  }
  if (getg() !== 0) return selectG(heap!, cases, block) as ChanOp<SelectResult<T>>
  if (mheap() !== undefined) throw new Error('select: blocking operations on an M must run inside a goroutine')
  return selectHost(heap, cases, block) as unknown as ChanOp<SelectResult<T>>
}

function toScases(h: SharedHeap | undefined, cases: ReadonlyArray<SelectCase<unknown>>): Scase[] {
  const out: Scase[] = []
  try {
    for (const k of cases) {
      const c = k.chan === null ? 0 : k.chan.ptr
      const code = k.send && c !== 0 ? encodeSlotCode(h!, k.value) : 0
      out.push({ c, send: k.send, code, f: slotCodeF64 })
    }
  } catch (e) {
    for (const s of out) if (s.code > 0) freeValue(h!, s.code)
    throw e
  }
  return out
}

function result(): SelectResult<unknown> {
  return { index: selIndex, value: selValue, ok: selOk }
}

function* selectG(h: SharedHeap, cases: ReadonlyArray<SelectCase<unknown>>, block: boolean): Generator<unknown, SelectResult<unknown>, unknown> {
  const sc = toScases(h, cases)
  const r = selectgo(h, sc, block, getg())
  if (r !== PARKED) return r === DONE ? result() : { index: -1, value: undefined, ok: false }
  const sgs = selSudogs
  const wg = selG
  yield PARK
  finishSelect(h, sc, sgs, wg)
  return result()
}

async function selectHost(h: SharedHeap | undefined, cases: ReadonlyArray<SelectCase<unknown>>, block: boolean): Promise<SelectResult<unknown>> {
  if (h === undefined) {
    // Only nil channels (or none): Go's select {} blocks forever; with default, it takes the default.
    if (!block) return { index: -1, value: undefined, ok: false }
    return new Promise<never>(() => {})
  }
  // The completion loop of the channels' own runtime settles the wait.
  const host = heapHost(h, 'select')
  const sc = toScases(h, cases)
  const r = selectgo(h, sc, block, 0)
  if (r !== PARKED) return r === DONE ? result() : { index: -1, value: undefined, ok: false }
  const sgs = selSudogs
  const wg = selG
  await host.park(wg)
  finishSelect(h, sc, sgs, wg)
  return result()
}
