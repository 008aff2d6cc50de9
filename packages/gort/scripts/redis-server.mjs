// A real redis-server for gort/bullmq's tests and the bullmq benchmark
// suite: a child process on a free local port, without persistence,
// stopped at the end. Nothing mocks Redis; a machine without redis-server
// gets an error saying how to install it. Plain JavaScript (types in
// redis-server.d.mts) so that the tests and benchmarks/ share one copy.

import { spawn } from 'node:child_process'
import { createConnection, createServer } from 'node:net'


const INSTALL = 'install redis-server (Debian: apt-get install -y redis-server)'

/** A TCP port nothing listens on now (the kernel's pick). */
/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

/**
 * Asks the server on host:port for its process id (INFO server); resolves
 * it, or -1 if nothing answers. A PING is not enough: two test files that
 * start servers at once can be handed the same free port, and the one whose
 * server then fails to bind would find the other's answering.
 */
/** @param {string} host @param {number} port @returns {Promise<number>} */
function serverPid(host, port) {
  return new Promise((resolve) => {
    const c = createConnection({ host, port })
    let buf = ''
    const done = (pid) => {
      c.destroy()
      resolve(pid)
    }
    c.setTimeout(1000, () => done(-1))
    c.once('error', () => done(-1))
    c.once('connect', () => c.write('INFO server\r\n'))
    c.on('data', (d) => {
      buf += d.toString()
      if (buf.startsWith('-')) return done(-1) // an error reply (still loading)
      const m = /process_id:(\d+)\r\n/.exec(buf)
      if (m !== null) done(Number(m[1]))
    })
  })
}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no` and waits
 * until it answers as itself (its process id). Retries with another port
 * if the server exits (the port was taken in between).
 */
/** @returns {Promise<import('./redis-server.d.mts').RedisServer>} */
export async function startRedis() {
  const host = '127.0.0.1'
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const proc = spawn('redis-server', ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let exited
    let stderr = ''
    proc.stderr.on('data', (d) => (stderr += d.toString()))
    const exit = new Promise((resolve) => proc.once('exit', (code, sig) => {
      exited = `exited with ${code ?? sig}`
      resolve()
    }))
    const spawnError = await new Promise((resolve) => {
      proc.once('error', (e) => resolve(e))
      proc.once('spawn', () => resolve(undefined))
    })
    if (spawnError !== undefined) {
      const code = spawnError.code
      throw new Error(code === 'ENOENT' ? `redis-server not found: ${INSTALL}` : `redis-server: ${spawnError.message}; ${INSTALL}`)
    }
    const deadline = Date.now() + 20_000
    // Until our own server answers (not another test file's on the same port).
    while (exited === undefined && (await serverPid(host, port)) !== proc.pid) {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL')
        throw new Error(`redis-server on port ${port} did not answer within 20 s: ${stderr}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    if (exited !== undefined) {
      if (attempt < 3) continue
      throw new Error(`redis-server ${exited}: ${stderr}`)
    }
    proc.unref()
    const stop = async () => {
      if (exited !== undefined) return
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exit
      clearTimeout(t)
    }
    // Never outlive the test process.
    process.once('exit', () => proc.kill('SIGKILL'))
    return { port, host, connection: { host, port, maxRetriesPerRequest: null }, process: proc, stop }
  }
}
