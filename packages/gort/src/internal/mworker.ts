// The entry point of an M's worker thread.

import { parentPort, workerData } from 'node:worker_threads'
import { SharedHeap } from './heap.js'
import { mstart } from './mloop.js'
import { setNewmHandoff } from './proc.js'
// Registers the shared-handle kinds (channels) on this M.
import '../chan.js'
import '../sync.js'
import '../context.js'
import '../bench.js'

const { sab, mid, modules, idleTimeoutMs } = workerData as { sab: SharedArrayBuffer; mid: number; modules: string[]; idleTimeoutMs: number }
const h = SharedHeap.attach(sab)
setNewmHandoff(h, () => parentPort?.postMessage({ type: 'newm' }))
await mstart(h, mid, modules, idleTimeoutMs)
// Retired: end the thread (nothing of ours is pending).
process.exit(0)
