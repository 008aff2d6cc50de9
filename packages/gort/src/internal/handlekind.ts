// Handle kinds: the one table of the shared records a JS object can stand
// for, on any thread (codec/handles.ts: a handle's kHandle method answers
// {kind, ptr}, and decoding makes this thread's object for the kind).
//
// Each kind has two halves, registered per thread:
//
//   - its record's life (refs.ts defineRefKind: the refs word, how the
//     record is freed), declared by the internal module that owns the
//     record (internal/chan.ts, sema.ts, context.ts, pb.ts, errgroup.ts). mworker.ts
//     imports those modules, so every M counts and frees every kind, even
//     a block it only frees unread (a goroutine whose module failed to load);
//   - its object (codec/handles.ts registerHandleKind: decode(h, ptr) makes
//     this thread's handle object), registered by the module that defines
//     the class. For Chan, the sync classes and Context that is the public
//     module (chan.ts, sync.ts, context.ts): gort's index imports them, and
//     so does every goroutine module, since goroutines() comes from gort's
//     index; an M decodes arguments only after it imported the goroutine's
//     module (mloop.ts startg), and values only inside goroutines. PB's
//     class lives in internal/pb.ts, because a bench body's module may
//     import gort/bench for its types only.
//
// Kinds below GORT_KINDS are gort's. Others (tests, tools) register their
// own kinds from GORT_KINDS up; counted and shared kinds must stay below 256
// (refs.ts keeps ptr * 256 + kind in one number).

/** The kinds of gort's shared records. */
export const HandleKind = {
  /** A channel: layout `chan` (makechan); counted (C_REFS, freechan), shared. Class Chan (chan.ts). */
  Chan: 1,
  /** A WaitGroup: layout `sema` (SemaKind.WaitGroup); counted (SEMA_REFS, freesema), shared. Class WaitGroup (sync.ts). */
  WaitGroup: 2,
  /** A Mutex: layout `sema`; counted, shared. Class Mutex (sync.ts). */
  Mutex: 3,
  /** A weighted Semaphore: layout `sema`, its size in `limit`; counted, shared. Class Semaphore (sync.ts). */
  Semaphore: 4,
  /** A Once: layout `sema`; counted, shared. Class Once (sync.ts). */
  Once: 5,
  /**
   * A cancelable context: layout `ctx`; counted (CTX_REFS, freectx: it holds
   * its done channel, and while linked its parent), shared. ptr 0 is
   * background(), which has no record. Class Context (context.ts).
   */
  Context: 6,
  /** An RWMutex: layout `sema`; counted, shared. Class RWMutex (sync.ts). */
  RWMutex: 7,
  /** A Cond: layout `sema`, its Mutex's record in `limit` (it holds a reference on it); counted, shared. Class Cond (sync.ts). */
  Cond: 8,
  /**
   * gort/bench's iteration counter: layout `pb`; counted (PB_REFS, freed
   * with the last handle). Not shared: each PB object caches a grain of
   * iterations of its own. Class PB (internal/pb.ts).
   */
  PB: 9,
  /**
   * An errgroup.Group: layout `errgroup`; counted (EG_REFS, freeerrgroup:
   * it holds its WaitGroup, Mutex, error channel, context and limit),
   * shared. Class Group (errgroup.ts).
   */
  ErrGroup: 10,
} as const
export type HandleKind = (typeof HandleKind)[keyof typeof HandleKind]

/** Kinds below this are gort's (HandleKind); others register from here up. */
export const GORT_KINDS = 64

const names: readonly string[] = Object.entries(HandleKind).reduce<string[]>((a, [name, kind]) => {
  a[kind] = name
  return a
}, [])

/** The kind's name for messages: 'Chan' for 1, 'kind 999' for a kind gort does not define. */
export function handleKindName(kind: number): string {
  return names[kind] ?? `kind ${kind}`
}
