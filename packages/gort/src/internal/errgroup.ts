// errgroup's record: golang.org/x/sync/errgroup's Group, made of gort's
// shared records so that any M and the app's thread can use one Group
// (the public facade is ../errgroup.ts).
//
// Go's Group is { cancel, wg, sem chan token, errOnce, err }. Here:
//
//   wg    a WaitGroup record: go() adds 1 before it spawns, the goroutine's
//         end does done(); wait() waits on it.
//   sem   a Semaphore record of the limit's size (Go's sem channel of
//         tokens: a permit is a token), or 0 for no limit. setLimit swaps
//         it, as Go's replaces the channel, only while no permit is held
//         (Go panics otherwise, and so does this). Like Go's, setLimit must
//         not run at the same time as go() or tryGo() on the same group.
//   mu    a Mutex record, errc a channel of capacity 1: the first error.
//         Go's errOnce.Do becomes "under mu, if errc is empty, send": the
//         first failure stores its error and cancels ctx, later ones find
//         errc full. wait() reads the error under mu by receiving it and
//         sending it back, so it stays for the next wait(). A channel
//         carries any value across threads (the codec), errors included.
//   ctx   withContext's context record (0 for a zero Group): cancelled by
//         the first error and when wait() returns (Go's cancel(g.err); a
//         gort context has no cause, so ctx.err() is Canceled).
//
// The record holds one reference on each part; freeing it (its last
// handle collected, refs.ts) releases them. Field ownership: layout.ts
// `errgroup`.

import { HandleKind } from './handlekind.js'
import type { SharedHeap } from './heap.js'
import { EG_CTX, EG_ERRC, EG_MU, EG_REFS, EG_SEM, EG_WG, ERRGROUP_BYTES, SEMA_COUNT, SEMA_LIMIT } from './layout.js'
import { free, malloc } from './malloc.js'
import { makechan } from './chan.js'
import { defineRefKind, release, retain } from './refs.js'
import { SemaKind, newsema, newsemaphore } from './sema.js'

/** The parts of an errgroup record (record pointers; ctx and sem 0 when absent). */
export interface ErrGroupParts {
  wg: number
  mu: number
  errc: number
  ctx: number
}

/**
 * A new errgroup record with fresh parts, under the context record ctx (0:
 * none), which the record retains. Returns it with one reference (the
 * caller's handle). Any thread.
 */
export function newerrgroup(h: SharedHeap, ctx: number): number {
  const m = h.i32
  const wg = newsema(h, SemaKind.WaitGroup)
  const mu = newsema(h, SemaKind.Mutex)
  const errc = makechan(h, 1)
  if (ctx !== 0) retain(h, HandleKind.Context, ctx)
  const p = malloc(h, ERRGROUP_BYTES)
  const w = p >> 2
  // record-init: plain stores, published with the pointer (the handle that carries it).
  m[w + EG_WG] = wg
  m[w + EG_MU] = mu
  m[w + EG_ERRC] = errc
  m[w + EG_CTX] = ctx
  Atomics.store(m, w + EG_SEM, 0)
  Atomics.store(m, w + EG_REFS, 1)
  return p
}

/** The record's fixed parts (record-init words: plain loads). */
export function errgroupparts(h: SharedHeap, p: number): ErrGroupParts {
  const m = h.i32
  const w = p >> 2
  return { wg: m[w + EG_WG], mu: m[w + EG_MU], errc: m[w + EG_ERRC], ctx: m[w + EG_CTX] }
}

/** The limit's Semaphore record, 0 for none (pairs with setLimit's exchange). */
export function errgroupsem(h: SharedHeap, p: number): number {
  return Atomics.load(h.i32, (p >> 2) + EG_SEM)
}

/**
 * Go's SetLimit: n < 0 removes the limit; otherwise a new Semaphore of
 * size n replaces the old one. Throws, as Go panics, while goroutines of
 * the group hold permits of the old limit. Any thread.
 */
export function errgroupsetlimit(h: SharedHeap, p: number, n: number): void {
  const m = h.i32
  const old = errgroupsem(h, p)
  if (old !== 0) {
    // A hint read (SEMA_COUNT is written under the semaphore's lock): the
    // caller must not race go() with setLimit, as in Go.
    const active = m[(old >> 2) + SEMA_LIMIT] - Atomics.load(m, (old >> 2) + SEMA_COUNT)
    if (active !== 0) throw new Error(`errgroup: modify limit while ${active} goroutines in the group are still active`)
  }
  const sem = n < 0 ? 0 : newsemaphore(h, n)
  // Pairs with errgroupsem's load on any thread.
  const was = Atomics.exchange(m, (p >> 2) + EG_SEM, sem)
  if (was !== 0) release(h, HandleKind.Semaphore, was)
}

/** Frees an errgroup record whose last reference was dropped, and releases its parts. */
function freeerrgroup(h: SharedHeap, p: number): void {
  const parts = errgroupparts(h, p)
  const sem = errgroupsem(h, p)
  free(h, p)
  release(h, HandleKind.WaitGroup, parts.wg)
  release(h, HandleKind.Mutex, parts.mu)
  release(h, HandleKind.Chan, parts.errc)
  if (parts.ctx !== 0) release(h, HandleKind.Context, parts.ctx)
  if (sem !== 0) release(h, HandleKind.Semaphore, sem)
}

// Every thread that loads this module counts and frees errgroup records
// (mworker.ts imports it, so every M does).
defineRefKind(HandleKind.ErrGroup, { refsWord: EG_REFS, free: freeerrgroup })
