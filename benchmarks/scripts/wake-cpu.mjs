// What one cross-thread wake-up costs the thread that wakes (issue 15's CPU
// budget, docs/bullmq.md): the waker's own CPU time (/proc/thread-self/
// schedstat) around Atomics.notify of a worker thread asleep in
// Atomics.wait (how the host wakes an M, futexwakeup), against the same
// call with nobody waiting, and around a postMessage to a worker idle in
// its event loop (how BullMQ's sandboxed processors hand over a job; Node
// wakes the worker's loop with an eventfd write, uv_async_send, as it
// does for the app's loop when an M completes an awaited goroutine:
// Atomics.waitAsync's notify). Each wake-up comes after a 1 ms pause, so
// the worker is asleep. Linux only. Prints one JSON line of medians in µs.
//   node benchmarks/scripts/wake-cpu.mjs [tries, default 1000]
import { Worker } from 'node:worker_threads'
import { readFileSync } from 'node:fs'

const tries = Number(process.argv[2]) || 1000
const cpuNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
const pause = () => new Promise((r) => setTimeout(r, 1))
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1] / 1000

const sab = new SharedArrayBuffer(16)
const a = new Int32Array(sab)
const sleeper = new Worker(`
  const { workerData } = require('node:worker_threads')
  const a = new Int32Array(workerData)
  for (;;) {
    while (Atomics.load(a, 0) === 0) Atomics.wait(a, 0, 0)
    Atomics.store(a, 0, 0)
    if (Atomics.load(a, 2) !== 0) break
  }`, { eval: true, workerData: sab })
const looper = new Worker(`require('node:worker_threads').parentPort.on('message', () => {})`, { eval: true })
await pause()
await new Promise((r) => setTimeout(r, 200))

const read = []
const futexNobody = []
const futexSleeper = []
const post = []
for (let i = 0; i < tries; i++) {
  await pause()
  let c0 = cpuNs()
  read.push(cpuNs() - c0)
  c0 = cpuNs()
  Atomics.notify(a, 1, 1) // nobody waits on word 1
  futexNobody.push(cpuNs() - c0)
  await pause()
  c0 = cpuNs()
  Atomics.store(a, 0, 1)
  Atomics.notify(a, 0, 1)
  futexSleeper.push(cpuNs() - c0)
  await pause()
  c0 = cpuNs()
  looper.postMessage(i)
  post.push(cpuNs() - c0)
}
Atomics.store(a, 2, 1)
Atomics.store(a, 0, 1)
Atomics.notify(a, 0)
await looper.terminate()
console.log(JSON.stringify({
  tries, readUs: median(read), notifyNobodyUs: median(futexNobody), notifySleeperUs: median(futexSleeper), postMessageUs: median(post),
}))
