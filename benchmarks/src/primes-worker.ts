// The plain worker thread of the primes suite: no gort. One message in,
// { ranges }, the count of the primes in those ranges out, with the ms the
// loop took on this thread. The suite's baseline sends one range, [0,
// limit): the whole job as one loop.

import { parentPort } from 'node:worker_threads'
import { isPrime } from './primeswork.js'

const port = parentPort!
port.on('message', (msg: { ranges: Array<[number, number]> }) => {
  const t0 = performance.now()
  let c = 0
  for (const [lo, hi] of msg.ranges) for (let n = lo; n < hi; n++) if (isPrime(n)) c++
  port.postMessage({ count: c, ms: performance.now() - t0 })
})
