// Builds dist/: one code-split ESM bundle by esbuild, the type declarations
// by tsc (which also type-checks), and pool.cjs and bullmq.cjs for require().
//
//   node scripts/build.mjs        (pnpm build)
//
// Why a bundle. An M is a worker thread that imports its loop's module
// graph, and then the goroutine modules, whose `import 'gort'` brings the
// public API. Node's ESM loader pays per module (resolve, stat, read,
// compile, link): as one file per source module that was about 55 modules
// and most of an M's start (docs/design/scheduler.md, "What an M's start
// costs"). Bundled, it is a few chunks.
//
// Why one build with splitting. Module identity: a goroutine module's
// `import 'gort'` on an M must reach the same registry, go(), channel and
// heap code as the M's loop, or its goroutines would register with a copy
// the loop never reads. So every entry point below comes from this one
// build, and the code two entries share lives once, in a chunk both import.
//
// What depends on where code lands, and how each is kept right (checked
// after the build, below):
//  - `new URL('./mworker.js', import.meta.url)` (newm.ts), './sysmonworker.js'
//    (sysmonctl.ts), './poolenv.js' (poolconfig.ts): resolved at run time
//    against the file the code ends up in, which may be an entry in dist/
//    or a chunk in dist/internal/. So the plugin below rewrites each such
//    reference to a source module into a marker naming the entry's place in
//    dist/, and after the build each marker becomes the path from the file
//    it landed in (the rest of that line's source-map columns shift by the
//    difference). A reference to a module that is not an entry point fails
//    the build: nothing would be written there.
//  - poolenv.js is imported by a URL with a query, once per pool: an entry
//    that no module imports, so the query re-instantiates its own few lines
//    and not a shared chunk.
//  - `goroutines(import.meta.url, {...})` keys a goroutine set by the URL of
//    the file it lands in (pooltask.ts: a chunk). Two sets in one file could
//    collide on a name, so the check allows one per output file.
//  - No module awaits at its top level: require('gort') goes through
//    require(esm), which refuses it, and V8 (Node 20) aborts the process
//    when a worker is terminated as an async module's evaluation starts
//    (mworker.ts: the worker entries run their loop from a promise).
//  - Function and class names: errors cross threads by class name
//    (codec/errors.ts registerError), and messages name functions. The
//    bundle keeps every name unless two modules declare the same top-level
//    name, and then it renames one (`track` becomes `track2`); the check
//    below fails the build on such a rename instead of esbuild's keepNames,
//    whose `__name(fn, "fn")` call per function and class cost every M
//    ~0.3 MB of RSS.
//  - Memory per thread: every thread that imports a chunk holds its source
//    text, and V8 keeps a text with any character above U+00FF as UTF-16,
//    twice the bytes (one arrow in one kept comment did that to the biggest
//    chunk): the check below fails on one. minifySyntax (not whitespace:
//    lines stay readable in stack traces) makes the chunks ~6 % smaller;
//    together ~0.6 MB less RSS per idle M (docs/design/scheduler.md, "What
//    an M's start costs").

import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const require = createRequire(import.meta.url)

/** Entry points, by their path in dist/ (without .js): the layout that package.json's exports and the worker URLs name. */
const entries = {
  index: 'src/index.ts',
  // 'gort' on an M (the gort-m export condition): index.ts without the host's side.
  m: 'src/m.ts',
  pool: 'src/pool.ts',
  bullmq: 'src/bullmq.ts',
  bench: 'src/bench.ts',
  errgroup: 'src/errgroup.ts',
  'internal/index': 'src/internal/index.ts',
  'internal/mworker': 'src/internal/mworker.ts',
  'internal/sysmonworker': 'src/internal/sysmonworker.ts',
  'internal/poolenv': 'src/internal/poolenv.ts',
  // The gort command (package.json bin), and the main goroutine it runs,
  // whose goroutines() set the Ms import by its own URL.
  cli: 'src/cli.ts',
  'internal/runmain': 'src/internal/runmain.ts',
  // gort/bullmq's job goroutines: an entry of its own so that they do not
  // land in bullmq.js, which imports bullmq (the Ms must not load it).
  'internal/bullmqjob': 'src/internal/bullmqjob.ts',
}

/** Entries that read their own URL's query, so no module may import them. */
const queried = ['internal/poolenv']

const entryOf = new Map(Object.entries(entries).map(([out, file]) => [join(root, file), `${out}.js`]))
const MARK = 'gort-dist:'

/** esbuild plugin: `new URL('./x.js', import.meta.url)` naming a source module becomes a marker for its place in dist/. */
const distUrls = {
  name: 'gort-dist-urls',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.[cm]?ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8')
      const errors = []
      const contents = text.replace(/new URL\((['"])(\.{1,2}\/[^'"]+)\.js\1,(\s*)import\.meta\.url\)/g, (all, q, spec, ws) => {
        const target = resolve(dirname(args.path), `${spec}.ts`)
        if (!existsSync(target)) return all // not one of ours (an example in a message)
        const out = entryOf.get(target)
        if (out === undefined) {
          errors.push({ text: `new URL('${spec}.js', import.meta.url) names ${relative(root, target)}, which is not an entry point of the bundle (scripts/build.mjs entries)` })
          return all
        }
        return `new URL(${q}${MARK}${out}${q},${ws}import.meta.url)`
      })
      return { contents, loader: 'ts', errors }
    })
  },
}

