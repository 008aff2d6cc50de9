// The entry point of an M's worker thread.

import { parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads'
import { SharedHeap } from './heap.js'
import { mstart } from './mloop.js'
import { setNewmHandoff } from './proc.js'
import { installSyncStdio } from './stdio.js'
import { setExitOnM } from './exit.js'
import { sabjoin, sabpoll, setSabAnswererHook } from './codec/sabs.js'
import { MMSG_TAG, type MNewm, type MSysmon } from './mmsg.js'
import { TraceWriter } from './trace/buffer.js'
import { osThreadId } from './threadrun.js'
// The records every M counts and frees (handlekind.ts), whether or not it
// decodes them: channels, sync objects, contexts, and gort/bench's PB,
// whose class lives there too.
import './chan.js'
import './sema.js'
import './context.js'
import './pb.js'
import './errgroup.js'

// Before any goroutine module loads (mstart imports them) and can print:
// stdout and stderr written synchronously to the process's fds (stdio.ts).
installSyncStdio()
const { sab, trace, mid, modules, idleTimeoutMs, keepMs, ctl, argv } = workerData as {
  sab: SharedArrayBuffer; trace?: SharedArrayBuffer; mid: number; modules: string[]; idleTimeoutMs: number; keepMs: number; ctl: MessagePort; argv: string[]
}
// The program's arguments, as the host's thread has them (newm.ts).
process.argv = argv
const h = SharedHeap.attach(sab)
// The runtime's trace buffer: this M writes its events there while a trace records.
h.tw = new TraceWriter(trace, mid, threadId, osThreadId())
// exit() in a goroutine asks the host to end the process (exit.ts), its
// trace events published first: the host writes a recording as it exits.
setExitOnM(() => h.tw.flush())
// Before this M can decode anything: it hears every SharedArrayBuffer posted from now on (codec/sabs.ts).
sabjoin(h)
// A buffer this M posts before sysmon is up waits for it: ask the host to start it now (it starts with the first work otherwise).
setSabAnswererHook(h, () => parentPort?.postMessage({ [MMSG_TAG]: 'sysmon' } satisfies MSysmon))
setNewmHandoff(h, () => parentPort?.postMessage({ [MMSG_TAG]: 'newm' } satisfies MNewm))
// Not a top-level await: this module's evaluation would then be
// asynchronous for the M's whole life, and V8 (Node 20) aborts the whole
// process ("Check failed: (location_) != nullptr" in
// SourceTextModule::ExecuteAsyncModule) when a worker is terminated just as
// an async module's evaluation starts (nodejs/node#43182, #53238): an M
// stopped by close() or destroy() while it booted did that once in CI.
// Evaluated synchronously, the module is never async; an error escapes as
// an uncaught exception, which the host sees as the worker's 'error'
// whatever the app's --unhandled-rejections mode.
mstart(h, mid, modules, idleTimeoutMs, keepMs, ctl).then(() => {
  // Retired: end the thread (nothing of ours is pending; the ids it freed go out).
  sabpoll(h)
  process.exit(0)
}, (err: unknown) => setImmediate(() => { throw err }))
