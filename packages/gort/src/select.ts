// select: Go's select statement over channel cases, inside goroutines
// (yield*) and on the app's thread (await).

import { encodeSlotCode, slotCodeF64 } from './internal/gvalue.js'
import { freeValue } from './internal/codec/block.js'
import { GoroutineFuture, PARK, hostFuture, type Future } from './internal/ops.js'
import { getg, mheap } from './internal/proc.js'
import { DONE, PARKED, finishSelect, selG, selIndex, selOk, selSudogs, selValue, selectgo, type Scase } from './internal/select.js'
import type { SharedHeap } from './internal/heap.js'
import { Chan, hostBlockForever } from './chan.js'
import { heapHost } from './internal/hostref.js'

/** A select case that receives from chan (ch.recvCase()); a null chan never proceeds. */
export interface RecvCase<T> {
  readonly chan: Chan<T> | null
  readonly send: false
}

/** A select case that sends value on chan (ch.sendCase(v)); a null chan never proceeds. */
export interface SendCase<T> {
  readonly chan: Chan<T> | null
  readonly send: true
  readonly value: T
}

/** A case of select: ch.sendCase(v) or ch.recvCase(). */
export type SelectCase<T = any> = RecvCase<T> | SendCase<T>

/**
 * The result of receive case I on a Chan<T>: the value with ok true, or
 * undefined with ok false once the channel is closed and drained.
 */
export type RecvResult<I extends number, T> =
  | { index: I; value: T; ok: true }
  | { index: I; value: undefined; ok: false }

/** The result of send case I: nothing to report (ok is a receive's; false, as Go's recvOK). */
export interface SendResult<I extends number> {
  index: I
  value: undefined
  ok: false
}

/** The result when no case was ready and the select had a default. */
export interface DefaultResult {
  index: -1
  value: undefined
  ok: false
}

/** Case C's result at index I. */
export type CaseResult<C, I extends number> =
  C extends SendCase<unknown> ? SendResult<I> : C extends RecvCase<infer T> ? RecvResult<I, T> : never

/** A tuple's key "0", "1", ... as the number; an array's (number) as itself. */
type IndexOf<K> = K extends `${infer I extends number}` ? I : number

/**
 * What select over the cases Cs returns: a union discriminated by `index`,
 * so that `if (r.index === 0)` narrows r.value to case 0's type (and, for a
 * receive, `r.ok` to whether the value is there). Cases given as an array
 * that is not a tuple give `index: number`.
 */
export type SelectResult<Cs extends readonly SelectCase[]> = { [K in keyof Cs]: CaseResult<Cs[K], IndexOf<K>> }[number]

export interface SelectOptions {
  /** Go's `default:` case: return { index: -1 } at once if no case is ready. */
  default?: boolean
}

/**
 * Go's select: waits until one of the cases can proceed and performs it.
 * Among several ready cases one is chosen at random. A null channel never
 * proceeds; `select([])` blocks forever. The cases are typed as a tuple,
 * so the result narrows by index, whatever each channel's element type.
 *
 * @example
 * const r = yield* select([jobs.recvCase(), names.recvCase(), after(50).recvCase()])
 * if (r.index === 0 && r.ok) handle(r.value)   // r.value: Job
 * else if (r.index === 1 && r.ok) greet(r.value) // r.value: string
 * @example
 * const r = await select([jobs.recvCase()], { default: true })
 * if (r.index === -1) idle()
 */
export function select<const Cs extends readonly SelectCase[]>(cases: Cs, opts: { default: true }): Future<SelectResult<Cs> | DefaultResult>
export function select<const Cs extends readonly SelectCase[]>(cases: Cs, opts?: { default?: false }): Future<SelectResult<Cs>>
export function select<const Cs extends readonly SelectCase[]>(cases: Cs, opts?: SelectOptions): Future<SelectResult<Cs> | DefaultResult>
export function select(cases: readonly SelectCase[], opts: SelectOptions = {}): Future<AnyResult> {
  if (!Array.isArray(cases)) throw new TypeError('select: expected an array of cases (ch.sendCase(v), ch.recvCase())')
  if (opts === null || typeof opts !== 'object') throw new TypeError(`select: options must be an object ({ default: true }), got ${String(opts)}`)
  const block = opts.default !== true
  let heap: SharedHeap | undefined = mheap()
  for (const [i, k] of cases.entries()) {
    if (k === null || typeof k !== 'object' || typeof k.send !== 'boolean') {
      throw new TypeError(`select: case ${i} is not a case; use ch.sendCase(v) or ch.recvCase()`)
    }
    if (k.chan !== null && !(k.chan instanceof Chan)) {
      throw new TypeError(`select: case ${i}'s chan is not a channel (${describe(k.chan)}); use ch.sendCase(v) or ch.recvCase()`)
    }
    if (k.chan === null || k.chan.ptr === 0) continue
    heap ??= k.chan.heap
    if (k.chan.heap !== heap) throw new TypeError(`select: case ${i}'s channel belongs to another runtime than the others'`)
  }
  if (getg() !== 0) return new GoroutineFuture(selectG(heap!, cases, block), 'select(cases)')
  if (mheap() !== undefined) throw new Error('select: blocking operations on an M must run inside a goroutine')
  return hostFuture(selectHost(heap, cases, block), 'select(cases)')
}

/** Any select's result, as the implementation sees it. */
type AnyResult = { index: number; value: unknown; ok: boolean }

function describe(v: unknown): string {
  if (v === undefined) return 'undefined'
  return typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : `a ${typeof v}`
}

function toScases(h: SharedHeap | undefined, cases: readonly SelectCase[]): Scase[] {
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

function result(): AnyResult {
  return { index: selIndex, value: selValue, ok: selOk }
}

function* selectG(h: SharedHeap, cases: readonly SelectCase[], block: boolean): Generator<unknown, AnyResult, unknown> {
  const sc = toScases(h, cases)
  const r = selectgo(h, sc, block, getg())
  if (r !== PARKED) return r === DONE ? result() : { index: -1, value: undefined, ok: false }
  const sgs = selSudogs
  const wg = selG
  yield PARK
  finishSelect(h, sc, sgs, wg)
  return result()
}

async function selectHost(h: SharedHeap | undefined, cases: readonly SelectCase[], block: boolean): Promise<AnyResult> {
  if (h === undefined) {
    // Only nil channels (or none): Go's select {} blocks forever; with default, it takes the default.
    if (!block) return { index: -1, value: undefined, ok: false }
    return hostBlockForever()
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