/**
 * esbuild plugin: 'comlink' stays external, as its ESM build. comlink has
 * no exports map, so Node resolves 'comlink' to its "main", a UMD
 * (CommonJS) file, and importing that from ESM starts the CommonJS export
 * lexer in each thread that does: ~20 ms of the host's, sysmon's and every
 * M's start (an M reaches the host's modules through a goroutine module's
 * import 'gort'). Its ESM build is the same API.
 */
const comlinkEsm = {
  name: 'gort-comlink-esm',
  setup(b) {
    b.onResolve({ filter: /^comlink$/ }, () => ({ path: 'comlink/dist/esm/comlink.mjs', external: true }))
  },
}

function fail(msg) {
  process.stderr.write(`build: ${msg}\n`)
  process.exit(1)
}

/** Every name a source module declares (function, class, const/let/var), for the rename check. */
function sourceDeclarations(dir) {
  const names = new Set()
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !/\.c?ts$/.test(e.name)) continue
    const text = readFileSync(join(e.parentPath ?? e.path, e.name), 'utf8')
    for (const [, n] of text.matchAll(/(?:function\*?\s*|class\s+|(?:const|let|var)\s+)([A-Za-z_$][\w$]*)/g)) names.add(n)
  }
  return names
}

rmSync(dist, { recursive: true, force: true })

const out = await esbuild.build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Beside the worker entries (see above); the hash names the content.
  chunkNames: 'internal/chunk-[hash]',
  // Dependencies (comlink; @napi-rs/nice through require) resolve from
  // node_modules as the app installed them.
  packages: 'external',
  minifySyntax: true,
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [distUrls, comlinkEsm],
})

// require('gort/pool') and require('gort/bullmq'): CommonJS files that
// require() pool.js and bullmq.js (ESM).
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { pool: 'src/pool.cts', bullmq: 'src/bullmq.cts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
})

// The markers become paths from the file each landed in; then the checks
// that the bundle kept what the layout above promises.
const outputs = Object.entries(out.metafile.outputs).filter(([f]) => f.endsWith('.js'))
const declared = sourceDeclarations(join(root, 'src'))
for (const [f] of outputs) {
  const file = join(root, f)
  let text = readFileSync(file, 'utf8')
  const wide = /[^\0-\xff]/.exec(text)
  if (wide !== null) fail(`${f}: the character ${JSON.stringify(wide[0])} (kept from a source comment or string) makes V8 store this file's text as UTF-16 in every thread; write it in ASCII or as an escape`)
  // Declarations whose name is the function's or class's .name: `function f`, `class C`, `var f = class|function|(...) =>`.
  for (const m of text.matchAll(/^(?:async )?(?:function\*? ?([A-Za-z_$][\w$]*)|class ([A-Za-z_$][\w$]*)|var ([A-Za-z_$][\w$]*) = (?:class\b|function\b|async\b|\([^()]*\) =>))/gm)) {
    const name = m[1] ?? m[2] ?? m[3]
    if (!declared.has(name) && /\d$/.test(name) && declared.has(name.replace(/\d+$/, ''))) fail(`${f}: the bundle renamed ${name.replace(/\d+$/, '')} to ${name} (two modules declare it at their top level); rename one, since names cross threads and show in messages`)
  }
  if (text.includes(MARK)) {
    text = text.replace(new RegExp(`(["'])${MARK}([^"']+)\\1`, 'g'), (_, q, target) => {
      let rel = relative(dirname(file), join(dist, target)).split(sep).join('/')
      if (!rel.startsWith('.')) rel = `./${rel}`
      if (!existsSync(join(dist, target))) fail(`${f}: a URL names dist/${target}, which the build did not write`)
      return `${q}${rel}${q}`
    })
    writeFileSync(file, text)
  }
  if (text.includes(MARK)) fail(`${f}: a ${MARK} marker is left`)
  // (Not inside a string: host.ts quotes the call in an error message.)
  const sets = text.match(/(?<!['"`])\bgoroutines\(\s*import\.meta\.url/g)?.length ?? 0
  if (sets > 1) fail(`${f}: ${sets} goroutines(import.meta.url, ...) sets in one file share a key prefix; make one of them an entry point`)
  // esbuild writes top-level statements at column 0 and indents the rest.
  const tla = text.match(/^(?:await\s|for await\b|(?:const|let|var)\s[^=\n]*=\s*await\s).*$/m)
  if (tla !== null) fail(`${f}: top-level await (${tla[0]}): require('gort') could not load it, and a worker terminated while such a module starts aborts the process`)
}
for (const q of queried) {
  const f = `dist/${q}.js`
  for (const [g, o] of outputs) {
    if (o.imports.some((i) => i.path === f)) fail(`${g} imports ${f}, whose URL query must instantiate it alone`)
  }
  if (!Object.keys(out.metafile.outputs[f]?.inputs ?? {}).includes(entries[q])) fail(`${f} does not hold ${entries[q]}'s code`)
}

// The bin: esbuild keeps src/cli.ts's #! line; npm sets the mode on install, a checkout runs it as it is.
if (!readFileSync(join(dist, 'cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')) fail('dist/cli.js does not start with its #! line')
chmodSync(join(dist, 'cli.js'), 0o755)

// Declarations and the type check (tsconfig.json: emitDeclarationOnly).
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
