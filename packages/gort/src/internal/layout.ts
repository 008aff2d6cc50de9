// The shared heap's layout: the one place that knows where every word lives.
//
// A runtime owns one SharedArrayBuffer. Every thread (the app's main thread,
// each M worker, sysmon) views it through the same Int32Array and Float64Array
// and finds its records through the Layout computed here from the runtime's
// parameters. Nothing outside this file computes an offset: code asks for a
// record's base (pbase, gbase, mbase) and adds a field constant (P_RUNQHEAD,
// G_SCHEDLINK, ...) defined below.
//
// Units. Offsets are in 32-bit words (indexes into the Int32Array) unless a
// name says Bytes. A 64-bit field (a float64 time stamp) takes two words, is
// 8-byte aligned, and is read through the Float64Array at offset/2.
//
// Lines. A record is declared as a list of cache lines. Each line holds the
// fields that one party writes (the P's owner, a thief, whoever holds
// sched.lock, ...), so that words written by different threads never share a
// 64-byte line and a store by one thread does not invalidate another's hot
// line. The one exception is the G record, declared `packed`: a million of
// them must stay small, the parties that write a G take turns (ownership
// passes with its status, see runtime2.ts), and false sharing between
// different Gs' records is accepted. layout.test.ts checks alignment, that no
// two fields overlap, and the one-writer-per-line rule.
//
// The buffer is sized once, from options, and never grows: a length-tracking
// view of a growable SharedArrayBuffer costs about 6x a fixed view for every
// Atomics access on these machines (docs/design/memory-layout.md).

export const WORD_BYTES = 4
export const LINE_BYTES = 64
export const LINE_WORDS = LINE_BYTES / WORD_BYTES

/** Who may write a field; the layout test allows one writer per cache line. */
export type Writer =
  | 'creator' // written once when the heap is created, read-only after
  | 'lock-key' // a lock or note word: every locker/waker exchanges it
  | 'sched.lock' // written only while holding sched.lock
  | 'heap.lock' // written only while holding heap.lock (malloc)
  | 'sched.gflock' // written only while holding sched.gflock (the free G list)
  | 'atomic-any' // updated by any thread with an atomic read-modify-write
  | 'p-owner' // the M that owns the P (or sysmon through a status CAS)
  | 'p-runqhead' // the owner and every thief CAS it
  | 'p-runqtail' // the owner only, with a releasing store
  | 'p-runnext' // the owner and thieves CAS it
  | 'm-self' // the M itself
  | 'g-owner' // whoever owns the G by its status (packed record)
  | 'c.lock' // written only while holding the channel's own lock (arena records)
  | 'sysmon' // the sysmon thread only; others read with Atomics.load
  | 'record-init' // an arena record's maker, before it publishes the record's pointer; read-only after

export interface FieldSpec {
  /** 1 for an int32 word, 2 for a float64 (8-byte aligned). */
  readonly words: 1 | 2
  readonly writer: Writer
  /** How others read it, and why that is safe. */
  readonly doc: string
}

interface RecordSpec {
  readonly name: string
  /** Each inner array starts on a fresh 64-byte line (unless packed). */
  readonly lines: ReadonlyArray<Readonly<Record<string, FieldSpec>>>
  /** Packed records do not pad lines; the reason is said where declared. */
  readonly packed?: string
}

export interface PlacedField extends FieldSpec {
  readonly record: string
  readonly name: string
  /** Word offset within the record. */
  readonly offset: number
}

export interface PlacedRecord {
  readonly name: string
  readonly fields: readonly PlacedField[]
  /** Words used by the declared fields, before any trailing array. */
  readonly fixedWords: number
  readonly packed?: string
}

const i32 = (writer: Writer, doc: string): FieldSpec => ({ words: 1, writer, doc })
const f64 = (writer: Writer, doc: string): FieldSpec => ({ words: 2, writer, doc })

function place(spec: RecordSpec): PlacedRecord {
  const fields: PlacedField[] = []
  let at = 0
  for (const line of spec.lines) {
    if (!spec.packed) at = Math.ceil(at / LINE_WORDS) * LINE_WORDS
    for (const [name, f] of Object.entries(line)) {
      if (f.words === 2 && at % 2 !== 0) at++
      fields.push({ ...f, record: spec.name, name, offset: at })
      at += f.words
    }
  }
  return { name: spec.name, fields, fixedWords: at, packed: spec.packed }
}

function offsets(r: PlacedRecord): Record<string, number> {
  return Object.fromEntries(r.fields.map((f) => [f.name, f.offset]))
}

// ---------------------------------------------------------------------------
// The header: identifies the buffer so that a worker attaching to it can check
// that it computes the same layout as the creator.

export const HEADER_MAGIC = 0x676f7274 // 'gort'
export const LAYOUT_VERSION = 2

const headerSpec: RecordSpec = {
  name: 'header',
  lines: [
    {
      magic: i32('creator', 'HEADER_MAGIC; checked by attach.'),
      version: i32('creator', 'LAYOUT_VERSION; checked by attach.'),
      byteLength: i32('creator', 'Total bytes; checked by attach.'),
      maxProcs: i32('creator', 'Number of P records.'),
      runqSize: i32('creator', 'Slots in each P run queue (a power of two).'),
      maxMs: i32('creator', 'Number of M records.'),
      maxGs: i32('creator', 'Number of G records, slot 0 unused (nil).'),
      arenaBytes: i32('creator', 'Bytes of the malloc arena.'),
      maxFuncs: i32('creator', 'Entries of the goroutine function table.'),
      nonce0: i32('creator', 'Random (SharedHeap.create), with nonce1: names the runtime\'s BroadcastChannel for SharedArrayBuffers (codec/sabs.ts), so two runtimes of one process never hear each other.'),
      nonce1: i32('creator', 'Random, with nonce0.'),
    },
  ],
}

