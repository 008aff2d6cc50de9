// errgroup: golang.org/x/sync/errgroup across every M and the app's
// thread. A Group runs goroutines for subtasks of one task, waits for them,
// keeps the first error, and (withContext) cancels a context on it. The
// Group is a record in the shared heap (internal/errgroup.ts has its parts
// and why), so it crosses threads as a handle: pass it to goroutines as an
// argument, like a WaitGroup.
//
// A goroutine of the group fails by throwing; the first value thrown is
// the group's error. A function registered with goroutines() runs in a
// goroutine of the group that may start on any M (errgroupGo below: it
// finds the function by its registration, runs it, and records how it
// ended); a closure, inside a goroutine, starts on that goroutine's M.

import { heapHere, heapHost } from './internal/hostref.js'
import type { SharedHeap } from './internal/heap.js'
import { HandleKind } from './internal/handlekind.js'
import { kHandle, registerHandleKind, type HandleRef } from './internal/codec/handles.js'
import { ERR_CANCELED, cancelctx } from './internal/context.js'
import { errgroupparts, errgroupsem, errgroupsetlimit, newerrgroup } from './internal/errgroup.js'
import { importModule } from './internal/loader.js'
import { GoroutineFuture, hostFuture, until, type Future } from './internal/ops.js'
import { getg, mheap, setgfn } from './internal/proc.js'
import { retain, track as trackRecord } from './internal/refs.js'
import { funcById, funcKey, funcid, goroutineMeta, goroutines, isGeneratorFunction } from './internal/registry.js'
import { go as spawnHere } from './internal/spawn.js'
import { chanHandle, type Chan } from './chan.js'
import { Context, withCancel } from './context.js'
import type { Runtime } from './runtime.js'
import { Mutex, Semaphore, WaitGroup } from './sync.js'

type GoroutineBody<A extends unknown[]> = (...args: A) => Generator<unknown, unknown, any>

/** What a goroutine threw, as the group's error: an Error as it is, anything else wrapped. */
function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(`errgroup: a goroutine threw ${typeof e === 'string' ? JSON.stringify(e) : String(e)}`)
}

/**
 * golang.org/x/sync/errgroup's Group: a WaitGroup that keeps the first
 * error of its goroutines. A new Group has no limit and no context
 * (Go's zero Group); withContext makes one whose context is cancelled by
 * the first error and when wait returns. Shared by every M and the app's
 * thread: pass it to goroutines as an argument.
 *
 * @example
 * const [g, ctx] = errgroup.withContext(background())
 * for (const url of urls) yield* g.go(tasks.fetch, ctx, url)   // await g.go(...) on the app's thread
 * const err = yield* g.wait()                                   // the first error, or null
 */
export class Group {
  /** @internal */ readonly heap: SharedHeap
  /** @internal */ readonly ptr: number
  /** @internal */ readonly wg: WaitGroup
  readonly #mu: Mutex
  readonly #errc: Chan<Error>
  readonly #ctx: Context | undefined

  constructor(opts?: { runtime?: Runtime })
  /** @internal A handle to the record at at.ptr, holding a reference the caller took. */
  constructor(opts: { runtime?: Runtime }, at: { heap: SharedHeap; ptr: number })
  constructor(opts: { runtime?: Runtime } = {}, at?: { heap: SharedHeap; ptr: number }) {
    this.heap = at?.heap ?? heapHere('errgroup.Group', opts.runtime)
    this.ptr = at?.ptr ?? newerrgroup(this.heap, 0)
    const h = this.heap
    const p = errgroupparts(h, this.ptr)
    // One handle object per part, each holding a reference of its own.
    retain(h, HandleKind.WaitGroup, p.wg)
    this.wg = new WaitGroup({}, { heap: h, ptr: p.wg })
    retain(h, HandleKind.Mutex, p.mu)
    this.#mu = new Mutex({}, { heap: h, ptr: p.mu })
    this.#errc = chanHandle<Error>(h, p.errc)
    if (p.ctx !== 0) {
      retain(h, HandleKind.Context, p.ctx)
      this.#ctx = Context.of(h, p.ctx)
    }
    trackGroup(this)
  }

  [kHandle](): HandleRef {
    return { kind: HandleKind.ErrGroup, ptr: this.ptr }
  }

