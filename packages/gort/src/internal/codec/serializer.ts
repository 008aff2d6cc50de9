// codec: V8's serializer, for the values the fast path leaves to it (encode.ts).
//
// Typed arrays from V8. Node's v8.deserialize builds a typed array as a view
// into the buffer it reads, which here is the shared heap itself: the array
// would alias arena memory that is freed and reused. CodecDeserializer copies
// every view into an ArrayBuffer of its own, exactly its size.
//
// Uncloneables (encode.ts). V8 reports what it cannot clone through the
// delegate's _getDataCloneError, here a CloneFailure, so that encoding can
// tell it from an exception a getter threw and turn it into the
// DataCloneError structuredClone would throw (dataCloneError).
//
// Shared memory. V8 names a SharedArrayBuffer to the delegate
// (_getSharedArrayBufferId), but v8.Deserializer cannot turn the name back
// into a buffer. So v8bytes only notes that the value holds shared memory
// (a SharedArrayBuffer, or a view over one, which Node's serializer would
// copy as bytes), when its caller asks: encoding then sends the value whole
// by message (sabs.ts). Otherwise (error records) shared memory is
// uncloneable, as before.

import { types } from 'node:util'
import { DefaultDeserializer, DefaultSerializer } from 'node:v8'
import type { SharedHeap } from '../heap.js'

// V8's serializer, with Node's host-object handling (typed arrays, Buffers),
// made to report uncloneable values as CloneFailure so that they can be told
// apart from an exception thrown by a getter.

export class CloneFailure extends Error {
  /** A message of the codec's own, to be passed on as it is (not V8's "X could not be cloned."). */
  exact = false
}

// Node's serializer calls this._getDataCloneError(message) from C++ and
// `new this._getDataCloneError(message)` from JS; a function declaration
// serves both.
function cloneFailure(message: string): CloneFailure {
  return new CloneFailure(message)
}

/** Set by v8bytes when the value holds shared memory (and the caller asked). */
export interface SharedFound {
  found: boolean
}

// Node's DefaultSerializer has it; @types/node does not declare it.
const writeHostObject = (DefaultSerializer.prototype as unknown as { _writeHostObject(v: ArrayBufferView): void })._writeHostObject

// Node's serializer, as the codec uses it: uncloneables are CloneFailures;
// shared memory is noted (shared) or refused.
class CodecSerializer extends DefaultSerializer {
  shared: SharedFound | null = null

  // V8 asks for a SharedArrayBuffer's id; with no such method Node lets V8
  // throw a plain Error.
  _getSharedArrayBufferId(): number {
    if (this.shared === null) throw new CloneFailure('#<SharedArrayBuffer> could not be cloned.')
    this.shared.found = true
    return 0
  }

  // Node's would copy the bytes of a view over shared memory.
  _writeHostObject(view: ArrayBufferView): void {
    if (types.isSharedArrayBuffer(view.buffer)) {
      if (this.shared === null) throw new CloneFailure('#<SharedArrayBuffer> could not be cloned.')
      this.shared.found = true
    }
    writeHostObject.call(this, view)
  }
}
Object.assign(CodecSerializer.prototype, { _getDataCloneError: cloneFailure })

/** V8's bytes for v; throws CloneFailure. With shared, shared memory is noted there rather than refused (the bytes are then of no use). */
export function v8bytes(v: unknown, shared: SharedFound | null = null): Buffer {
  const ser = new CodecSerializer()
  ser.shared = shared
  ser.writeHeader()
  ser.writeValue(v)
  return ser.releaseBuffer()
}

// Node's DefaultDeserializer has it; @types/node does not declare it.
const readHostObject = (DefaultDeserializer.prototype as unknown as { _readHostObject(): unknown })._readHostObject

class CodecDeserializer extends DefaultDeserializer {
  /** Node's reader returns a view into the buffer being read (the shared heap); copy it out. */
  _readHostObject(): unknown {
    const view = readHostObject.call(this) as ArrayBufferView
    const n = view.byteLength
    const ab = new ArrayBuffer(n)
    new Uint8Array(ab).set(new Uint8Array(view.buffer, view.byteOffset, n))
    if (Buffer.isBuffer(view)) return Buffer.from(ab)
    return new (view.constructor as new (b: ArrayBuffer) => ArrayBufferView)(ab)
  }
}

export function fromV8(h: SharedHeap, at: number, n: number): unknown {
  const des = new CodecDeserializer(new Uint8Array(h.sab, at, n))
  des.readHeader()
  return des.readValue()
}

/**
 * The DataCloneError structuredClone would throw, for V8's message ("X could
 * not be cloned.", or Node's "Unserializable host object: X"), on one line and
 * cut short: X is a function's whole source, or util.inspect of a host object.
 */
export function dataCloneError(e: CloneFailure, prefix: string): DOMException {
  const message = e.message
  if (e.exact) return new DOMException(prefix + message, 'DataCloneError')
  const tail = ' could not be cloned.'
  let what = message.replace(/\s+/g, ' ')
  const cloned = what.endsWith(tail)
  if (cloned) what = what.slice(0, -tail.length)
  if (what.length > 120) what = `${what.slice(0, 117)}...`
  return new DOMException(prefix + what + (cloned ? tail : ''), 'DataCloneError')
}
