// The package's shape, checked on the built files: internal/ imports no
// public module (an M's worker loads internal modules only), the public
// files are facades over internal/ (they import no layout offsets and no
// runtime lock), and the handle kinds have one table.

import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const src = fileURLToPath(new URL('../src/', import.meta.url))

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext)).map((f) => join(dir, f))
}

/** The relative modules a built file imports (static and dynamic), resolved. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(resolve(dirname(file), m[1]))
  return out
}

test('internal/ imports no public module', (t) => {
  const internal = join(dist, 'internal')
  const bad: string[] = []
  for (const f of files(internal, '.js')) {
    for (const i of imports(f)) {
      if (relative(internal, i).startsWith('..')) bad.push(`${relative(dist, f)} imports ${relative(dist, i)}`)
    }
  }
  t.deepEqual(bad, [])
  t.true(files(internal, '.js').length > 20, 'the scan found the built internal modules')
})

test('an M\'s entry point loads the internal record modules, which count every gort handle kind', async (t) => {
  const entry = imports(join(dist, 'internal', 'mworker.js')).map((i) => relative(join(dist, 'internal'), i))
  for (const m of ['chan.js', 'sema.js', 'context.js', 'pb.js']) t.true(entry.includes(m), `mworker.js imports ${m}`)
  // Loading them (and nothing public) defines every kind's counting.
  const { HandleKind } = await import('../dist/internal/handlekind.js')
  const { counted } = await import('../dist/internal/refs.js')
  for (const m of ['chan.js', 'sema.js', 'context.js', 'pb.js']) await import(`../dist/internal/${m}`)
  for (const [name, kind] of Object.entries(HandleKind)) t.true(counted(kind), `${name} is counted`)
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
