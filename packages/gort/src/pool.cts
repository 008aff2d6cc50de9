// require('gort/pool'): the class itself, as require('piscina') returns it.
// The same object as the ESM default export (pool.js, loaded here through
// require(esm), Node 20.19+); its statics are pool.js's named exports.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pool = require('./pool.js') as typeof import('./pool.js')
export = pool.default
