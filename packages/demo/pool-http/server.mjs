// An HTTP server that runs CPU-bound jobs through gort/pool, with a
// per-request timeout and cancellation when the client goes away.
//
//   node pool-http/server.mjs            (from packages/demo; or: pnpm --filter gort-demo pool-http)
//   curl 'http://127.0.0.1:3000/hash?seed=hello&rounds=100000'
//   curl 'http://127.0.0.1:3000/stats'
//
// GET /hash?seed=S&rounds=N runs task.mjs (N + 1 sha256 rounds from the
// string S) on the pool and answers {"seed", "rounds", "digest", "ms"}.
// A job is aborted when
//   - it has run for TIMEOUT_MS, or for the request's shorter `timeout=T`
//     (gort/pool's run({ timeout }), counted from the job's start: time in
//     the queue does not count): the answer is 504;
//   - the client disconnects first (the response closes before it was
//     written; an AbortSignal): nobody is left to answer.
// The pool rejects the job's run() with piscina's AbortError; a queued job
// leaves the queue, and a running one is cancelled (the generator task gets
// the abort thrown in at its next yield), so its thread is free for the
// next job at once. The server counts each abort; GET /stats answers the
// counts as JSON. Bad parameters are a 400 that names the parameter.
//
// Environment: PORT (3000; 0 picks a free port), HOST (127.0.0.1),
// THREADS (the pool's maxThreads; the machine's parallelism), TIMEOUT_MS
// (5000: the longest a job may run). The server prints `listening on http://HOST:PORT` once it
// listens, and one line per aborted job. SIGTERM or SIGINT: stop
// accepting, let the pool finish what it holds (pool.close()), exit.
//
// A piscina user changes the import; the rest is piscina's API (new
// Piscina({ filename }), run(task, { signal }), queueSize, close()), plus
// gort/pool's run({ timeout }).

import http from 'node:http'
import os from 'node:os'
import Piscina from 'gort/pool'

const PORT = Number(process.env.PORT ?? 3000)
const HOST = process.env.HOST ?? '127.0.0.1'
const THREADS = Number(process.env.THREADS ?? os.availableParallelism())
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS ?? 5000)
/** The most rounds one request may ask for (a few seconds of one thread). */
const MAX_ROUNDS = 5_000_000

const pool = new Piscina({ filename: new URL('./task.mjs', import.meta.url).href, maxThreads: THREADS })

const stats = { completed: 0, failed: 0, inFlight: 0, aborted: { disconnected: 0, timedOut: 0 } }

class BadRequest extends Error {}

/** The query parameter `name` as an integer from min to max, or dflt if absent. */
function intParam(url, name, min, max, dflt) {
  const raw = url.searchParams.get(name)
  if (raw === null) return dflt
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BadRequest(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return n
}

/** The query's parameters of /hash, checked: the task, and the request's timeout in ms. */
function hashParams(url) {
  const seed = url.searchParams.get('seed') ?? ''
  if (seed.length > 1000) throw new BadRequest(`seed must be at most 1000 characters, got ${seed.length}`)
  const rounds = intParam(url, 'rounds', 0, MAX_ROUNDS, 1)
  const timeout = intParam(url, 'timeout', 1, TIMEOUT_MS, TIMEOUT_MS)
  return { task: { seed, rounds }, timeout }
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body) + '\n')
}

async function hash(req, res, url) {
  let params
  try {
    params = hashParams(url)
  } catch (e) {
    if (e instanceof BadRequest) return send(res, 400, { error: e.message })
    throw e
  }
  const { task, timeout } = params
  // The client's signal: the response closed before it was written (res
  // 'close' also fires after a normal end, when writableFinished is true).
  // The clock is the pool's: run({ timeout }) counts from the job's start.
  // (A deadline that also counts the time in the queue would be
  // AbortSignal.any([gone.signal, AbortSignal.timeout(ms)]) as the signal.)
  const gone = new AbortController()
  res.on('close', () => {
    if (!res.writableFinished) gone.abort(new Error('client disconnected'))
  })
  const t0 = performance.now()
  stats.inFlight++
  try {
    const digest = await pool.run(task, { signal: gone.signal, timeout })
    stats.completed++
    send(res, 200, { ...task, digest, ms: Math.round(performance.now() - t0) })
  } catch (e) {
    if (e?.name !== 'AbortError') {
      stats.failed++
      return send(res, 500, { error: String(e?.message ?? e) })
    }
    if (gone.signal.aborted) {
      stats.aborted.disconnected++
      console.log(`aborted: client disconnected after ${Math.round(performance.now() - t0)} ms (${url.pathname}${url.search})`)
    } else if (e.cause?.name === 'TimeoutError') {
      stats.aborted.timedOut++
      console.log(`aborted: ran for its ${timeout} ms timeout (${url.pathname}${url.search})`)
      send(res, 504, { error: `the job ran longer than ${timeout} ms` })
    } else throw e
  } finally {
    stats.inFlight--
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (req.method !== 'GET') return send(res, 405, { error: `${req.method} is not allowed; use GET` })
  if (url.pathname === '/hash') {
    hash(req, res, url).catch((e) => {
      console.error(e)
      if (!res.headersSent) send(res, 500, { error: 'internal error' })
    })
  } else if (url.pathname === '/stats') send(res, 200, { ...stats, queued: pool.queueSize })
  else send(res, 404, { error: `no route ${url.pathname}; try /hash?seed=hello&rounds=100000 or /stats` })
})

server.listen(PORT, HOST, () => {
  const { address, port } = server.address()
  console.log(`listening on http://${address}:${port}`)
})

let stopping = false
async function stop(signal) {
  if (stopping) return
  stopping = true
  console.log(`${signal}: closing`)
  server.close()
  server.closeIdleConnections()
  await pool.close()
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))
