// Issue 14's start latency: from the call that starts a runtime to the
// first goroutine's result, in a fresh process each try (a cold start: the
// Ms' threads, their imports, sysmon). Two ways in:
//   start:  await Runtime.start(), then await rt.run()
//   create: rt.run() right after Runtime.create(), then await it (when
//           Runtime.create exists; the first M up runs it)
// Prints each try and the medians; also the floor: a bare worker thread's
// first message to its parent, in the same kind of fresh process.
//   node benchmarks/scripts/start-latency.mjs [TRIES=9] [PROCS=2]
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const tries = Number(process.argv[2] ?? 9), procs = Number(process.argv[3] ?? 2)
const mode = process.argv[4]
if (mode === 'floor') {
  const { Worker } = await import('node:worker_threads')
  const t0 = performance.now()
  const w = new Worker("require('node:worker_threads').parentPort.postMessage(1)", { eval: true })
  w.once('message', () => {
    process.stdout.write(JSON.stringify({ first: performance.now() - t0 }))
    void w.terminate()
  })
} else if (mode !== undefined) {
  const { Runtime } = await import('gort')
  const { bench } = await import('../dist/goroutines.js')
  const modules = [new URL('../dist/goroutines.js', import.meta.url)]
  const t0 = performance.now()
  let rt
  let r
  if (mode === 'create') {
    rt = Runtime.create({ procs, modules })
    r = await rt.run(bench.inc, 41)
  } else {
    rt = await Runtime.start({ procs, modules })
    r = await rt.run(bench.inc, 41)
  }
  const t1 = performance.now()
  await rt.ready
  const t2 = performance.now()
  if (r !== 42) throw new Error(`start-latency: got ${r}, expected 42`)
  process.stdout.write(JSON.stringify({ first: t1 - t0, ready: t2 - t0 }))
  await rt.close()
} else {
  const { Runtime } = await import('gort')
  const modes = ['floor', 'start', ...(typeof Runtime.create === 'function' ? ['create'] : [])]
  const runs = Object.fromEntries(modes.map((m) => [m, []]))
  for (let i = 0; i < tries; i++) {
    // Alternate, so that a noisy neighbour hits every way alike.
    for (const m of modes) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '1', String(procs), m], { encoding: 'utf8' })
      runs[m].push(JSON.parse(out))
    }
    console.log(`try ${i + 1}: ${modes.map((m) => `${m} ${runs[m][i].first.toFixed(1)} ms`).join(', ')}`)
  }
  const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
  for (const m of modes) {
    const ready = m === 'floor' ? '' : `, every thread up after ${med(runs[m].map((r) => r.ready)).toFixed(1)} ms`
    console.log(`${m}: median first result ${med(runs[m].map((r) => r.first)).toFixed(1)} ms${ready} (procs ${procs}, ${tries} tries)`)
  }
}
