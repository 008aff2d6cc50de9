// Regenerates the field tables of docs/design/memory-layout.md from the layout
// module (the single source of truth), between the GENERATED markers.
// Usage: node scripts/layout-doc.mjs [--check]   (after `pnpm build`)
// --check exits 1 if the document is out of date; layout.test.ts runs it.

import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
// gort/internal re-exports the layout module (dist/ is a bundle: no file per module).
import { RECORDS } from '../dist/internal/index.js'

const docPath = fileURLToPath(new URL('../../../docs/design/memory-layout.md', import.meta.url))
const BEGIN = '<!-- GENERATED FIELDS: node packages/gort/scripts/layout-doc.mjs -->'
const END = '<!-- END GENERATED FIELDS -->'

export function fieldTables() {
  const out = []
  for (const r of RECORDS) {
    out.push(`### ${r.name} (${r.fixedWords} words${r.packed ? ', packed' : ''})`, '')
    if (r.packed) out.push(`Packed: ${r.packed}.`, '')
    out.push('| word | field | width | written by | how others read it |', '| ---: | --- | --- | --- | --- |')
    for (const f of r.fields) {
      out.push(`| ${f.offset} | \`${f.name}\` | ${f.words === 2 ? 'f64' : 'i32'} | ${f.writer} | ${f.doc.replaceAll('|', '\\|')} |`)
    }
    out.push('')
  }
  return out.join('\n')
}

const doc = readFileSync(docPath, 'utf8')
const a = doc.indexOf(BEGIN)
const b = doc.indexOf(END)
if (a < 0 || b < a) {
  console.error(`layout-doc: ${docPath} lacks the GENERATED markers`)
  process.exit(1)
}
const next = doc.slice(0, a + BEGIN.length) + '\n\n' + fieldTables() + '\n' + doc.slice(b)
if (process.argv.includes('--check')) {
  if (next !== doc) {
    console.error('layout-doc: docs/design/memory-layout.md is out of date; run node packages/gort/scripts/layout-doc.mjs')
    process.exit(1)
  }
} else {
  writeFileSync(docPath, next)
}