// ---------------------------------------------------------------------------
// sched: Go's schedt. Fields written under sched.lock share lines; the lock
// words and the atomically updated counters each get a line of their own.

const schedSpec: RecordSpec = {
  name: 'sched',
  lines: [
    { lock: i32('lock-key', 'sched.lock, a lock_futex key (0 unlocked, 1 locked, 2 sleeping).') },
    { gflock: i32('lock-key', 'sched.gFree.lock (Go keeps the free G list under its own lock): guards gfree, ngfree and gnext.') },
    {
      gfree: i32('sched.gflock', 'Free G list head (G index, 0 = empty); linked by G.schedlink.'),
      ngfree: i32('sched.gflock', 'Free Gs.'),
      gnext: i32('sched.gflock', 'G records never used yet start here (bump allocation before the free list).'),
    },
    {
      goidgen: i32('atomic-any', 'Last goroutine id handed out; Atomics.add by newproc on any M.'),
      nmspinning: i32('atomic-any', 'Spinning Ms; Atomics.add/sub by any M, read with Atomics.load by wakep.'),
      needspinning: i32('atomic-any', 'Go 1.21: set by a P that found work while nobody spun; CAS-cleared.'),
      lastpoll: i32('atomic-any', 'Reserved for the netpoller issue.'),
      gcount: i32('atomic-any', 'Live goroutines (created, not yet exited); Atomics.add by newproc and goexit.'),
      nmwant: i32('atomic-any', 'Ms on sched.mwant; read with Atomics.load by running Ms to decide whether to hand their P on.'),
      npendingio: i32('atomic-any', 'Goroutines parked in until() on every M; read by close() and checkdead.'),
    },
    {
      donehead: i32('atomic-any', 'Completion stack of Gs whose result the host awaits (G index, 0 = empty), linked by G.schedlink. Ms push by CAS; the host takes the whole stack by exchange and Atomics.waitAsync-s on this word.'),
    },
    {
      hostwaiting: i32('atomic-any', '1 while the host thread waits on donehead; Ms notify donehead only then. Stored by the host, read by Ms (Dekker pair with the push).'),
    },
    {
      injecthead: i32('atomic-any', 'The host\'s spawns on their way to the global queue (runq.ts globrunqinject): a stack of batches (G index, 0 = empty); a batch is linked by G.schedlink from its head, whose G.param names its tail, and its tail links to the next older batch. The host pushes by CAS, without sched.lock; an M holding sched.lock takes the whole stack by exchange and appends the batches, oldest first, to the global queue (globrunqdrain).'),
      injectn: i32('atomic-any', 'Gs on injecthead, never fewer: the host adds a batch\'s count before it pushes the batch, the draining M subtracts what it took after taking it. globrunqsize adds it to runqsize.'),
    },
    {
      runqhead: i32('sched.lock', 'Global run queue head (a G index, 0 = empty); linked by G.schedlink.'),
      runqtail: i32('sched.lock', 'Global run queue tail.'),
      runqsize: i32('sched.lock', 'Global run queue length. Read without the lock only as a hint (Atomics.load).'),
      gomaxprocs: i32('sched.lock', 'Ps in use (<= header.maxProcs). Read with Atomics.load by anyone.'),
      pidle: i32('sched.lock', 'Idle P list head (P index + 1, 0 = empty); linked by P.link.'),
      npidle: i32('sched.lock', 'Idle Ps; read with Atomics.load without the lock (wakep, spinning bound).'),
      midle: i32('sched.lock', 'Idle M list head (M index + 1, 0 = empty); linked by M.schedlink.'),
      nmidle: i32('sched.lock', 'Idle Ms.'),
      mnext: i32('sched.lock', 'Number of M records handed out; the next M id.'),
      mwant: i32('sched.lock', 'Ms parked without a P that have runnable goroutines of their own (M index + 1, FIFO head); linked by M.schedlink. P releasers hand Ps to them first.'),
      mwanttail: i32('sched.lock', 'Tail of sched.mwant.'),
      nfuncs: i32('sched.lock', 'Entries used in the function table.'),
      closing: i32('sched.lock', '1 once the host called close(): spawns fail. Read with Atomics.load.'),
    },
    {
      sabserve: i32('atomic-any', '1 once sysmon, the thread that answers late subscribers of the SharedArrayBuffer channel, has subscribed (codec/sabs.ts): Atomics.store and notify by sysmon; a thread about to post the first buffer waits for it (Atomics.wait), having asked its host to start sysmon now.'),
      sabgen: i32('atomic-any', 'Moves with every message on the runtime\'s SharedArrayBuffer channel (codec/sabs.ts): Atomics.add by sabpost before it posts (the new value is the id it posts), by a drop or a catch-up request after it posts. A thread loads it (Atomics.load) right after subscribing: 0 means it missed nothing. sabcheck reads it with a plain load, as a hint that the thread\'s channel has messages (they are ordered by the channel, not by this word).'),
    },
    { sysmonnote: i32('lock-key', 'The note sysmon sleeps on while every P is idle (Go\'s sched.sysmonnote).') },
    {
      sysmonwait: i32('atomic-any', '1 while sysmon sleeps on sysmonnote; the M that next takes a P CASes it to 0 and wakes sysmon (Go\'s sched.sysmonwait).'),
    },
    {
      npreempt: i32('sysmon', 'Preemption requests sysmon made (G.preempt set on a goroutine that ran 10 ms).'),
      nretakesyscall: i32('sysmon', 'Ps sysmon took from Ms in a syscall.'),
      nretakeexec: i32('sysmon', 'Ps sysmon took from Ms stuck in goroutine code (runaway goroutines).'),
      nwakeguard: i32('sysmon', 'Times sysmon found work on the global queue, every P idle and no M spinning, for 20 ms, and woke a P: a wake-up lost elsewhere (should stay 0).'),
      sysmontick: i32('sysmon', 'Sysmon loop iterations (wraps).'),
      sysmonsleepus: i32('sysmon', 'Sysmon\'s current sleep between looks, in microseconds; 0 while it waits on sysmonnote.'),
    },
  ],
}

