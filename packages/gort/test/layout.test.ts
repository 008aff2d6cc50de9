import test from 'ava'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  computeLayout, gbase, mbase, pbase, RECORDS, LINE_WORDS, P_RUNQ, P_RUNQHEAD, P_RUNQTAIL, P_RUNNEXT,
  PREC, SharedHeap, type Layout,
} from 'gort/internal'

const params = { maxProcs: 4, runqSize: 256, maxMs: 8, maxGs: 1000, arenaBytes: 1 << 16 }

test('every field is aligned to its width and inside its record', (t) => {
  for (const r of RECORDS) {
    const seen = new Map<number, string>()
    for (const f of r.fields) {
      t.is(f.offset % f.words, 0, `${r.name}.${f.name} is not aligned`)
      t.true(f.offset + f.words <= r.fixedWords, `${r.name}.${f.name} runs past the record`)
      for (let w = f.offset; w < f.offset + f.words; w++) {
        t.false(seen.has(w), `${r.name}.${f.name} overlaps ${seen.get(w)}`)
        seen.set(w, f.name)
      }
      t.true(f.doc.length > 0, `${r.name}.${f.name} says nothing about how it is read`)
    }
  }
})

test('fields written by different parties never share a 64-byte line', (t) => {
  for (const r of RECORDS) {
    if (r.packed) {
      t.true(r.packed.length > 20, `${r.name} is packed without a reason`)
      continue
    }
    const writers = new Map<number, string>()
    for (const f of r.fields) {
      // Written once before any other thread has the buffer: never invalidates a line.
      if (f.writer === 'creator') continue
      const line = Math.floor(f.offset / LINE_WORDS)
      const w = writers.get(line)
      t.true(w === undefined || w === f.writer, `${r.name}.${f.name} (${f.writer}) shares line ${line} with a field written by ${w}`)
      writers.set(line, f.writer)
    }
  }
})

test('the run queue head, tail, runnext and ring sit on separate lines', (t) => {
  const lines = [P_RUNQHEAD, P_RUNQTAIL, P_RUNNEXT, P_RUNQ].map((o) => Math.floor(o / LINE_WORDS))
  t.is(new Set(lines).size, 4)
  t.is(P_RUNQ % LINE_WORDS, 0)
  t.true(P_RUNQ >= PREC.fixedWords)
})

function regions(l: Layout): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = []
  out.push(['header+sched+heap', 0, l.p0])
  for (let i = 0; i < l.maxProcs; i++) out.push([`P${i}`, pbase(l, i), pbase(l, i) + l.pStride])
  for (let i = 0; i < l.maxMs; i++) out.push([`M${i}`, mbase(l, i), mbase(l, i) + l.mStride])
  out.push(['G table', gbase(l, 0), gbase(l, l.maxGs)])
  out.push(['function table', l.funcs, l.funcs + l.maxFuncs])
  out.push(['arena', l.arenaStartBytes / 4, l.arenaEndBytes / 4])
  return out
}

test('regions are line-aligned, ordered and disjoint, at capacity 4 and 256', (t) => {
  for (const runqSize of [4, 256]) {
    const l = computeLayout({ ...params, runqSize })
    const rs = regions(l)
    for (let i = 0; i < rs.length; i++) {
      const [name, start, end] = rs[i]
      t.true(end > start, `${name} is empty`)
      if (name !== 'G table' && name !== 'arena' && name !== 'function table') t.is(start % LINE_WORDS, 0, `${name} is not on a line boundary`)
      if (i > 0) t.true(start >= rs[i - 1][2], `${name} overlaps ${rs[i - 1][0]}`)
    }
    t.is(l.arenaStartBytes % 64, 0)
    t.is(l.byteLength, l.arenaEndBytes)
    t.is(l.pStride - P_RUNQ, Math.max(runqSize, LINE_WORDS))
  }
})

test('bad parameters are RangeErrors that name the parameter', (t) => {
  t.throws(() => computeLayout({ ...params, runqSize: 100 }), { instanceOf: RangeError, message: /runqSize must be a power of two/ })
  t.throws(() => computeLayout({ ...params, maxProcs: 0 }), { instanceOf: RangeError, message: /maxProcs/ })
  t.throws(() => computeLayout({ ...params, arenaBytes: 12 }), { instanceOf: RangeError, message: /arenaBytes/ })
  t.throws(() => computeLayout({ ...params, arenaBytes: 2 ** 31 }), { instanceOf: RangeError, message: /arenaBytes/ })
})

test('attach recomputes the same layout and rejects foreign buffers', (t) => {
  const h = SharedHeap.create(params)
  const a = SharedHeap.attach(h.sab)
  t.deepEqual(a.layout, h.layout)
  t.throws(() => SharedHeap.attach(new SharedArrayBuffer(4096)), { instanceOf: TypeError, message: /not a gort heap/ })
  t.throws(() => SharedHeap.attach(new ArrayBuffer(64) as unknown as SharedArrayBuffer), { instanceOf: TypeError })
})

test('docs/design/memory-layout.md lists every field as the layout declares it', (t) => {
  const script = fileURLToPath(new URL('../scripts/layout-doc.mjs', import.meta.url))
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
})