  /**
   * Go's Group.Go: runs fn(...args) in a new goroutine of the group. With a
   * limit (setLimit) and that many goroutines running, it waits for one to
   * end: yield* it in a goroutine, await it on the app's thread (always do:
   * a go() that has to wait starts nothing until then). fn is a function
   * registered with goroutines(), which may run on any M, or, inside a
   * goroutine, a closure (a generator function), which starts on this M.
   * fn fails by throwing; the first failure is the group's error.
   */
  go<A extends unknown[]>(fn: GoroutineBody<A>, ...args: A): Future<void> {
    const start = this.#starter(fn, args, 'Group.go')
    const sem = this.#sem()
    if (sem === undefined || sem.tryAcquire(1)) {
      start(sem)
      return getg() !== 0 ? new GoroutineFuture(done(), 'g.go(fn)') : hostFuture(Promise.resolve(), 'g.go(fn)')
    }
    if (getg() !== 0) {
      return new GoroutineFuture((function* () {
        yield* sem.acquire(1)
        start(sem)
      })(), 'g.go(fn)')
    }
    return hostFuture((async () => {
      await sem.acquire(1)
      start(sem)
    })(), 'g.go(fn)')
  }

  /**
   * Go's Group.TryGo: go(fn, ...args) only if the limit lets a goroutine
   * start now; never waits. Returns whether it started one.
   */
  tryGo<A extends unknown[]>(fn: GoroutineBody<A>, ...args: A): boolean {
    const start = this.#starter(fn, args, 'Group.tryGo')
    const sem = this.#sem()
    if (sem !== undefined && !sem.tryAcquire(1)) return false
    start(sem)
    return true
  }

  /**
   * Go's Group.SetLimit: at most n goroutines of the group run at once
   * (go() waits, tryGo() declines); n < 0 removes the limit. Throws, as Go
   * panics, while goroutines of the group are running under the old limit.
   * Like Go's, not to be called while go() or tryGo() may run.
   */
  setLimit(n: number): void {
    if (!Number.isInteger(n) || n > 0x7fffffff) throw new RangeError(`Group.setLimit: n must be an integer (negative: no limit), got ${String(n)}`)
    errgroupsetlimit(this.heap, this.ptr, n)
  }