// heap: the malloc arena's state, under heap.lock (Go's mheap_.lock).
export const MALLOC_BINS = 32

const heapSpec: RecordSpec = {
  name: 'heap',
  lines: [
    { lock: i32('lock-key', 'heap.lock, a lock_futex key.') },
    {
      binmap: i32('heap.lock', 'Bit b set when bin b is not empty. Read only under the lock.'),
      inuseBytes: i32('heap.lock', 'Bytes in allocated blocks, headers included. Read with Atomics.load for stats.'),
      inuseBlocks: i32('heap.lock', 'Allocated blocks. Read with Atomics.load for stats.'),
      freeBytes: i32('heap.lock', 'Bytes in free blocks.'),
      allocs: i32('heap.lock', 'Total allocations (wraps).'),
      frees: i32('heap.lock', 'Total frees (wraps).'),
      gcTrigger: i32('heap.lock', 'Bytes in use at which malloc asks every thread to collect (gc.ts pacer).'),
      gcLow: i32('heap.lock', 'The fewest bytes in use since the last request: an estimate of what is live.'),
      gcGen: i32('heap.lock', 'Collection requests so far; each thread collects when it sees it move. Read with Atomics.load, waited on by the host.'),
    },
    Object.fromEntries(
      Array.from({ length: MALLOC_BINS }, (_, b) => [
        `bin${b}`,
        i32('heap.lock', `Free list of blocks of [2^${b}, 2^${b + 1}) bytes: the arena byte offset of the first, 0 = empty.`),
      ]),
    ),
    {
      freewaiters: i32('atomic-any', 'Threads waiting for arena space (the host\'s spawns whose arguments did not fit, arenawait.ts); Atomics.add/sub by them. free loads it with Atomics.load after unlocking heap.lock: a Dekker pair with the waiter\'s add before its retry.'),
      freegen: i32('atomic-any', 'Frees seen by waiters: free Atomics.adds it and notifies it when freewaiters is not 0; waiters Atomics.waitAsync on it.'),
    },
  ],
}

// ---------------------------------------------------------------------------
// P: Go's p. The run queue head, tail and runnext each get a line: the owner
// stores the tail, thieves and the owner CAS the head and runnext.

const pSpec: RecordSpec = {
  name: 'P',
  lines: [
    {
      id: i32('creator', 'The P index.'),
      status: i32('p-owner', 'Pstatus; changed by the owner, or by CAS from sysmon (retake). Read with Atomics.load.'),
      link: i32('p-owner', 'Next on sched.pidle (P index + 1); written under sched.lock while the P is idle.'),
      schedtick: i32('p-owner', 'Incremented on every scheduler call; sysmon reads it with Atomics.load.'),
      syscalltick: i32('p-owner', 'Incremented on every syscall; sysmon reads it with Atomics.load.'),
      m: i32('p-owner', 'The M that holds the P (M index + 1, 0 = none).'),
      gFreeHead: i32('p-owner', 'Per-P free G list (gfput/gfget), owner only.'),
      gFreeCount: i32('p-owner', 'Length of the per-P free G list, owner only.'),
      steptick: i32('p-owner', 'Incremented before every goroutine step (each resumption of a generator); sysmon reads it to find runaway goroutines.'),
    },
    { runqhead: i32('p-runqhead', 'Ring head (uint32, wraps). CAS by the owner (runqget) and thieves (runqgrab); pairs with their Atomics.load.') },
    { runqtail: i32('p-runqtail', 'Ring tail (uint32, wraps). Atomics.store by the owner after writing a slot; thieves Atomics.load it first.') },
    { runnext: i32('p-runnext', 'A G to run next (G index, 0 = none). CAS by the owner and by thieves on their last pass.') },
  ],
}
// The P's ring of runqSize G indexes follows the fixed fields, on its own line.
// Slots are written by the owner only, into the free part of the ring, before
// the tail store that publishes them; thieves read them with plain loads and
// discard what they read if their CAS of runqhead fails.

// ---------------------------------------------------------------------------
// M: Go's m. The park note is exchanged by wakers, so it has its own line.

