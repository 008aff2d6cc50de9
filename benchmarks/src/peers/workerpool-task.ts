// The worker of the workerpool peer: registers the same trivial task as
// task.ts (piscina, tinypool) under the name 'inc', so that
// pool.exec('inc', [x]) runs x + 1 in the worker.

import workerpool from 'workerpool'
import inc from './task.js'

workerpool.worker({ inc })
