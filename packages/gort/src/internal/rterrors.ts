// The runtime's own error classes that the app catches: in a module of
// their own, so that the public index and the Ms' entry (m.ts) export the
// same classes without importing the host's side (newm.ts, checkdead.ts).

/**
 * A goroutine's failure because the M it lived on died (an uncaught
 * exception on that thread, process.exit(), out of memory, or a kill after
 * a cancellation's grace period): `cause` is what ended the thread; an exit
 * without an error has its code as `cause.exitCode`.
 */
export class ThreadLostError extends Error {
  constructor(readonly goid: number, readonly mid: number, cause: Error) {
    super(`gort: goroutine ${goid} was lost: M${mid}, the thread it lived on, died: ${cause.message}`, { cause })
    this.name = 'ThreadLostError'
  }
}

/**
 * The start's rejection (Runtime.start, or rt.ready after Runtime.create)
 * when an M could not import one of its `modules` (a syntax error, a
 * module that does not exist, one that throws while it loads). `url` is
 * the module; the message names it and says why.
 */
export class ModuleLoadError extends Error {
  override name = 'ModuleLoadError'
  /** @internal */
  constructor(readonly url: string, why: string, where = 'Runtime.start') {
    super(`${where}: module ${url} failed to load on an M: ${why}`)
  }
}

/**
 * Go's "all goroutines are asleep - deadlock!": what the app's pending
 * operations reject with when nothing can ever complete them. `dump` is
 * the goroutine dump at that moment (rt.dump()'s format).
 */
export class DeadlockError extends Error {
  override name = 'DeadlockError'
  /** @internal */
  constructor(readonly dump: string) {
    super('all goroutines are asleep - deadlock!')
  }
}
