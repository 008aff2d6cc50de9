// go(): spawning from inside a goroutine. The M installs the hook that does
// the work (mloop.ts); on any other thread go() explains what to use instead.

export type SpawnHook = (fn: unknown, args: unknown[]) => number

let hook: SpawnHook | undefined

/** Installed by the M at start. */
export function setSpawnHook(f: SpawnHook): void {
  hook = f
}

/**
 * Go's `go` statement, inside a goroutine: starts fn(...args) as a new
 * goroutine and returns its id without yielding. fn is either a function
 * registered with goroutines() (it may then run on any M) or a generator
 * function (a closure: it starts now and stays on this M).
 *
 * @example
 * go(tasks.fib, 20)
 * go(function* () { total += yield* tasks.fib(10) })
 */
export function go<A extends unknown[]>(fn: (...args: A) => Generator<unknown, unknown, any>, ...args: A): number {
  if (hook === undefined) {
    throw new Error('go: called outside a goroutine; from the app, use rt.go(fn, ...args)')
  }
  return hook(fn, args)
}
