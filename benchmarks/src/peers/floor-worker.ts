// The worker of FloorPool: one message in, one message out, per task.

import { parentPort } from 'node:worker_threads'

const port = parentPort!
port.on('message', (x: number) => port.postMessage(x + 1))
