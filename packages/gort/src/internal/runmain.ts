// The main goroutine of a program that `gort run` starts (cli.ts): Go's
// runtime.main, which runs the program's main.main and ends the program
// when it returns.
//
// The program's module is imported on the M that runs main, and only
// there: the CLI's own thread never loads it (a module's top level runs on
// each thread that imports it, and the program's main runs on an M, as
// every goroutine does). So main cannot be spawned by its own
// registration (the host would have to import the module to find it):
// this goroutine, gort's own and registered here, imports the module,
// checks its export `main`, and runs it inside itself with yield*. It then
// re-points its G record's function (proc.ts setgfn), so dumps and traces
// name it by the program's main, in the program's module, as Go's
// goroutine 1 shows main.main.
//
// What a program may export as main: a generator function, registered
// with goroutines() or not (a plain `export function* main()`); it is
// called without arguments (the program reads process.argv, which the CLI
// sets to [node, the module's path, ...its arguments] on every thread).
// Its return value is ignored, as Go's main returns nothing: exit(code)
// sets a status.
//
// This file is an entry point of the bundle (scripts/build.mjs): its
// goroutines() set is keyed by its own URL, and the Ms import it by that.

import { importModule } from './loader.js'
import { until } from './ops.js'
import { gotraceback, printpanicval } from './panic.js'
import { getg, mheap, setgfn } from './proc.js'
import { funcid, goroutineMeta, goroutines, isGeneratorFunction } from './registry.js'

/** Why a module cannot be run, for the CLI's message; undefined once its main has run. */
export type RunMainProblem = string | undefined

export const runmain = goroutines(import.meta.url, {
  /**
   * Go's runtime.main for the module at url (a file: URL): imports it,
   * runs its exported main goroutine. Returns a problem (the module did
   * not load, has no main, or its main is not a generator function)
   * instead of throwing it, so that the CLI tells a program that could not
   * start from one that panicked.
   */
  *main(url: string, shown: string): Generator<unknown, RunMainProblem> {
    let ns: Record<string, unknown>
    try {
      ns = (yield* until(importModule(url))) as Record<string, unknown>
    } catch (e) {
      // A syntax error's place is in its message; another error thrown
      // at the module's top level shows where, as a panic's frames do.
      const trace = e instanceof Error && !(e instanceof SyntaxError) ? gotraceback(e.stack) : ''
      // tsx compiles a .ts file outside a "type": "module" package as
      // CommonJS, which cannot hold a main that imports gort (ESM) back.
      const hint = /\.tsx?$/.test(url) && /require\(\) ES Module|ERR_REQUIRE/.test(String((e as Error)?.message))
        ? `\n(tsx loads ${shown} as CommonJS: name it .mts, or set "type": "module" in its package.json)`
        : ''
      return `cannot load ${shown}: ${printpanicval(e)}${trace === '' ? '' : `\n\n${trace.trimEnd()}`}${hint}`
    }
    const main = ns.main
    if (main === undefined) {
      return `${shown} has no exported main: write export function* main() { ... } (a generator function, the program's main goroutine)`
    }
    if (!isGeneratorFunction(main)) {
      const what = typeof main === 'function' ? `${main.constructor.name === 'AsyncFunction' ? 'an async' : 'a'} function, not a generator function` : `a ${typeof main}`
      return `${shown}: main is ${what}: write it as export function* main() { ... }`
    }
    const meta = goroutineMeta(main) ?? { url, name: 'main', key: `${url}#main` }
    setgfn(mheap()!, getg(), funcid(mheap()!, meta))
    yield* main()
    return undefined
  },
})
