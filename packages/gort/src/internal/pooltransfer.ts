// gort/pool's transfers: piscina's transferList and Piscina.move(), over a
// runtime that copies every value through its shared heap.
//
// What piscina does. run(task, { transferList }) posts the task to a
// Worker with port.postMessage(message, transferList): the ArrayBuffers in
// the list move to the Worker and are detached on the app's side
// (byteLength 0). A task that is Piscina.move()'s wrapper adds its
// [transferableSymbol] (one item, or an array of them) to the list and
// sends its [valueSymbol] in its place (piscina's TaskInfo constructor);
// a task function that returns such a wrapper has its result sent the same
// way (worker.ts onMessage). move() marks the wrapper with a private
// symbol, kMovable (common.ts markMovable); an object that has both symbols
// but was not marked is cloned as any other.
//
// What gort/pool does. The receiver always gets a copy: the argument
// block in the heap, decoded on the M; the result block, decoded on the
// app's thread. What the transfer keeps of piscina is what the sender
// sees: its transferred ArrayBuffers are detached once the value has been
// copied, as postMessage detaches them once it has serialized the message.
// Node 20 has no ArrayBuffer.prototype.transfer; structuredClone with a
// transfer list detaches exactly as postMessage does (the same serializer:
// a WebAssembly.Memory's buffer and Buffer's pool are left attached,
// silently, by both).
//   - The argument (app to task, pool.ts): run() checks the list at once
//     (transferables), the pool's dispatch encodes the argument (host.spawn
//     returns with it in the heap, or staged in the app's memory when the
//     arena is full), then detaches the list (detach). A task aborted while
//     queued never detaches anything, as in piscina, whose task was never
//     posted.
//   - The result (task to app, pooltask.ts): the M encodes a goroutine's
//     result after the goroutine has returned, and a generator can run
//     nothing after its return. So runTask moves the buffers out itself
//     (moveOut: structuredClone(value, { transfer }), which hands their
//     memory to the clone without copying it and detaches them) and
//     returns the clone for the M to encode. A moved result therefore
//     crosses as postMessage would carry it (a Buffer arrives as a
//     Uint8Array, as in piscina), then as any result: gort's shared handles
//     (a channel, a mutex) inside a moved value lose their identity there;
//     return them outside the wrapper.
// Rejected: a hook in the M's goexit that detaches after putResult. It
// would put a pool concern into the runtime's hottest exit path for one
// caller; the clone costs only moved results, and for the usual one (a
// lone ArrayBuffer or typed array) nearly nothing.
//
// What can be listed. An ArrayBuffer is transferred. A SharedArrayBuffer
// is shared, never detached (design/sabs.md), and is skipped: Node's
// postMessage refuses one in a transfer list (a TypeError), and piscina's
// tests list one, so gort/pool accepts it as the no-op it would be. A
// MessagePort cannot be passed at all: a task may run on any M, and a port
// can go to one thread only, picked when it is posted; that is a
// DataCloneError, as a port inside the value is. Anything else (a typed
// array rather than its buffer, a plain object) is Node's TypeError, and
// an ArrayBuffer listed twice Node's DataCloneError. These are checked
// before anything is encoded or detached, so detach itself cannot fail.
//
// The hot path. A task with no transferList and no move() costs one
// property load (isMovable on an object, a typeof check on a primitive):
// nothing here runs for it.
//
// Who may call: any thread; pool.ts on the app's thread, pooltask.ts on an M.

import { types } from 'node:util'
import { MessagePort } from 'node:worker_threads'

// piscina's public symbols (Symbol.for in piscina too: an object made for
// piscina is a Transferable here as well).
export const kTransferable = Symbol.for('Piscina.transferable')
export const kValue = Symbol.for('Piscina.valueOf')
/**
 * move()'s mark. piscina's is a private Symbol; gort/pool's is registered,
 * so that every copy of this module in a thread (a task file resolving
 * gort/pool through require and import) recognises the others' wrappers.
 */
export const kMovable = Symbol.for('gort.pool.movable')

