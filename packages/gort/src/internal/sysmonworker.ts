// The entry point of sysmon's worker thread (sysmon.ts holds sysmon itself).
//
// A file of its own because its top level awaits sysmon's loop: a module
// with a top-level await cannot be require()d (ERR_REQUIRE_ASYNC_MODULE),
// and runtime.ts imports sysmon.ts (schedtrace) on the app's thread, so
// `require('gort')` must not reach this one. Only `new Worker(...)` loads it.

import { parentPort, receiveMessageOnPort, threadId, workerData, type MessagePort } from 'node:worker_threads'
import { expose, type Endpoint } from 'comlink'
import { SharedHeap } from './heap.js'
import { setNewmHandoff } from './proc.js'
import { installSyncStdio } from './stdio.js'
import { sabjoin, sabserving } from './codec/sabs.js'
import { sysmon, type SysmonOptions } from './sysmon.js'
import { OWNER_SYSMON, TraceWriter } from './trace/buffer.js'

/**
 * A comlink endpoint over a MessagePort that is read by polling
 * (receiveMessageOnPort) rather than by the event loop, which sysmon's
 * loop does not return to.
 */
function pollingEndpoint(port: MessagePort): { endpoint: Endpoint; poll: () => number } {
  type Ev = { data: unknown }
  type Listener = ((ev: Ev) => void) | { handleEvent(ev: Ev): void }
  const listeners = new Set<Listener>()
  return {
    endpoint: {
      postMessage: (msg: unknown, transfer?: unknown[]) => port.postMessage(msg, transfer as never),
      addEventListener: (_type: string, l: Listener) => listeners.add(l),
      removeEventListener: (_type: string, l: Listener) => listeners.delete(l),
    } as unknown as Endpoint,
    poll: () => {
      let n = 0
      for (let r; (r = receiveMessageOnPort(port)) !== undefined; n++) {
        const ev: Ev = { data: r.message }
        for (const l of listeners) {
          if (typeof l === 'function') l(ev)
          else l.handleEvent(ev)
        }
      }
      return n
    },
  }
}

if (parentPort === null) throw new Error('sysmonworker: load it as a worker thread (the host starts it)')
// Its SCHED lines go straight to the process's stdout: sysmon's loop does
// not turn its event loop, through which a worker's stdio flows.
installSyncStdio()
const { sab, opts } = workerData as { sab: SharedArrayBuffer; opts: SysmonOptions }
const h = SharedHeap.attach(sab)
// The runtime's trace buffer: sysmon writes its preemptions, retakes and counter samples there while a trace records.
h.tw = new TraceWriter((workerData as { trace?: SharedArrayBuffer }).trace, OWNER_SYSMON, threadId)
// Before the runtime takes work: sysmon holds every SharedArrayBuffer id and answers Ms that subscribed late (codec/sabs.ts).
sabjoin(h, true)
sabserving(h)
setNewmHandoff(h, () => parentPort?.postMessage({ type: 'newm' }))
const { control } = workerData as { control: MessagePort }
const { endpoint, poll } = pollingEndpoint(control)
// Not a top-level await, as in mworker.ts: V8 aborts the process when a
// worker is terminated as an async module's evaluation starts.
sysmon(h, opts, poll, (c) => {
  expose(c, endpoint)
  parentPort?.postMessage({ type: 'ready' })
}).then(() => {
  parentPort?.postMessage({ type: 'exit' })
  control.close()
}, (err: unknown) => setImmediate(() => { throw err }))