const mSpec: RecordSpec = {
  name: 'M',
  lines: [
    {
      id: i32('creator', 'The M index.'),
      state: i32('m-self', 'Mstate (runtime2.ts); read with Atomics.load by sysmon and dumps.'),
      p: i32('m-self', 'The P it holds (P index + 1, 0 = none).'),
      curg: i32('m-self', 'The G running on it (G index, 0 = none).'),
      spinning: i32('m-self', '1 while the M is counted in sched.nmspinning: set by startm (spinning=true) under sched.lock while the M is idle, else written by the M itself (becomeSpinning, resetspinning, the delicate dance). Read by sysmon, dumps, and the host when the M dies (it gives the count back).'),
      schedlink: i32('m-self', 'Next on sched.midle; written under sched.lock while the M is idle.'),
      nextp: i32('m-self', 'P handed to it by startm before its park note is woken (P index + 1). Written by the waker under sched.lock; read by the M under sched.lock after notesleep.'),
      wantp: i32('m-self', '1 while on sched.mwant; written under sched.lock.'),
      ngs: i32('m-self', 'Started goroutines living on this M; read with Atomics.load for stats and dumps.'),
      nstarted: i32('m-self', 'Goroutines started on this M so far (wraps); read with Atomics.load for stats, and by other Ms\' admission (mloop.ts admitHold: whether any M started one lately; a stale read only delays a decision by a slice).'),
      npending: i32('m-self', 'Timers, promises and I/O this M waits on (its share of sched.npendingio); read by the host when the M dies.'),
      locks: i32('m-self', 'Runtime locks held (bits: 1 sched.lock, 2 heap.lock, 4 sched.gflock); read by the host when the M dies, to release them.'),
      loading: i32('m-self', 'Goroutine modules this M is importing (startg passes global work by meanwhile); read by sysmon\'s wake guard, which does not count work stranded behind an import as a lost wake-up.'),
      gcredit: i32('m-self', 'Counts this M holds in sched.gcount beyond its live goroutines (mloop.ts gcountTake/flushGcount); the host subtracts them when the M dies.'),
      tid: i32('m-self', 'The OS thread id of the M\'s worker (threadrun.ts osThreadId; 0 where unknown), stored at mstart with Atomics.store; sysmon Atomics.loads it to read the thread\'s CPU time and state (time slices, runaway steps).'),
    },
    { park: i32('lock-key', 'The M park note (0 clear, 1 woken); notewakeup by the one waker that won the sleep word.') },
    {
      sleep: i32('atomic-any', 'Msleep: 1 (Mparked) while the M sleeps or is about to; a waker that CASes it to 2 (Mwoken) owns the notewakeup. The M stores it before re-checking readyq (Dekker pair with the push).'),
      readyq: i32('atomic-any', 'Treiber stack of this M\'s started Gs made runnable by other threads or callbacks (G index, 0 = empty), linked by G.schedlink. Pushed by CAS from any thread; the M takes it whole by exchange.'),
      trwakes: i32('atomic-any', 'While a trace records: readyings of this M\'s Gs by other threads, counted (Atomics.add, wrapping) by the waker just before it writes its UnblockX event (which carries the count) and pushes on readyq; the M Atomics.loads it after each drain of readyq into a Drain event. The reader orders each UnblockX before the first Drain that counts it (docs/design/trace-buffer.md).'),
    },
  ],
}

// ---------------------------------------------------------------------------
// G: Go's g. Packed: see the file comment.

const gSpec: RecordSpec = {
  name: 'G',
  packed: 'a million Gs must fit in little memory; whoever owns a G by its status writes it, and the atomically shared words (status, preempt) are read-modify-written',
  lines: [
    {
      status: i32('g-owner', 'Gstatus; transitions by CAS (casgstatus) from any thread.'),
      goid: i32('g-owner', 'Goroutine id, set by newproc.'),
      schedlink: i32('g-owner', 'Next G on whatever list holds it: the global run queue, a free list. Written by the list holder.'),
      m: i32('g-owner', 'The M it lives on once started (M index + 1, 0 = not started).'),
      waitreason: i32('g-owner', 'waitReason while parked.'),
      preempt: i32('g-owner', '1 when sysmon asks it to yield; Atomics.store by sysmon, Atomics.load at safe points.'),
      fn: i32('g-owner', 'Registered start function id. Written by newproc; once started, its M may re-point it, once, to the function the goroutine really runs (proc.ts setgfn: gort run\'s main, an errgroup goroutine). Read by dumps (Atomics.load).'),
      arg: i32('g-owner', 'Arena byte offset of the encoded arguments; 0 none; < 0 an inline kind (gvalue.ts: one number, or one shared handle, in G.inl).'),
      result: i32('g-owner', 'Arena byte offset of the serialized result, 0 = none.'),
      payload: i32('g-owner', 'A word for the G owner (tests put a sequence number here).'),
      flags: i32('g-owner', 'Gflags (runtime2.ts): the host awaits the result, a local closure, failed.'),
      lslot: i32('g-owner', 'Once started: the index of its generator in its M\'s own dense tables (-1: none). Only that M reads it.'),
      selectdone: i32('g-owner', 'Go\'s g.selectDone: a waker CASes it 0 to 1 to win a select this G is parked in (chan.ts dequeue).'),
      param: i32('g-owner', 'Go\'s g.param: the sudog that woke the G (written by the waker before goready).'),
      cancel: i32('atomic-any', 'A cancellation request for an awaited G (cancel.ts): 0 none; > 0 the arena byte offset of the encoded reason; CANCEL_NOREASON; CANCEL_TAKEN once its M took it. The host CASes 0 to a request; the G\'s M exchanges it to CANCEL_TAKEN at a safe point; the host clears it (and frees a reason not taken) when it collects the G\'s result.'),
      started: i32('g-owner', 'For a Gtimed G: when its M started it, wall-clock milliseconds modulo 2^31 (never 0; 0 = not yet). Written once by that M in startg; read by the host\'s timeout timer (cancel.ts).'),
    },
    {
      waitsince: f64('g-owner', 'Wall-clock ms (performance.timeOrigin + now()) at which it parked. Once a Gtimed G has ended: how long it ran (ms, its M\'s clock), written by its M in goexit before the record is published, read by the host when it collects the result.'),
      inl: f64('g-owner', 'An argument or result small enough to live in the record (gvalue.ts), when G.arg or G.result says so. From its start to its goexit (arguments taken, no result yet), a Gtimed G\'s start time on its M\'s clock (performance.now()); only that M reads it.'),
    },
  ],
}