/** piscina's isTransferable: an object with both of piscina's symbols. */
export function isTransferable(v: unknown): boolean {
  return v != null && typeof v === 'object' && kTransferable in v && kValue in v
}

/** piscina's isMovable: a Transferable that move() marked. The mark is read first: it is the cheap test that fails for every ordinary task. */
export function isMovable(v: unknown): v is Record<symbol, unknown> {
  return v != null && typeof v === 'object' && (v as Record<symbol, unknown>)[kMovable] === true && kTransferable in v && kValue in v
}

/** piscina's markMovable: a non-enumerable, configurable, writable mark. */
export function markMovable(v: object): void {
  Object.defineProperty(v, kMovable, { enumerable: false, configurable: true, writable: true, value: true })
}

/** What an item is, for an error message: "a Uint8Array", "an Object", "the number 3". */
function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x)
  if (typeof x !== 'object' && typeof x !== 'function') return `the ${typeof x} ${String(x).slice(0, 40)}`
  const name = (x as { constructor?: { name?: unknown } }).constructor?.name
  if (typeof name !== 'string' || name === '') return 'an object with no constructor'
  return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`
}

/**
 * Adds the ArrayBuffers of items (run()'s transferList, or a moved value's
 * [transferableSymbol]: one item or an array of them) to out, skipping
 * SharedArrayBuffers. `where` names the list in messages
 * ('transferList'). Throws a TypeError for an item that cannot be
 * transferred (Node's message first), a DataCloneError for a MessagePort
 * or a buffer listed twice.
 */
export function collectTransfers(items: unknown, where: string, out: ArrayBuffer[]): void {
  const list = Array.isArray(items) ? items : [items]
  for (let i = 0; i < list.length; i++) {
    const x: unknown = list[i]
    const at = Array.isArray(items) ? `${where}[${i}]` : where
    if (types.isArrayBuffer(x)) {
      if (out.includes(x)) throw new DOMException(`Transfer list contains duplicate ArrayBuffer (${at})`, 'DataCloneError')
      out.push(x)
    } else if (types.isSharedArrayBuffer(x)) {
      // Shared, not transferred: it arrives as the same memory anyway.
    } else if (x instanceof MessagePort) {
      throw new DOMException(
        `${at} is a MessagePort, which gort/pool cannot pass between the app and a task: ` +
          'a task may run on any of the pool\'s threads, and a port goes to one',
        'DataCloneError',
      )
    } else if (types.isArrayBufferView(x)) {
      throw new TypeError(`Found invalid object in transferList: ${at} is ${describe(x)}; list its .buffer (an ArrayBuffer is transferred, not a view of one)`)
    } else {
      throw new TypeError(`Found invalid object in transferList: ${at} is ${describe(x)}; gort/pool transfers ArrayBuffers (a SharedArrayBuffer is shared)`)
    }
  }
}

/**
 * Detaches the sender's buffers once their contents are copied, as
 * postMessage does after serializing. list comes from collectTransfers, so
 * this cannot throw (a buffer detached meanwhile, or one that cannot be
 * detached, is passed over, as postMessage passes it over).
 */
export function detach(list: readonly ArrayBuffer[]): void {
  structuredClone(undefined, { transfer: list as ArrayBuffer[] })
}

/**
 * A task's result as it leaves the task (pooltask.ts): the value itself, or,
 * for Piscina.move()'s wrapper, its [valueSymbol] with the
 * [transferableSymbol] buffers moved into a clone (the originals
 * detached). Reads the two symbols once each, in piscina's order. Throws
 * as collectTransfers does, and DataCloneError if the value cannot be
 * cloned (nothing is detached then).
 */
export function moveOut(v: unknown): unknown {
  if (!isMovable(v)) return v
  const list: ArrayBuffer[] = []
  collectTransfers(v[kTransferable], 'the moved value\'s [Piscina.transferableSymbol]', list)
  const value = v[kValue]
  return list.length === 0 ? value : structuredClone(value, { transfer: list })
}
