// The pool-http example (packages/demo/pool-http/server.mjs, documented in
// docs/pool.md) run as its users run it: a child process, `node
// server.mjs`, on a free port (PORT=0; the test reads the port from the
// server's `listening on` line), its pool of two threads running real
// sha256 chains. The tests talk to it over loopback HTTP only: each job's
// digest is checked against the chain computed here, bad parameters get a
// 400 that names them, a client that disconnects mid-job has its job
// aborted (the server's /stats counts it, and it logs a line), a job that
// runs past its request's timeout is aborted and answered 504, the server
// answers the next job after those, and SIGTERM ends the process with code
// 0 (the pool closed, nothing left holding the event loop). The server's
// own TIMEOUT_MS is long, so that a loaded machine cannot time out the jobs
// that should succeed; the timeout case asks for a short one (timeout=200)
// on a job of a second or more.
//
// The server is another process, so the watchdog cannot call rt.dump()
// on its runtime: when a step hangs it fails the test with the server's
// output and its last /stats instead, and kills the server.

import test, { type ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { seeded, withWatchdog } from './helpers.js'

const SERVER = fileURLToPath(new URL('../../demo/pool-http/server.mjs', import.meta.url))
/** The longest the server lets a job run; the timeout case asks for TIMEOUT_SHORT_MS. */
const TIMEOUT_MS = 60_000
const TIMEOUT_SHORT_MS = 200

interface Server {
  child: ChildProcess
  base: string
  output: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

let server: Server | undefined

/** Starts the example on a free port; resolves once it has said where it listens. */
function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', THREADS: '2', TIMEOUT_MS: String(TIMEOUT_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the server did not say where it listens within 20 s; its output:\n${output.join('')}`))
    }, 20_000)
    const onData = (chunk: Buffer): void => {
      output.push(chunk.toString())
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(output.join(''))
      if (m !== null) {
        clearTimeout(timer)
        resolve({ child, base: m[1], output, exited })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (code ${code}, signal ${signal}) before listening; its output:\n${output.join('')}`))
    })
  })
}

interface Answer {
  status: number
  body: Record<string, unknown>
}

/** GET path on the server; rejects after limitMs. */
function get(path: string, limitMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server!.base}${path}`, { agent: false, signal: AbortSignal.timeout(limitMs) }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (s: string) => (text += s))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> })
        } catch (e) {
          reject(new Error(`GET ${path}: not JSON: ${text}`, { cause: e }))
        }
      })
    })
    req.on('error', reject)
  })
}

interface Stats {
  completed: number
  failed: number
  inFlight: number
  queued: number
  aborted: { disconnected: number; timedOut: number }
}

let lastStats: Stats | undefined

async function stats(): Promise<Stats> {
  const r = await get('/stats', 5000)
  lastStats = r.body as unknown as Stats
  return lastStats
}