// ---------------------------------------------------------------------------
// Records that live in the malloc arena (their base is a block's byte
// offset / 4). Packed: each is one malloc block, and its fields are written
// under the record's own lock.

// chan: Go's hchan. The buffer is a ring of dataqsiz value slots (VSLOT).
const chanSpec: RecordSpec = {
  name: 'chan',
  packed: 'a channel is one malloc block; every field but the lock word is written under that lock, by whichever thread operates on the channel',
  lines: [
    {
      lock: i32('lock-key', 'The channel\'s lock, a lock_futex key.'),
      qcount: i32('c.lock', 'Values in the buffer. Read without the lock by len() (Atomics.load).'),
      dataqsiz: i32('c.lock', 'Buffer capacity (0: unbuffered); set once at makechan.'),
      buf: i32('c.lock', 'Arena byte offset of the buffer ring (dataqsiz value slots), 0 if unbuffered.'),
      sendx: i32('c.lock', 'Ring index of the next send.'),
      recvx: i32('c.lock', 'Ring index of the next receive.'),
      closed: i32('c.lock', '1 once closed. Read without the lock by the non-blocking fast paths (Atomics.load).'),
      recvqHead: i32('c.lock', 'Waiting receivers: a doubly linked list of sudogs (arena byte offsets, 0 = empty).'),
      recvqTail: i32('c.lock', 'Tail of recvq.'),
      sendqHead: i32('c.lock', 'Waiting senders.'),
      sendqTail: i32('c.lock', 'Tail of sendq.'),
      refs: i32('atomic-any', 'References: handles on all threads, value blocks holding one, a context on its done channel (refs.ts).'),
    },
  ],
}

// sudog: Go's sudog, a G waiting on a channel, with the value it sends or
// the slot its received value is written to.
const sudogSpec: RecordSpec = {
  name: 'sudog',
  packed: 'one malloc block per wait; written under the lock of the channel whose queue holds it',
  lines: [
    {
      g: i32('c.lock', 'The waiting G (G index; a host waiter is a G record that never runs).'),
      next: i32('c.lock', 'Next sudog in the channel queue.'),
      prev: i32('c.lock', 'Previous sudog in the channel queue.'),
      success: i32('c.lock', '1 if woken by a value passing, 0 if by close. Read by the G after it is readied.'),
      c: i32('c.lock', 'The channel (arena byte offset).'),
      isSelect: i32('c.lock', '1 if the G waits in a select (selectgo sets it, under each case\'s channel lock); dequeue then wins the select by CASing G.selectdone before taking the sudog, as Go\'s isSelect does.'),
      slot: i32('c.lock', 'Value slot, first word: the value sent, or the value received (VSLOT).'),
      slot1: i32('c.lock', 'Value slot, second word (unused; keeps the float64 aligned).'),
    },
    { slotf: f64('c.lock', 'Value slot, the inline float64.') },
  ],
}

// sema: a counter with a wait queue of sudogs, for the sync package
// (WaitGroup now; Mutex, Cond and Semaphore build on the same shape).
const semaSpec: RecordSpec = {
  name: 'sema',
  packed: 'one malloc block per sync object; written under its own lock',
  lines: [
    {
      lock: i32('lock-key', 'The record\'s lock, a lock_futex key.'),
      count: i32('c.lock', 'The counter (a WaitGroup\'s count). Read without the lock only as a hint.'),
      waitqHead: i32('c.lock', 'Waiting Gs: sudogs, as a channel\'s queues.'),
      waitqTail: i32('c.lock', 'Tail of waitq.'),
      refs: i32('atomic-any', 'References: handles on all threads, value blocks holding one, a Cond on its Mutex (refs.ts).'),
      kind: i32('c.lock', 'Which sync object this is (set once).'),
      limit: i32('c.lock', 'A Semaphore\'s size; a Cond\'s Mutex record (set once).'),
    },
  ],
}

// ctx: a cancelable context (Go's cancelCtx/timerCtx): cancellation
// propagates from a parent to its children on any thread.
const ctxSpec: RecordSpec = {
  name: 'ctx',
  packed: 'one malloc block per context; written under its own lock',
  lines: [
    {
      lock: i32('lock-key', 'The context\'s lock.'),
      err: i32('c.lock', '0 while live; 1 canceled, 2 deadline exceeded. Read with Atomics.load by err().'),
      done: i32('c.lock', 'The done channel (arena byte offset); closed on cancel.'),
      parent: i32('c.lock', 'The parent context record, 0 for background.'),
      child: i32('c.lock', 'First child (a list through sibling), under this record\'s lock.'),
      sibling: i32('c.lock', 'Next sibling in the parent\'s child list, under the parent\'s lock.'),
      refs: i32('atomic-any', 'References: handles on all threads, value blocks, its children, its parent\'s child list (refs.ts).'),
    },
    { deadline: f64('c.lock', 'Deadline in Date.now() ms, or 0 for none; set once.') },
  ],
}

