// The package's shape: internal/ imports no public module (an M's worker
// loads internal modules only), the public files are facades over
// internal/ (they import no layout offsets and no runtime lock), and the
// handle kinds have one table.
//
// dist/ is a code-split bundle (scripts/build.mjs), so the module graph is
// read from the sources, and what an M's entry loads from the built files:
// the closure of dist/internal/mworker.js's static imports, and the source
// modules their source maps name.

import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const src = fileURLToPath(new URL('../src/', import.meta.url))

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext)).map((f) => join(dir, f))
}

/** The relative modules a source file imports at run time (not `import type`), as source paths. */
function srcImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  const re = /^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)\.js['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)\.js['"]/gm
  for (const m of text.matchAll(re)) out.push(resolve(dirname(file), `${m[1] ?? m[2]}.ts`))
  return out
}

/** The built files a built file imports statically, resolved. */
function distImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/^(?:import|export)\s[^'";]*?['"](\.{1,2}\/[^'"]+)['"]/gm)) out.push(resolve(dirname(file), m[1]))
  return out
}

/** A built entry and every built file it loads, by static import. */
function closure(entry: string): string[] {
  const seen = new Set<string>([entry])
  for (const f of seen) for (const i of distImports(f)) seen.add(i)
  return [...seen]
}

/** The source modules (paths under src/) bundled into these built files, from their source maps. */
function sourcesOf(built: string[]): string[] {
  const out = new Set<string>()
  for (const f of built) {
    const map = JSON.parse(readFileSync(`${f}.map`, 'utf8')) as { sources: string[] }
    for (const s of map.sources) out.add(relative(src, resolve(dirname(f), s)))
  }
  return [...out].sort()
}

test('internal/ imports no public module', (t) => {
  const internal = join(src, 'internal')
  const bad: string[] = []
  const internals = files(internal, '.ts').filter((f) => !f.endsWith('.d.ts'))
  for (const f of internals) {
    for (const i of srcImports(f)) {
      if (relative(internal, i).startsWith('..')) bad.push(`${relative(src, f)} imports ${relative(src, i)}`)
    }
  }
  t.deepEqual(bad, [])
  t.true(internals.length > 20, 'the scan found the internal modules')
  t.true(srcImports(join(internal, 'mloop.ts')).length > 10, 'the scan reads imports')
})

test('an M\'s and sysmon\'s worker entries load internal modules only, and the M\'s the record modules', (t) => {
  for (const entry of ['mworker.js', 'sysmonworker.js']) {
    const sources = sourcesOf(closure(join(dist, 'internal', entry)))
    t.true(sources.length > 10, `${entry}: its source maps name ${sources.length} modules`)
    t.deepEqual(sources.filter((s) => !s.startsWith(`internal${'/'}`)), [], `${entry} loads public modules`)
  }
  const m = sourcesOf(closure(join(dist, 'internal', 'mworker.js')))
  for (const r of ['chan', 'sema', 'context', 'pb']) t.true(m.includes(`internal/${r}.ts`), `an M loads internal/${r}.ts`)
})

test('an M\'s entry point loads the internal record modules, which count every gort handle kind', async (t) => {
  // In a thread of its own, the built files mworker.js imports (not
  // mworker.js, which starts the M's loop): loading them, and nothing
  // public, defines every kind's counting.
  const built = closure(join(dist, 'internal', 'mworker.js')).slice(1).map((f) => pathToFileURL(f).href)
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    ;(async () => {
      const ns = []
      for (const u of workerData) ns.push(await import(u))
      const HandleKind = ns.find((n) => n.HandleKind !== undefined)?.HandleKind
      const counted = ns.find((n) => typeof n.counted === 'function')?.counted
      if (HandleKind === undefined || counted === undefined) return parentPort.postMessage({ missing: true })
      parentPort.postMessage({ kinds: Object.entries(HandleKind).map(([name, kind]) => [name, counted(kind)]) })
    })()
  `
  const w = new Worker(code, { eval: true, workerData: built })
  const got = await new Promise<{ missing?: true, kinds?: Array<[string, boolean]> }>((res, rej) => { w.once('message', res); w.once('error', rej) })
  await w.terminate()
  t.falsy(got.missing, 'HandleKind and counted are exported by a chunk of the M\'s (gort/internal re-exports them)')
  t.true((got.kinds?.length ?? 0) >= 4)
  for (const [name, c] of got.kinds ?? []) t.true(c, `${name} is counted`)
})

test('public files are facades: no layout offsets, no runtime locks, no handle kind numbers of their own', (t) => {
  // runtime.ts holds the host half until it moves into internal/ (issue 12).
  const facades = files(src, '.ts').filter((f) => !f.includes(`${join(src, 'internal')}`) && !f.endsWith('runtime.ts') && !f.endsWith('.d.ts'))
  t.true(facades.length >= 7)
  for (const f of facades) {
    const text = readFileSync(f, 'utf8')
    const name = relative(src, f)
    t.false(/internal\/layout\.js/.test(text), `${name} imports layout offsets`)
    t.false(/internal\/lock_futex\.js/.test(text), `${name} imports the runtime lock`)
    t.false(/\bHANDLE_[A-Z]+\s*=/.test(text), `${name} defines a handle kind`)
  }
  for (const f of files(join(src, 'internal'), '.ts')) {
    if (f.endsWith('handlekind.ts')) continue
    t.false(/\bHANDLE_[A-Z]+\s*=\s*\d/.test(readFileSync(f, 'utf8')), `${relative(src, f)} defines a handle kind outside handlekind.ts`)
  }
})

test('\'gort\' on an M (dist/m.js, the gort-m export condition) exports what the index does and loads none of the host\'s side', async (t) => {
  const built = closure(join(dist, 'm.js'))
  const sources = sourcesOf(built)
  t.true(sources.includes('m.ts') && sources.includes('chan.ts') && sources.includes('sync.ts'), `m.js bundles the API (${sources.length} modules)`)
  const host = ['runtime.ts', 'internal/host.ts', 'internal/newm.ts', 'internal/sysmonctl.ts', 'internal/checkdead.ts', 'internal/sysmon.ts']
  t.deepEqual(sources.filter((s) => host.includes(s)), [], 'm.js loads the host\'s side')
  t.deepEqual(built.filter((f) => /from\s*['"]comlink/.test(readFileSync(f, 'utf8'))), [], 'm.js loads comlink')
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> }
  t.is(pkg.exports['.']['gort-m'], './dist/m.js')
  const index = Object.keys(await import(pathToFileURL(join(dist, 'index.js')).href) as object).sort()
  const m = Object.keys(await import(pathToFileURL(join(dist, 'm.js')).href) as object).sort()
  t.deepEqual(m, index, 'the same names: a goroutine module links the same imports on either')
})
