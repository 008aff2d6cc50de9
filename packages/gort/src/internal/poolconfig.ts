// Applied on every M of a pool's runtime before it runs anything: the
// runtime imports this module by a URL whose query carries the pool's
// options (poolconfigUrl), serialized with V8's serializer.
//
// piscina gives each of its Workers `env`, `argv`, `execArgv` and
// `workerData` through `new Worker(...)`. A gort M is started by the
// runtime, not by the pool, so the same values are set here, in the M's
// own copy of process.env, process.argv and process.execArgv (each worker
// thread has its own), and in poolstate.ts for Piscina.workerData.

import { createRequire } from 'node:module'
import { deserialize, serialize } from 'node:v8'
import { poolState, type PoolConfig } from './poolstate.js'

/** The URL that makes an M apply cfg when it imports it. Host only. */
export function poolconfigUrl(cfg: PoolConfig): string {
  const u = new URL(import.meta.url)
  u.search = `c=${serialize(cfg).toString('base64url')}`
  return u.href
}

const c = new URL(import.meta.url).searchParams.get('c')
if (c !== null) {
  const cfg = deserialize(Buffer.from(c, 'base64url')) as PoolConfig
  const st = poolState()
  st.isWorkerThread = true
  st.workerData = cfg.workerData
  if (cfg.env !== undefined) {
    for (const k of Object.keys(process.env)) delete process.env[k]
    for (const [k, v] of Object.entries(cfg.env)) if (v !== undefined) process.env[k] = String(v)
  }
  if (cfg.argv !== undefined) process.argv.push(...cfg.argv.map(String))
  if (cfg.execArgv !== undefined) process.execArgv.splice(0, process.execArgv.length, ...cfg.execArgv)
  // As piscina does in each Worker: nice(2) through @napi-rs/nice, an
  // optional dependency (without it, nothing happens). On Linux a thread's
  // nice value is its own, so only the pool's Ms run at the lower priority.
  if (cfg.niceIncrement !== undefined) {
    try {
      (createRequire(import.meta.url)('@napi-rs/nice') as { nice(n: number): number }).nice(cfg.niceIncrement)
    } catch {
      // not installed, or not permitted
    }
  }
}
