// A goroutine's failure printed as Go prints a panic (panic.go's
// printpanics and dopanic_m, error.go's printpanicval), and the program's
// end that follows when the runtime runs as a program's main.
//
// Go prints, for a panic nobody recovered:
//
//     panic: boom
//
//     goroutine 17 [running]:
//     main.main.func1()
//     	/tmp/x/main.go:10 +0x49
//     created by main.main
//     	/tmp/x/main.go:9 +0x25
//
// and exits with status 2. Here the panic value is what the goroutine
// threw; its trace is the V8 stack that the error carried across threads
// (codec/errors.ts keeps it), turned into Go's two-line frames, without
// the runtime's own frames (gort's bundle, node:internal). A thrown value
// that is not an Error has no stack: the goroutine's line stands alone.
// There is no "created by" frame: the spawning site is not recorded.

import { inspect } from 'node:util'
import { writeAllSync } from './stdio.js'

/**
 * Go's printpanicval (with preprintpanics' v.Error()): an Error prints its
 * message, prefixed with its class's name unless it is a plain Error (a
 * TypeError is worth naming, as Go names a runtime error); a string prints
 * as it is; anything else as node:util's inspect shows it.
 */
export function printpanicval(v: unknown): string {
  if (v instanceof Error) return v.name === 'Error' || v.name === '' ? v.message : `${v.name}: ${v.message}`
  if (typeof v === 'string') return v
  return inspect(v, { depth: 2, breakLength: Infinity })
}

/** The URL prefix of gort's own code (its bundle's dist/, or its sources'), whose frames a panic's trace leaves out. */
const ownPrefix = ((): string => {
  const here = import.meta.url
  const i = here.lastIndexOf('/dist/')
  return i >= 0 ? here.slice(0, i + 6) : here.slice(0, here.lastIndexOf('/') + 1)
})()

/**
 * A V8 stack's frames in Go's shape: `fn(...)` on one line, its place
 * indented below, as Go's traceback prints `main.f(...)` and
 * `\t/path/file.go:12`. Frames of gort itself and of Node's internals are
 * left out; a frame without a name (top-level code) is `(anonymous)`.
 */
export function gotraceback(stack: string | undefined): string {
  if (stack === undefined) return ''
  const out: string[] = []
  for (const line of stack.split('\n')) {
    const f = /^\s+at (?:async )?(?:(.*?) \((.*)\)|(.*))$/.exec(line)
    if (f === null) continue
    const name = f[1] ?? '(anonymous)'
    const where = f[2] ?? f[3] ?? ''
    if (where.startsWith('node:') || where.startsWith(ownPrefix) || where === '<anonymous>' || where === 'native') continue
    out.push(`${name.replace(/^(?:Generator|Object)\./, '')}(...)\n\t${where}\n`)
  }
  return out.join('')
}

/**
 * Go's printpanics followed by the failing goroutine's traceback: the
 * text Go writes to stderr when a panic ends a program. goid is the
 * goroutine that threw.
 */
export function printpanics(v: unknown, goid: number | undefined): string {
  const trace = v instanceof Error ? gotraceback(v.stack) : ''
  return `panic: ${printpanicval(v)}\n\ngoroutine ${goid ?? '?'} [running]:\n${trace}`
}

/**
 * A program's main (Runtime main: true, the gort CLI) panicked: prints the
 * panic synchronously (it is out of the process before exit) and exits
 * with Go's status 2. Host thread.
 */
export function fatalpanic(v: unknown, goid: number | undefined): never {
  try {
    writeAllSync(2, Buffer.from(printpanics(v, goid)))
  } catch {
    // stderr is gone: exit all the same
  }
  process.exit(2)
}
