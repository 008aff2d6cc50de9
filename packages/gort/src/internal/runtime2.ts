// Status values for the records in layout.ts, with the ownership rule of each
// state beside it (Go's runtime2.go keeps its structs and enums the same way).

/**
 * P status (Go's _Pidle .. _Pdead). Who owns the P, and so may write its
 * owner fields and pop its run queue, depends on the state.
 */
export const Pstatus = {
  /** On sched.pidle, owned by whoever holds sched.lock; its run queue is empty. */
  Pidle: 0,
  /** Owned by the M in P.m, which is running the scheduler or a goroutine. */
  Prunning: 1,
  /** Its M is in a syscall. The P is not owned: sysmon or the returning M may take it by CAS to another state. */
  Psyscall: 2,
  /** Halted for stop-the-world; owned by the M that stopped it. */
  Pgcstop: 3,
  /** Above GOMAXPROCS; unused until procresize brings it back. */
  Pdead: 4,
  /**
   * Its M is running goroutine code (a generator step), which JavaScript
   * cannot interrupt. Like Psyscall, the P is lent: the M takes it back by
   * CAS to Prunning after the step (or to touch it during one), and sysmon
   * may take it by CAS from a step that ran too long (retake).
   */
  Pexec: 5,
} as const
export type Pstatus = (typeof Pstatus)[keyof typeof Pstatus]

/**
 * G status (Go's _Gidle .. _Gdead; the GC-only states are left out).
 * There is no casgstatus: the owner of a state (below) writes the next one,
 * with a plain store when no other thread acts on it, else with
 * Atomics.store before the G is published (docs/design/scheduler.md, "Status
 * words"); dumps and stats read statuses with Atomics.load.
 */
export const Gstatus = {
  /** Just allocated, not yet initialized. Owned by the allocator. */
  Gidle: 0,
  /** On a run queue, not running. Owned by the queue. */
  Grunnable: 1,
  /** Running on an M that holds a P. Owned by that M. */
  Grunning: 2,
  /** In a syscall operation: running, but its P may be taken. Owned by its M. */
  Gsyscall: 3,
  /** Parked (gopark). Owned by whatever will ready it (a channel's wait queue, a timer, a promise). */
  Gwaiting: 4,
  /** Finished, or on a free list. Owned by the free list. */
  Gdead: 6,
  /** Preempted at a safe point; waiting to be put back on its M's queue. */
  Gpreempted: 9,
} as const
export type Gstatus = (typeof Gstatus)[keyof typeof Gstatus]

/** M state, for sysmon, dumps and schedtrace. */
export const Mstate = {
  /** Started, not yet in the scheduler. */
  Mstarting: 0,
  /** Running the scheduler or a goroutine. */
  Mrunning: 1,
  /** Spinning: holds a P, looking for work. */
  Mspinning: 2,
  /** Parked on its note in stopm, on sched.midle. */
  Midle: 3,
  /** Exited. */
  Mdead: 4,
  /** Left after idling past the idle timeout (its thread ended; the record may be reused). */
  Mretired: 5,
} as const
export type Mstate = (typeof Mstate)[keyof typeof Mstate]

/** M sleep word (M.sleep): who may wake a parked M. */
export const Msleep = {
  /** Awake: running, spinning, or between park attempts. */
  Mawake: 0,
  /** Parked or about to park on M.park; the first waker to CAS it to Mwoken calls notewakeup. */
  Mparked: 1,
  /** A waker won the CAS and has woken (or is waking) the note. */
  Mwoken: 2,
} as const

/** G.flags bits. */
export const Gflags = {
  /** The host thread awaits the result: on exit the G goes to sched.donehead. */
  Gawaited: 1,
  /** A local closure (go(function* () {...}) in a goroutine): started at spawn, on the spawning M. */
  Glocal: 2,
  /** Ended by an exception; G.result holds the encoded error. */
  Gfailed: 4,
  /** Spawned by the host thread. */
  Ghost: 8,
  /** Not a goroutine: a record the host parks a promise on (a channel operation of the app's thread). Readied to the completion stack. */
  Ghostwait: 16,
  /** Lived on an M that died: its waits are withdrawn (dequeue skips its sudogs), it never runs again. */
  Gorphan: 32,
  /** Timed from its start (gort/pool's tasks: run({ timeout }), the run-time histogram): its M stamps G.started in startg and leaves its run time in G.waitsince at goexit (CallbackGoroutine.ranMs: only callback spawns are timed). */
  Gtimed: 64,
} as const

/** Go's waitReason strings, for dumps. */
export const waitReasonStrings = [
  '', // 0: none
  'IO wait',
  'chan receive',
  'chan send',
  'select',
  'sleep',
  'sync.Mutex.Lock',
  'sync.WaitGroup.Wait',
  'syscall',
  'module load',
  'chan send (nil chan)',
  'chan receive (nil chan)',
  'sync.Semaphore.Acquire',
  'sync.Once.Do',
  'sync.RWMutex.RLock',
  'sync.RWMutex.Lock',
  'sync.Cond.Wait',
] as const
export const WaitReason = {
  None: 0,
  IOWait: 1,
  ChanReceive: 2,
  ChanSend: 3,
  Select: 4,
  Sleep: 5,
  SyncMutexLock: 6,
  SyncWaitGroupWait: 7,
  Syscall: 8,
  ModuleLoad: 9,
  ChanSendNil: 10,
  ChanReceiveNil: 11,
  SyncSemacquire: 12,
  SyncOnce: 13,
  SyncRWMutexRLock: 14,
  SyncRWMutexLock: 15,
  SyncCondWait: 16,
} as const
