// The entry point of an M's worker thread.

import { parentPort, workerData } from 'node:worker_threads'
import { SharedHeap } from './heap.js'
import { mstart } from './mloop.js'
import { setNeedM } from './proc.js'
// Registers the shared-handle kinds (channels) on this M.
import '../chan.js'
import '../sync.js'
import '../context.js'
import '../bench.js'

const { sab, mid, modules } = workerData as { sab: SharedArrayBuffer; mid: number; modules: string[] }
const h = SharedHeap.attach(sab)
setNeedM(h, () => parentPort?.postMessage({ type: 'needm' }))
await mstart(h, mid, modules)
