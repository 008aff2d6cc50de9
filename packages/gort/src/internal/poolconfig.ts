// The URL by which every M of a pool's runtime gets the pool's options:
// poolenv.js (the module that applies them on the M) with the options,
// serialized with V8's serializer, in its query.
//
// Host only. This module and poolenv.ts are two on purpose: the runtime's
// `modules` option makes every M import that URL, and a URL with a query
// is a module instance of its own. The query must therefore land on a
// module that holds nothing but the applying code. In the bundled build
// (scripts/build.mjs) poolenv.js is an entry point that no other module
// imports, so its code stays in its own small file and the state it writes
// (poolstate.ts) lives in a chunk shared with the rest of the M; were the
// applying code in a shared chunk, the query would re-instantiate the
// whole chunk, a second registry and heap view beside the M's own.

import { serialize } from 'node:v8'
import type { PoolConfig } from './poolstate.js'

/** The URL that makes an M apply cfg when it imports it. Host only. */
export function poolconfigUrl(cfg: PoolConfig): string {
  // Resolved beside this module's file: the bundle keeps every chunk in
  // internal/, beside the entry (the build checks that this URL resolves).
  const u = new URL('./poolenv.js', import.meta.url)
  u.search = `c=${serialize(cfg).toString('base64url')}`
  return u.href
}