// pb: gort/bench's iteration counter (Go's testing.PB shares b.N the same
// way): one per parallel() call, shared by every body goroutine.
const pbSpec: RecordSpec = {
  name: 'pb',
  packed: 'one malloc block per parallel() call; its count is taken by every body goroutine with Atomics.sub',
  lines: [
    {
      refs: i32('atomic-any', 'References: the PB handles on all threads and the value blocks holding one (refs.ts).'),
      left: i32('atomic-any', 'Iterations not yet handed out; each body\'s next() takes a grain with Atomics.sub (which returns what was left before).'),
      grain: i32('record-init', 'Iterations a body takes at a time; read with a plain load by the PB decoder, after the pointer reached it through a synchronizing handoff.'),
    },
  ],
}

// errgroup: golang.org/x/sync/errgroup's Group (internal/errgroup.ts), made
// of shared records of its own kinds; it holds one reference on each.
const errgroupSpec: RecordSpec = {
  name: 'errgroup',
  packed: 'one malloc block per Group; its parts are set before the pointer is published, the limit by setLimit',
  lines: [
    {
      refs: i32('atomic-any', 'References: the Group handles on all threads and the value blocks holding one (refs.ts).'),
      wg: i32('record-init', 'The WaitGroup (a sema record) counting the group\'s running goroutines.'),
      mu: i32('record-init', 'The Mutex (a sema record) held while the first error is stored or read.'),
      errc: i32('record-init', 'A channel of capacity 1 that holds the first error once one was stored (under mu; only then is it sent to).'),
      ctx: i32('record-init', 'withContext\'s context record, cancelled by the first error and when wait returns; 0 for a zero Group.'),
      sem: i32('atomic-any', 'The limit: a Semaphore (a sema record) of setLimit(n)\'s size, or 0 for none. setLimit swaps it (Atomics.exchange) while no goroutine of the group holds a permit; go() and tryGo() read it with Atomics.load.'),
    },
  ],
}

// A value slot: 4 words, 8-byte aligned. Word 0 says what the value is (0
// undefined, > 0 an arena pointer from the codec (codec/), < 0 an inline kind) and
// words 2-3 hold an inline float64 (gvalue.ts).
export const VSLOT_WORDS = 4

export const HEADER = place(headerSpec)
export const SCHED = place(schedSpec)
export const HEAP = place(heapSpec)
export const PREC = place(pSpec)
export const MREC = place(mSpec)
export const GREC = place(gSpec)
export const CHANREC = place(chanSpec)
export const SUDOG = place(sudogSpec)
export const SEMA = place(semaSpec)
export const CTXREC = place(ctxSpec)
export const PBREC = place(pbSpec)
export const ERRGROUPREC = place(errgroupSpec)
export const RECORDS: readonly PlacedRecord[] = [HEADER, SCHED, HEAP, PREC, MREC, GREC, CHANREC, SUDOG, SEMA, CTXREC, PBREC, ERRGROUPREC]

const H = offsets(HEADER)
const S = offsets(SCHED)
const HP = offsets(HEAP)
const P = offsets(PREC)
const M = offsets(MREC)
const G = offsets(GREC)
const C = offsets(CHANREC)
const SG = offsets(SUDOG)
const SM = offsets(SEMA)
const CX = offsets(CTXREC)
const PBX = offsets(PBREC)
const EGX = offsets(ERRGROUPREC)

export const HDR_MAGIC = H.magic, HDR_VERSION = H.version, HDR_BYTES = H.byteLength
export const HDR_MAXPROCS = H.maxProcs, HDR_RUNQSIZE = H.runqSize, HDR_MAXMS = H.maxMs
export const HDR_MAXGS = H.maxGs, HDR_ARENABYTES = H.arenaBytes, HDR_MAXFUNCS = H.maxFuncs
export const HDR_NONCE0 = H.nonce0, HDR_NONCE1 = H.nonce1

export const SCHED_LOCK = S.lock, SCHED_GFLOCK = S.gflock, SCHED_GOIDGEN = S.goidgen, SCHED_NMSPINNING = S.nmspinning
export const SCHED_NEEDSPINNING = S.needspinning, SCHED_LASTPOLL = S.lastpoll
export const SCHED_RUNQHEAD = S.runqhead, SCHED_RUNQTAIL = S.runqtail, SCHED_RUNQSIZE = S.runqsize
export const SCHED_GOMAXPROCS = S.gomaxprocs, SCHED_PIDLE = S.pidle, SCHED_NPIDLE = S.npidle
export const SCHED_MIDLE = S.midle, SCHED_NMIDLE = S.nmidle, SCHED_MNEXT = S.mnext
export const SCHED_GFREE = S.gfree, SCHED_NGFREE = S.ngfree, SCHED_GNEXT = S.gnext
export const SCHED_GCOUNT = S.gcount, SCHED_NMWANT = S.nmwant, SCHED_NPENDINGIO = S.npendingio
export const SCHED_DONEHEAD = S.donehead, SCHED_HOSTWAITING = S.hostwaiting, SCHED_INJECTHEAD = S.injecthead, SCHED_INJECTN = S.injectn
export const SCHED_MWANT = S.mwant, SCHED_MWANTTAIL = S.mwanttail, SCHED_NFUNCS = S.nfuncs, SCHED_CLOSING = S.closing
export const SCHED_SABGEN = S.sabgen, SCHED_SABSERVE = S.sabserve
export const SCHED_SYSMONNOTE = S.sysmonnote, SCHED_SYSMONWAIT = S.sysmonwait, SCHED_NPREEMPT = S.npreempt
export const SCHED_NWAKEGUARD = S.nwakeguard, SCHED_NRETAKESYSCALL = S.nretakesyscall, SCHED_NRETAKEEXEC = S.nretakeexec, SCHED_SYSMONTICK = S.sysmontick, SCHED_SYSMONSLEEPUS = S.sysmonsleepus