  /**
   * Go's Group.Wait: waits until every goroutine of the group has ended,
   * cancels withContext's context, and returns the first error (null if
   * none): yield* in a goroutine, await on the app's thread. It may be
   * called again, and returns the same error.
   */
  wait(): Future<Error | null> {
    if (getg() !== 0) return new GoroutineFuture(this.#waitG(), 'g.wait()')
    if (mheap() !== undefined) throw new Error('Group.wait: must run inside a goroutine on an M')
    return hostFuture(this.#waitHost(), 'g.wait()')
  }

  * #waitG(): Generator<unknown, Error | null, unknown> {
    yield* this.wg.wait()
    this.#cancel()
    yield* this.#mu.lock()
    try {
      if (this.#errc.len() === 0) return null
      // Taken and put back under mu: it stays for the next wait().
      const err = (yield* this.#errc.recv())!
      yield* this.#errc.send(err)
      return err
    } finally {
      this.#mu.unlock()
    }
  }

  async #waitHost(): Promise<Error | null> {
    await this.wg.wait()
    this.#cancel()
    await this.#mu.lock()
    try {
      if (this.#errc.len() === 0) return null
      const err = (await this.#errc.recv())!
      await this.#errc.send(err)
      return err
    } finally {
      this.#mu.unlock()
    }
  }

  /**
   * A goroutine of the group ended with e: the first error is kept and
   * cancels the context (Go's errOnce.Do). Inside a goroutine.
   * @internal
   */
  * fail(e: unknown): Generator<unknown, void, unknown> {
    yield* this.#mu.lock()
    try {
      // Sent to only under mu, and only when empty: it never blocks.
      if (this.#errc.len() === 0) {
        yield* this.#errc.send(asError(e))
        this.#cancel()
      }
    } finally {
      this.#mu.unlock()
    }
  }

  #cancel(): void {
    if (this.#ctx !== undefined) cancelctx(this.heap, this.#ctx.ptr, ERR_CANCELED)
  }

  /** The limit's Semaphore now, if there is one (a handle of its own). */
  #sem(): Semaphore | undefined {
    const p = errgroupsem(this.heap, this.ptr)
    if (p === 0) return undefined
    retain(this.heap, HandleKind.Semaphore, p)
    return new Semaphore(0, {}, { heap: this.heap, ptr: p })
  }

  /**
   * Checks fn where go() or tryGo() was called and returns what starts its
   * goroutine once a permit (if any) is held: wg.add(1), then the spawn.
   */
  #starter(fn: unknown, args: unknown[], what: string): (sem: Semaphore | undefined) => void {
    const meta = goroutineMeta(fn)
    if (meta === undefined && !isGeneratorFunction(fn)) {
      throw new TypeError(`${what}: fn must be a generator function (registered with goroutines(), or a closure inside a goroutine), got ${typeof fn === 'function' ? 'a function that is not a generator function' : typeof fn}`)
    }
    const inG = getg() !== 0
    if (meta === undefined && !inG) {
      throw new TypeError(`${what}: on the app's thread fn must be registered with goroutines() (a closure can only start inside a goroutine, on its M)`)
    }
    return (sem) => {
      this.wg.add(1)
      try {
        if (meta === undefined) {
          const body = fn as GoroutineBody<unknown[]>
          const g = this
          spawnHere(function* () { yield* run(g, sem, body, args) })
          return
        }
        const id = funcid(this.heap, meta)
        if (inG) spawnHere(egrun.errgroupGo, this, sem ?? null, id, args)
        else heapHost(this.heap, what).spawn(egrun.errgroupGo, [this, sem ?? null, id, args], undefined)
      } catch (e) {
        // Nothing started (an argument that cannot cross threads, a closed
        // runtime): the count and the permit go back, and the caller hears why.
        this.wg.done()
        sem?.release(1)
        throw e
      }
    }
  }

  /** @internal */
  static of(heap: SharedHeap, ptr: number): Group {
    return new Group({}, { heap, ptr })
  }
}

function* done(): Generator<unknown, void, unknown> {}

/** Runs a goroutine of group g: fn's failure is g's error; then its permit and its count go back (Go's g.done()). */
function* run(g: Group, sem: Semaphore | undefined | null, fn: GoroutineBody<unknown[]>, args: unknown[]): Generator<unknown, void, unknown> {
  try {
    yield* fn(...args)
  } catch (e) {
    yield* g.fail(e)
  } finally {
    sem?.release(1)
    g.wg.done()
  }
}

const egrun = goroutines(import.meta.url, {
  /**
   * A goroutine of a group running the registered function with table id
   * fn: it may start on any M, so it finds the function there (importing
   * its module if this M has not), and then shows as it in dumps.
   */
  *errgroupGo(g: Group, sem: Semaphore | null, fn: number, args: unknown[]): Generator<unknown, void> {
    const h = mheap()!
    let body = funcById(h, fn)
    try {
      if (body === undefined) {
        const { url, name } = funcKey(h, fn)
        yield* until(importModule(url))
        body = funcById(h, fn)
        if (body === undefined) throw new TypeError(`errgroup: module ${url} does not register ${name} with goroutines()`)
      }
      setgfn(h, getg(), fn)
    } catch (e) {
      body = function* () { throw e }
    }
    yield* run(g, sem, body, args)
  },
})

/** This thread's handle objects hold the record through refs.ts's registry. */
function trackGroup(g: Group): void {
  trackRecord(g.heap, g, HandleKind.ErrGroup, g.ptr)
}

/**
 * Go's errgroup.WithContext: a new Group and a context derived from
 * parent that is cancelled the first time a goroutine of the group fails,
 * or when wait() first returns, whichever comes first.
 *
 * @example
 * const [g, ctx] = withContext(background())
 */
export function withContext(parent: Context, opts: { runtime?: Runtime } = {}): [Group, Context] {
  const [ctx] = withCancel(parent, opts)
  const ptr = newerrgroup(ctx.heap!, ctx.ptr)
  return [Group.of(ctx.heap!, ptr), ctx]
}

// Every thread that loads gort decodes Groups.
registerHandleKind(HandleKind.ErrGroup, (heap, ptr) => Group.of(heap, ptr), { shared: true })
