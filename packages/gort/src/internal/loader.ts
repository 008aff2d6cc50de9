// Loading goroutine modules on an M.
//
// A worker thread does not inherit the loader of an app run under tsx: its
// execArgv shows `--import tsx`, yet importing a .ts module fails, and
// import('tsx') inside the worker does not help (measured with tsx 4.23 on
// Node 20.20; docs/design/scheduler.md, "Modules"). Calling register() from tsx/esm/api inside the
// worker does. So an M that meets a TypeScript goroutine module registers
// tsx's loader first, resolving tsx from the module's own location (the
// app's dependencies, not gort's).

import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const TS = /\.(?:[cm]?tsx?)$/i
let tsxRegistered = false

/** Imports a goroutine module, registering tsx's loader first for TypeScript. */
export async function importModule(url: string): Promise<unknown> {
  if (!tsxRegistered && TS.test(new URL(url).pathname)) await registerTsx(url)
  return import(url)
}

async function registerTsx(url: string): Promise<void> {
  let api: string
  try {
    // The ESM entry of tsx/esm/api, from tsx's own exports map (require.resolve
    // would give the CommonJS one, whose register() does not hook import()).
    const req = createRequire(url.startsWith('file:') ? fileURLToPath(url) : url)
    const pkgPath = req.resolve('tsx/package.json')
    const pkg = req(pkgPath) as { exports: Record<string, { import?: { default?: string } | string }> }
    const entry = pkg.exports['./esm/api']?.import
    const rel = typeof entry === 'string' ? entry : entry?.default
    if (rel === undefined) throw new Error('tsx has no ESM entry for tsx/esm/api')
    api = new URL(rel, pathToFileURL(pkgPath)).href
  } catch (e) {
    throw new Error(`gort: cannot load the TypeScript goroutine module ${url} on an M: install tsx (npm i -D tsx) or compile it to JavaScript`, { cause: e })
  }
  const { register } = (await import(api)) as { register: () => unknown }
  register()
  tsxRegistered = true
}
