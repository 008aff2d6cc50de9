// Issue 11's HTTP reproduction: a job server (http-stall-server.mjs) loaded
// by autocannon for 5 s, TRIES times, with CONNS connections. A try passes
// when every request was answered (no error, no timeout) and every goroutine
// finished within 15 s of the load's end; sysmon's wake guard is reported.
//   node benchmarks/scripts/http-stall.mjs [TRIES=20] [CONNS=50] [PROCS=2]
import { fork } from 'node:child_process'
import autocannon from 'autocannon'

const tries = Number(process.argv[2] ?? 20), conns = Number(process.argv[3] ?? 50), procs = Number(process.argv[4] ?? 2)
const ask = (cp) => new Promise((res) => { cp.once('message', res); cp.send('state') })
let bad = 0, guards = 0
for (let i = 0; i < tries; i++) {
  const cp = fork(new URL('./http-stall-server.mjs', import.meta.url), [String(procs)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const port = await new Promise((res) => cp.once('message', (m) => res(m.port)))
  const r = await autocannon({ url: `http://127.0.0.1:${port}`, connections: conns, duration: 5, timeout: 20 })
  let st
  const t0 = Date.now()
  for (;;) {
    st = await ask(cp)
    if (st.stats.goroutines === 0 || Date.now() - t0 > 15_000) break
    await new Promise((res) => setTimeout(res, 100))
  }
  const ok = r.errors === 0 && r.timeouts === 0 && r.non2xx === 0 && st.stats.goroutines === 0
  if (!ok) bad++
  guards += st.stats.sysmon.wakeGuards
  console.log(`try ${i + 1}: ${r.requests.total} requests, ${r.requests.average} req/s, p99 ${r.latency.p99} ms, errors ${r.errors}, timeouts ${r.timeouts}, wake guards ${st.stats.sysmon.wakeGuards}${ok ? '' : ` STALL ${JSON.stringify(st)}`}`)
  cp.send('quit')
  await new Promise((res) => {
    const t = setTimeout(() => { cp.kill('SIGKILL'); res() }, 5000)
    cp.once('exit', () => { clearTimeout(t); res() })
  })
}
console.log(`procs ${procs}, ${conns} connections: ${tries - bad} of ${tries} tries answered every request; wake guards ${guards}`)
process.exit(bad > 0 || guards > 0 ? 1 : 0)
