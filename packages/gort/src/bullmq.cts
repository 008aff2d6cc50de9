// require('gort/bullmq'): the same module as the ESM import (bullmq.js,
// loaded here through require(esm), Node 20.19+), so
// `const { Worker } = require('gort/bullmq')` gets the same class.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bullmq = require('./bullmq.js') as typeof import('./bullmq.js')
export = bullmq
