// Where the time goes in the http suite's gort rt.run server (issue 14):
// one server (benchmarks/src/httpserver.ts, "stamp" mode) loaded by
// autocannon, every request's time split on the server's clock:
//   queued   its arrival (the request handler) to its goroutine's start on an M
//   running  start to end of the goroutine, of which
//   stalled  the time it spent between a safe point and its resumption,
//            counted where that wait exceeded 1 ms (it waited for its M)
//   back     the goroutine's end to the result in the request's continuation
// and, per M thread, how many jobs it started and how many it had started
// and not finished at once (the goroutines bound to it).
//   node benchmarks/scripts/http-diag.mjs [CONNS=10] [SECONDS=5] [CONTENDER=gort-run] [PROCS=2]
// Environment: HTTP_LONG_ROUNDS / HTTP_SHORT_ROUNDS as in the suite;
// DIAG_MIX=1 alternates long and short jobs; DIAG_PROF=dir writes CPU
// profiles of the server's threads there (--cpu-prof); DIAG_RUNAWAY_MS sets
// the runtime's runawayMs; GODEBUG is passed on.
import { startServer, load, expectedBodies, jobRounds } from '../dist/suites/http.js'

const conns = Number(process.argv[2] ?? 10)
const seconds = Number(process.argv[3] ?? 5)
const contender = process.argv[4] ?? 'gort-run'
const procs = Number(process.argv[5] ?? 2)
const mix = process.env.DIAG_MIX === '1'
const rounds = jobRounds()
const expected = expectedBodies(rounds)
const execArgv = process.env.DIAG_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DIAG_PROF}`] : []
const stamp = contender.startsWith('gort-run')
const server = await startServer({ contender, procs, long: rounds.long, short: rounds.short, every: Number(process.env.HTTP_YIELD_EVERY) || 256, stamp, ...(process.env.DIAG_RUNAWAY_MS ? { runawayMs: Number(process.env.DIAG_RUNAWAY_MS) } : {}) }, execArgv)
await load(server.port, conns, mix, 1, expected) // warm-up
if (stamp) await server.ask('stamps') // drop the warm-up's
const samples = []
let sampling = stamp
const sampler = (async () => {
  while (sampling) {
    samples.push((await server.ask('stats')).stats)
    await new Promise((r) => setTimeout(r, 50))
  }
})()
const run = await load(server.port, conns, mix, seconds, expected)
sampling = false
await sampler
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] }
const f = (x) => x.toFixed(2)
const line = (name, xs) => `${name.padEnd(28)} p50 ${f(q(xs, 0.5)).padStart(7)}  p90 ${f(q(xs, 0.9)).padStart(7)}  p99 ${f(q(xs, 0.99)).padStart(7)}  max ${f(q(xs, 1)).padStart(7)}  mean ${f(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).padStart(7)}`
const n = run.latency.long.length + run.latency.short.length
console.log(`${contender}, procs ${procs}, ${conns} connections${mix ? ', mix' : ''}, ${seconds} s: ${(n / (run.windowMs / 1000)).toFixed(0)} req/s, errors ${run.errors}, timeouts ${run.timeouts}, non2xx ${run.non2xx}, wrong ${run.wrong}; long ${rounds.long} rounds, short ${rounds.short}`)
console.log(line('client latency, long (ms)', run.latency.long))
if (mix) console.log(line('client latency, short (ms)', run.latency.short))
if (stamp) {
  const stamps = (await server.ask('stamps')).stamps
  for (const kind of mix ? [1, 0] : [1]) {
    const st = stamps.filter((s) => s[5] === kind)
    console.log(`-- server side, ${kind ? 'long' : 'short'} jobs (${st.length}), ms:`)
    console.log(line('queued (arrive -> start)', st.map((s) => s[1] - s[0])))
    console.log(line('running (start -> end)', st.map((s) => s[2] - s[1])))
    console.log(line('  of which stalled', st.map((s) => s[7])))
    console.log(line('  stalls (count)', st.map((s) => s[6])))
    console.log(line('back (end -> continuation)', st.map((s) => s[3] - s[2])))
    console.log(line('total (arrive -> cont.)', st.map((s) => s[3] - s[0])))
  }
  // DIAG_OUTLIERS=n: the n longest queued jobs, with what started meanwhile
  // (ms from the first arrival): which thread took them, and how many jobs
  // that arrived after them started before them (overtaken: not FIFO).
  if (process.env.DIAG_OUTLIERS) {
    const t0 = Math.min(...stamps.map((s) => s[0]))
    const worst = [...stamps].sort((a, b) => (b[1] - b[0]) - (a[1] - a[0])).slice(0, Number(process.env.DIAG_OUTLIERS))
    for (const s of worst) {
      const overtaken = stamps.filter((o) => o[0] > s[0] && o[1] < s[1]).length
      console.log(`queued ${(s[1] - s[0]).toFixed(0)} ms: arrived ${(s[0] - t0).toFixed(0)}, started ${(s[1] - t0).toFixed(0)} on thread ${s[4]}; ${overtaken} later arrivals started first`)
    }
  }
  // Per thread: jobs started, and goroutines started and not finished at each start.
  const threads = [...new Set(stamps.map((s) => s[4]))].sort((a, b) => a - b)
  for (const t of threads) {
    const mine = stamps.filter((s) => s[4] === t)
    const bound = mine.map((s) => mine.filter((o) => o[1] <= s[1] && o[2] > s[1]).length)
    console.log(`thread ${t}: ${mine.length} jobs; goroutines bound to it at a start: p50 ${q(bound, 0.5)}, max ${q(bound, 1)}`)
  }
  // Ms: states seen by the sampler.
  const states = new Map()
  for (const s of samples) for (const mm of s.ms) { const k = `M${mm.id} ${mm.state}`; states.set(k, (states.get(k) ?? 0) + 1) }
  console.log(`rt.stats() every 50 ms (${samples.length} samples): ${[...states].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`)
  const last = samples.at(-1)
  if (last) console.log(`sysmon: ${JSON.stringify(last.sysmon)}; Ms started goroutines: ${last.ms.map((mm) => `M${mm.id} ${mm.started}`).join(', ')}`)
}
await server.stop()
