#!/usr/bin/env node
// The gort command: `gort run main.ts [args...]` runs a program whose main
// is a goroutine, with Go's semantics (docs/cli.md); `gort version`,
// `gort help`, and `gort trace summary` (the execution tracer's).
//
//   gort run [--trace out.json] main.ts|main.js [args...]
//
// What `run` does, as Go's runtime does for a built program:
//  - a Runtime with main: true (runtime.ts): every goroutine asleep prints
//    "fatal error: all goroutines are asleep - deadlock!" with the dump and
//    exits 2 (checkdead.ts); a goroutine's failure nobody awaits is Go's
//    panic, exit 2 (panic.ts); SIGQUIT prints every goroutine and exits 2
//    (host.ts sigquit). GOMAXPROCS and GODEBUG come from the environment,
//    as for any Runtime.
//  - the program's exported main runs as a goroutine on an M (runmain.ts:
//    Go's runtime.main); the CLI's thread plays the host, never loads the
//    program's module, and waits.
//  - main returns: the process exits 0 at once, the other goroutines end
//    with it (what they printed is out: an M writes synchronously,
//    internal/stdio.ts). exit(code) anywhere ends it with that code
//    (internal/exit.ts). main panics: Go's panic, exit 2.
//  - process.argv is [node, the module's path, ...args] on every thread.
//
// Exit statuses, as Go's: 0 main returned; exit(n): n; 2 panic, deadlock,
// SIGQUIT; 1 a program that cannot start (a missing file, no main, a main
// that is not a generator function, a module that fails to load: `go run`
// exits 1 for its build errors and a missing file); 2 a bad command line
// (an unknown flag or command: Go's flag package exits 2).
//
// Arguments are parsed by commander (zero dependencies, subcommands, and
// passThroughOptions: everything after the module's path is the program's
// own, flags included). commander 15 needs Node 22.12; gort supports
// Node 20.19, so it is commander 14.

import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command, CommanderError } from 'commander'
import { Runtime } from './runtime.js'
import { exitProcess } from './internal/exit.js'
import { fatalpanic } from './internal/panic.js'
import type { runmain as RunMain } from './internal/runmain.js'
// The execution tracer's part (docs/trace.md): `run --trace` starts it on
// the runtime before main and stops it, writing the file, when main
// returns; `trace summary` prints its goroutine analysis.
import * as tracer from './internal/trace/cli.js'


const require = createRequire(import.meta.url)
const version = (require('../package.json') as { version: string }).version

/** A program that cannot start: its message on stderr, status 1 (go run's for a build error). */
class StartError extends Error {}

/** Where `gort run` finds the program: an existing file, as the user named it and resolved. */
function findMain(file: string): { path: string; shown: string } {
  const path = resolve(file)
  if (!existsSync(path)) throw new StartError(`stat ${file}: no such file or directory`)
  if (statSync(path).isDirectory()) throw new StartError(`gort run: ${file} is a directory; name the program's module (main.ts or main.js)`)
  return { path, shown: file }
}

/** `gort run`: the essay at the top of this file. */
async function run(file: string, args: string[], opts: { trace?: string }): Promise<void> {
  const { path, shown } = findMain(file)
  process.argv = [process.argv[0], path, ...args]
  const { runmain } = (await import(new URL('./internal/runmain.js', import.meta.url).href)) as { runmain: typeof RunMain }
  let rt: Runtime
  try {
    rt = Runtime.create({ main: true })
  } catch (e) {
    // GOMAXPROCS or GODEBUG from the environment that the runtime refuses.
    throw new StartError(`gort run: ${(e as Error).message}`)
  }
  if (opts.trace !== undefined) await tracer.startTrace(rt, opts.trace)
  let problem: string | undefined
  try {
    problem = await rt.run(runmain.main, pathToFileURL(path).href, shown)
  } catch (e) {
    // main panicked (a failure of another goroutine nobody awaits ends
    // the program in the host: panic.ts fatalpanic).
    fatalpanic(e, (e as { goid?: number }).goid)
  }
  if (problem !== undefined) throw new StartError(problem)
  if (opts.trace !== undefined) await tracer.stopTrace()
  await exitProcess(0)
}

/** The command table: each subcommand and what it runs. */
function program(): Command {
  const gort = new Command('gort')
    .description('Go\'s runtime scheduler for Node.js: run a program whose main is a goroutine')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(run gort help for usage)')
  gort.command('run')
    .description('run a program: its module\'s exported main goroutine, with Go\'s semantics')
    .argument('<file>', 'the program\'s module: main.ts (through tsx) or main.js')
    .argument('[args...]', 'the program\'s arguments: process.argv.slice(2) in it, on every thread')
    .option('--trace <out.json>', 'write an execution trace (Chrome trace-event JSON)')
    .passThroughOptions()
    .addHelpText('after', [
      '',
      'The module exports its main goroutine: export function* main() { ... }',
      'GOMAXPROCS sets the Ps and GODEBUG=schedtrace=1000,scheddetail=1 the scheduler trace, as in Go.',
      'Exit status: 0 when main returns; exit(n): n; 2 on a panic, a deadlock or SIGQUIT; 1 if it cannot start.',
    ].join('\n'))
    .action((file: string, args: string[], opts: { trace?: string }) => run(file, args, opts))
  gort.command('version')
    .description('print gort\'s version')
    .action(() => {
      process.stdout.write(`gort version ${version} node ${process.version} ${process.platform}/${process.arch}\n`)
    })
  const trace = gort.command('trace').description('execution traces written by gort run --trace')
  trace.command('summary')
    .description('per function: goroutines, run time, and time blocked by reason (go tool trace\'s goroutine analysis)')
    .argument('<out.json>', 'a trace written by gort run --trace')
    .action(async (file: string) => {
      process.stdout.write(await tracer.traceSummary(file))
    })
  return gort
}

async function cli(): Promise<void> {
  try {
    await program().parseAsync(process.argv)
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander printed its own message (usage errors) except ours.
      if (e.code === 'gort.trace') process.stderr.write(`${e.message}\n`)
      const ok = e.exitCode === 0 // help asked for, not shown for a missing command
      await exitProcess(ok ? 0 : 2)
    }
    if (e instanceof StartError) {
      process.stderr.write(`${e.message}\n`)
      await exitProcess(1)
    }
    throw e
  }
}

void cli()