export const HEAP_LOCK = HP.lock, HEAP_BINMAP = HP.binmap, HEAP_INUSE_BYTES = HP.inuseBytes
export const HEAP_INUSE_BLOCKS = HP.inuseBlocks, HEAP_FREE_BYTES = HP.freeBytes
export const HEAP_ALLOCS = HP.allocs, HEAP_FREES = HP.frees, HEAP_BIN0 = HP.bin0
export const HEAP_GCTRIGGER = HP.gcTrigger, HEAP_GCLOW = HP.gcLow, HEAP_GCGEN = HP.gcGen
export const HEAP_FREEWAITERS = HP.freewaiters, HEAP_FREEGEN = HP.freegen

export const P_ID = P.id, P_STATUS = P.status, P_LINK = P.link, P_SCHEDTICK = P.schedtick
export const P_STEPTICK = P.steptick
export const P_SYSCALLTICK = P.syscalltick, P_M = P.m, P_GFREE_HEAD = P.gFreeHead, P_GFREE_COUNT = P.gFreeCount
export const P_RUNQHEAD = P.runqhead, P_RUNQTAIL = P.runqtail, P_RUNNEXT = P.runnext
/** Word offset of the ring within a P record. */
export const P_RUNQ = Math.ceil(PREC.fixedWords / LINE_WORDS) * LINE_WORDS

export const M_ID = M.id, M_STATE = M.state, M_P = M.p, M_CURG = M.curg, M_SPINNING = M.spinning
export const M_SCHEDLINK = M.schedlink, M_NEXTP = M.nextp, M_PARK = M.park
export const M_NPENDING = M.npending, M_LOCKS = M.locks
export const M_TID = M.tid, M_GCREDIT = M.gcredit, M_LOADING = M.loading, M_WANTP = M.wantp, M_NGS = M.ngs, M_NSTARTED = M.nstarted, M_SLEEP = M.sleep, M_READYQ = M.readyq, M_TRWAKES = M.trwakes

export const G_STATUS = G.status, G_GOID = G.goid, G_SCHEDLINK = G.schedlink, G_M = G.m
export const G_WAITREASON = G.waitreason, G_PREEMPT = G.preempt, G_FN = G.fn, G_ARG = G.arg
export const G_CANCEL = G.cancel, G_STARTED = G.started
export const G_RESULT = G.result, G_PAYLOAD = G.payload, G_WAITSINCE = G.waitsince, G_FLAGS = G.flags, G_INL = G.inl, G_LSLOT = G.lslot, G_SELECTDONE = G.selectdone, G_PARAM = G.param

// ---------------------------------------------------------------------------
// Parameters and the computed layout.

export interface LayoutParams {
  /** P records (the largest GOMAXPROCS this runtime can use). */
  readonly maxProcs: number
  /** Slots per P run queue: a power of two from 2 to 65536; Go uses 256. */
  readonly runqSize: number
  /** M records. */
  readonly maxMs: number
  /** G records, including the unused slot 0. */
  readonly maxGs: number
  /** Bytes of the malloc arena (a multiple of 8). */
  readonly arenaBytes: number
  /** Entries of the goroutine function table (default 4096). */
  readonly maxFuncs?: number
}

export interface Layout extends LayoutParams {
  readonly maxFuncs: number
  /** Word offset of each region. */
  readonly header: number
  readonly sched: number
  readonly heap: number
  readonly p0: number
  readonly pStride: number
  readonly m0: number
  readonly mStride: number
  readonly g0: number
  readonly gStride: number
  /** The function table: maxFuncs words, each an arena pointer to the function's key (or 0). Written under sched.lock, read with Atomics.load. */
  readonly funcs: number
  /** Byte offset and end of the malloc arena. */
  readonly arenaStartBytes: number
  readonly arenaEndBytes: number
  /** Total bytes of the SharedArrayBuffer. */
  readonly byteLength: number
}

export const DEFAULT_RUNQ_SIZE = 256
export const DEFAULT_MAX_FUNCS = 4096
const MAX_BYTES = 2 ** 31 - 64 // offsets must fit an int32 word

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`layout: ${name} must be an integer from ${min} to ${max}, got ${String(v)}`)
  }
  return v
}

const roundLine = (words: number): number => Math.ceil(words / LINE_WORDS) * LINE_WORDS

