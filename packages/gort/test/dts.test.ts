// The public type declarations (dist/*.d.ts: gort and gort/bench) show no
// internal type: the shared heap and the internal constructors' arguments
// stay behind @internal (stripInternal), and Runtime's events are typed.

import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const publicDts = readdirSync(dist).filter((f) => f.endsWith('.d.ts'))

test('the public .d.ts files name no SharedHeap and no internal constructor argument', (t) => {
  t.true(publicDts.includes('index.d.ts') && publicDts.includes('runtime.d.ts'), publicDts.join(' '))
  for (const f of publicDts) {
    const text = readFileSync(dist + f, 'utf8')
    t.false(/SharedHeap|internal\/heap\.js|internal\/host\.js/.test(text), `${f} mentions an internal type`)
    t.false(/at\??: \{\s*heap/.test(text), `${f} shows an internal constructor argument`)
  }
  t.regex(readFileSync(dist + 'chan.d.ts', 'utf8'), /private constructor\(\);/, 'Chan is made by chan(), not new Chan()')
  t.regex(readFileSync(dist + 'context.d.ts', 'utf8'), /class Context \{\s*private constructor\(\);/, 'a Context comes from background() and withCancel..., not new Context()')
  t.regex(readFileSync(dist + 'internal/pb.d.ts', 'utf8'), /class PB \{[^}]*private constructor\(\);/, 'a PB comes from parallel(), not new PB()')
  t.regex(readFileSync(dist + 'runtime.d.ts', 'utf8'), /class Runtime extends EventEmitter<RuntimeEvents>/)
})