/** Polls /stats until cond holds; throws after ms. */
async function until(cond: (s: Stats) => boolean, ms: number, what: string): Promise<Stats> {
  const deadline = performance.now() + ms
  for (;;) {
    const s = await stats()
    if (cond(s)) return s
    if (performance.now() > deadline) throw new Error(`no ${what} within ${ms} ms; last /stats: ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Resolves once the server's output matches re, or after ms (the caller asserts). */
async function outputMatches(re: RegExp, ms: number): Promise<void> {
  const deadline = performance.now() + ms
  while (!re.test(server!.output.join('')) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
}

/**
 * Runs fn; if it has not settled after ms, fails the test with the
 * server's output and last /stats, and kills the server.
 */
function watchdog<T>(t: ExecutionContext, ms: number, fn: () => Promise<T>): Promise<T> {
  // The dump also kills the server: a hung child must not outlive the test.
  const dump = (): string => {
    const state = `server output:\n${server?.output.join('') ?? '(none)'}\nlast /stats: ${JSON.stringify(lastStats)}`
    server?.child.kill('SIGKILL')
    return state
  }
  return withWatchdog(t, ms, dump, () => [], fn)
}

/** task.mjs's chain, computed here: sha256 of the seed, then `rounds` more. */
function chain(seed: string, rounds: number): string {
  let d = createHash('sha256').update(seed).digest()
  for (let i = 0; i < rounds; i++) d = createHash('sha256').update(d).digest()
  return d.toString('hex')
}

test.before(async () => {
  server = await startServer()
})

test.after.always(() => {
  if (server !== undefined && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
})

test.serial('each job is answered with the chain computed here, and counted once', async (t) => {
  const rand = seeded(t)
  await watchdog(t, 60_000, async () => {
    const before = await stats()
    const jobs = Array.from({ length: 8 }, (_, i) => ({ seed: `job-${i}-${rand.next().toString(36)}`, rounds: 500 + rand.n(3000) }))
    const answers = await Promise.all(jobs.map((j) => get(`/hash?seed=${encodeURIComponent(j.seed)}&rounds=${j.rounds}`)))
    for (const [i, a] of answers.entries()) {
      t.is(a.status, 200, JSON.stringify(a.body))
      t.is(a.body.seed, jobs[i].seed)
      t.is(a.body.rounds, jobs[i].rounds)
      t.is(a.body.digest, chain(jobs[i].seed, jobs[i].rounds), `job ${i} (${jobs[i].seed}, ${jobs[i].rounds} rounds)`)
    }
    const after = await stats()
    t.is(after.completed - before.completed, jobs.length)
    t.is(after.failed, 0)
    t.is(after.inFlight, 0)
  })
})

test.serial('bad parameters are a 400 that names the parameter; an unknown path is a 404', async (t) => {
  await watchdog(t, 30_000, async () => {
    for (const rounds of ['abc', '-1', '1.5', '1e3', '99999999']) {
      const r = await get(`/hash?seed=x&rounds=${rounds}`)
      t.is(r.status, 400, rounds)
      t.is(r.body.error, `rounds must be an integer from 0 to 5000000, got ${JSON.stringify(rounds)}`)
    }
    for (const timeout of ['0', 'soon', String(TIMEOUT_MS + 1)]) {
      const r = await get(`/hash?seed=x&rounds=1&timeout=${timeout}`)
      t.is(r.status, 400, timeout)
      t.is(r.body.error, `timeout must be an integer from 1 to ${TIMEOUT_MS}, got ${JSON.stringify(timeout)}`)
    }
    const long = await get(`/hash?seed=${'s'.repeat(1001)}&rounds=1`)
    t.is(long.status, 400)
    t.regex(String(long.body.error), /^seed must be at most 1000 characters/)
    t.is((await get('/nope')).status, 404)
  })
})

test.serial('a client that disconnects mid-job has its job aborted', async (t) => {
  await watchdog(t, 60_000, async () => {
    const before = await stats()
    // Half a second of hashing or more: still running when the client goes
    // 100 ms after it started.
    const req = http.get(`${server!.base}/hash?seed=gone&rounds=500000`, { agent: false })
    req.on('error', () => {}) // the socket is destroyed below: ECONNRESET is expected
    const answered = new Promise<number>((resolve) => req.on('response', (res) => resolve(res.statusCode ?? 0)))
    await until((s) => s.inFlight === 1 && s.queued === 0, 10_000, 'job in flight')
    await new Promise((r) => setTimeout(r, 100))
    req.destroy()
    const s = await until((x) => x.aborted.disconnected === before.aborted.disconnected + 1, 5_000, 'aborted job counted')
    t.is(s.inFlight, 0, 'the request is no longer in flight')
    t.is(s.completed, before.completed, 'the aborted job did not complete')
    // The server logs the line right after counting the abort, but its
    // stdout is a pipe read asynchronously here: /stats can answer first.
    const line = /aborted: client disconnected after \d+ ms \(\/hash\?seed=gone&rounds=500000\)/
    await outputMatches(line, 5_000)
    t.regex(server!.output.join(''), line)
    t.is(await Promise.race([answered, new Promise<number>((r) => setTimeout(() => r(0), 50))]), 0, 'no answer reached the client')
  })
})

test.serial('a job that runs past its request\'s timeout is aborted and answered 504', async (t) => {
  await watchdog(t, 90_000, async () => {
    const before = await stats()
    const t0 = performance.now()
    // 1,000,000 rounds: most of a second of hashing or more (createHash
    // costs most of a microsecond a round), well past the 200 ms asked for.
    const r = await get(`/hash?seed=slow&rounds=1000000&timeout=${TIMEOUT_SHORT_MS}`)
    const waited = performance.now() - t0
    t.is(r.status, 504, JSON.stringify(r.body))
    t.is(r.body.error, `the job ran longer than ${TIMEOUT_SHORT_MS} ms`)
    t.true(waited >= TIMEOUT_SHORT_MS - 20, `answered after ${waited.toFixed(0)} ms`)
    const s = await stats()
    t.is(s.aborted.timedOut, before.aborted.timedOut + 1)
    t.is(s.completed, before.completed)
    const line = /aborted: ran for its 200 ms timeout \(\/hash\?seed=slow&rounds=1000000&timeout=200\)/
    await outputMatches(line, 5_000)
    t.regex(server!.output.join(''), line)
    // The server still works: the next job is answered (the aborted ones
    // were cancelled, their threads free; say how long it took).
    const t1 = performance.now()
    const ok = await get('/hash?seed=after&rounds=10', 60_000)
    t.log(`a job after the aborted ones was answered after ${(performance.now() - t1).toFixed(0)} ms`)
    t.is(ok.status, 200, JSON.stringify(ok.body))
    t.is(ok.body.digest, chain('after', 10))
  })
})

test.serial('SIGTERM: the server closes its pool and the process exits with code 0', async (t) => {
  await watchdog(t, 60_000, async () => {
    server!.child.kill('SIGTERM')
    const { code, signal } = await server!.exited
    t.is(signal, null, server!.output.join(''))
    t.is(code, 0, server!.output.join(''))
    t.regex(server!.output.join(''), /SIGTERM: closing/)
  })
})