/** Computes where every record lives for the given parameters. */
export function computeLayout(params: LayoutParams): Layout {
  const maxProcs = checkInt('maxProcs', params.maxProcs, 1, 1024)
  const runqSize = checkInt('runqSize', params.runqSize, 2, 65536)
  if ((runqSize & (runqSize - 1)) !== 0) {
    throw new RangeError(`layout: runqSize must be a power of two, got ${runqSize}`)
  }
  const maxMs = checkInt('maxMs', params.maxMs, 1, 10000)
  const maxGs = checkInt('maxGs', params.maxGs, 2, 2 ** 26)
  const arenaBytes = checkInt('arenaBytes', params.arenaBytes, 0, MAX_BYTES)
  if (arenaBytes % 8 !== 0) throw new RangeError(`layout: arenaBytes must be a multiple of 8, got ${arenaBytes}`)
  const maxFuncs = checkInt('maxFuncs', params.maxFuncs ?? DEFAULT_MAX_FUNCS, 1, 1 << 20)

  let at = 0
  const header = at
  at += roundLine(HEADER.fixedWords)
  const sched = at
  at += roundLine(SCHED.fixedWords)
  const heap = at
  at += roundLine(HEAP.fixedWords)
  const pStride = P_RUNQ + roundLine(runqSize)
  const p0 = at
  at += pStride * maxProcs
  const mStride = roundLine(MREC.fixedWords)
  const m0 = at
  at += mStride * maxMs
  const gStride = GREC.fixedWords // packed, even (the f64 field keeps it 8-byte aligned)
  const g0 = at
  at += roundLine(gStride * maxGs)
  const funcs = at
  at += roundLine(maxFuncs)
  const arenaStartBytes = at * WORD_BYTES
  const arenaEndBytes = arenaStartBytes + arenaBytes
  if (arenaEndBytes > MAX_BYTES) {
    throw new RangeError(`layout: the shared heap would be ${arenaEndBytes} bytes, more than ${MAX_BYTES}; lower heapSize or maxGoroutines`)
  }
  return Object.freeze({
    maxProcs, runqSize, maxMs, maxGs, arenaBytes, maxFuncs,
    header, sched, heap, p0, pStride, m0, mStride, g0, gStride, funcs,
    arenaStartBytes, arenaEndBytes, byteLength: arenaEndBytes,
  })
}

/** Word offset of P record `pp` (0-based). */
export function pbase(l: Layout, pp: number): number {
  return l.p0 + pp * l.pStride
}

/** Word offset of M record `mp` (0-based). */
export function mbase(l: Layout, mp: number): number {
  return l.m0 + mp * l.mStride
}

/** Word offset of G record `gp` (1-based; 0 is nil). */
export function gbase(l: Layout, gp: number): number {
  return l.g0 + gp * l.gStride
}

/** Word offset of a sched field. */
export function schedw(l: Layout, field: number): number {
  return l.sched + field
}

/** Word offset of a heap field. */
export function heapw(l: Layout, field: number): number {
  return l.heap + field
}

/** Word offset of a header field. */
export function headerw(l: Layout, field: number): number {
  return l.header + field
}

export const C_LOCK = C.lock, C_QCOUNT = C.qcount, C_DATAQSIZ = C.dataqsiz, C_BUF = C.buf, C_SENDX = C.sendx
export const C_RECVX = C.recvx, C_CLOSED = C.closed, C_RECVQ_HEAD = C.recvqHead, C_RECVQ_TAIL = C.recvqTail
export const C_SENDQ_HEAD = C.sendqHead, C_SENDQ_TAIL = C.sendqTail, C_REFS = C.refs
/** Bytes of a channel record. */
export const CHAN_BYTES = CHANREC.fixedWords * WORD_BYTES
export const SG_G = SG.g, SG_NEXT = SG.next, SG_PREV = SG.prev, SG_SUCCESS = SG.success, SG_C = SG.c
export const SG_ISSELECT = SG.isSelect, SG_SLOT = SG.slot
/** Bytes of a sudog. */
export const SUDOG_BYTES = SUDOG.fixedWords * WORD_BYTES
export const SEMA_LOCK = SM.lock, SEMA_COUNT = SM.count, SEMA_WAITQ_HEAD = SM.waitqHead, SEMA_WAITQ_TAIL = SM.waitqTail
export const SEMA_REFS = SM.refs, SEMA_KIND = SM.kind, SEMA_LIMIT = SM.limit
/** Bytes of a sema record. */
export const SEMA_BYTES = SEMA.fixedWords * WORD_BYTES
export const CTX_LOCK = CX.lock, CTX_ERR = CX.err, CTX_DONE = CX.done, CTX_PARENT = CX.parent, CTX_CHILD = CX.child
export const CTX_SIBLING = CX.sibling, CTX_DEADLINE = CX.deadline, CTX_REFS = CX.refs
/** Bytes of a context record. */
export const CTX_BYTES = CTXREC.fixedWords * WORD_BYTES
export const PB_REFS = PBX.refs, PB_LEFT = PBX.left, PB_GRAIN = PBX.grain
/** Bytes of a pb record. */
export const PB_BYTES = PBREC.fixedWords * WORD_BYTES
export const EG_REFS = EGX.refs, EG_WG = EGX.wg, EG_MU = EGX.mu, EG_ERRC = EGX.errc, EG_CTX = EGX.ctx, EG_SEM = EGX.sem
/** Bytes of an errgroup record. */
export const ERRGROUP_BYTES = ERRGROUPREC.fixedWords * WORD_BYTES
