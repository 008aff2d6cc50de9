// How the public modules reach a runtime's host on the app's thread,
// without importing the host itself: the registries that host.ts and
// runtime.ts fill, and their lookups. Type imports only, so that the
// facades (chan.ts, sync.ts, context.ts, select.ts) do not bring the
// host's side (host.ts, newm.ts, sysmonctl.ts with comlink, checkdead.ts,
// runtime.ts) into an M that imports them through a goroutine module's
// `import 'gort'`: an M never runs it, and loading it cost each M's start
// time and memory (docs/design/scheduler.md, "What an M's start costs").
//
// Who calls what: the registries are filled on the thread that starts a
// runtime (host.ts create, runtime.ts #make) and read on that thread.

import type { SharedHeap } from './heap.js'
import { mheap } from './proc.js'
import type { Host } from './host.js'
import type { Runtime } from '../runtime.js'

/** The hosts of this thread, by heap: how a record finds its own runtime. */
export const hostsByHeap = new WeakMap<SharedHeap, Host>()

/**
 * The host of heap h on this thread, for an operation of the app's thread
 * on a record of that heap (what: the operation, for the error). Throws if
 * the runtime has been closed or belongs to another thread.
 */
export function heapHost(h: SharedHeap, what: string): Host {
  const host = hostsByHeap.get(h)
  if (host === undefined) throw new Error(`${what}: this object's runtime was not started on this thread`)
  if (host.closed) throw new Error(`${what}: this object's runtime was ${host.endedBy === 'destroy' ? 'destroyed' : 'closed'}`)
  return host
}

/** Each Runtime's Host (runtime.ts is the facade; diagnostics reach the heap through it). */
const runtimeHosts = new WeakMap<object, Host>()

/** Records the host of a Runtime object. @internal */
export function setRuntimeHost(rt: object, host: Host): void {
  runtimeHosts.set(rt, host)
}

/** The host of a Runtime object, if it is one. */
export function runtimeHost(rt: object): Host | undefined {
  return runtimeHosts.get(rt)
}

/** The shared heap of a Runtime object (for diagnostics: schedwords, stress-test watchdogs). */
export function runtimeHeap(rt: object): SharedHeap {
  const h = runtimeHosts.get(rt)
  if (h === undefined) throw new TypeError('runtimeHeap: expected a Runtime (from Runtime.start())')
  return h.heap
}

/** The runtimes started on this thread and not closed, oldest first: the first is the default. */
export const liveRuntimes: Runtime[] = []

/**
 * The default runtime of this thread: the oldest started and not closed,
 * if any. Only creating a record (chan(), new WaitGroup()...) without a
 * { runtime } option uses it; an operation on a record uses the record's own.
 */
export function currentRuntime(): Runtime | undefined {
  return liveRuntimes[0]
}

/**
 * The host of rt: the public modules reach a runtime's shared heap through
 * it to create a record there (an operation on the record then finds its
 * host from the record's heap: heapHost).
 * @internal
 */
export function hostOf(rt: Runtime): Host {
  const h = runtimeHosts.get(rt)
  if (h === undefined) throw new TypeError('expected a Runtime (from Runtime.start() or Runtime.create())')
  return h
}

/**
 * The shared heap a new record goes into: the M's own on a worker thread;
 * on the app's thread, rt's or else the default runtime's. `what` names
 * the call in the error when there is neither.
 * @internal
 */
export function heapHere(what: string, rt?: Runtime): SharedHeap {
  const h = mheap()
  if (h !== undefined) return h
  const r = rt ?? currentRuntime()
  if (r === undefined) throw new Error(`${what}: no runtime is running on this thread; start one with Runtime.start() or pass { runtime }`)
  return hostOf(r).heap
}
