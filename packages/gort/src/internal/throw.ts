// Fatal runtime errors (Go's throw).
//
// A FatalError means the runtime found its own state inconsistent, or was used
// in a way that would corrupt shared memory (unlocking a lock nobody holds,
// waking a note twice). It is not a user error: those are TypeError and
// RangeError at the call site. The message starts with the function's name,
// as Go's do: "unlock: lock is not locked".

export class FatalError extends Error {
  override name = 'FatalError'
}

/** Go's throw: raises a FatalError named after the function that found the fault. */
export function throwFatal(fn: string, msg: string): never {
  throw new FatalError(`${fn}: ${msg}`)
}
