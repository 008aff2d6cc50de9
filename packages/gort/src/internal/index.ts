// gort/internal: the runtime's building blocks, for gort's own tests,
// benchmarks and tools. Not a stable API: names follow Go's runtime and may
// change with it.

export * from './layout.js'
export * from './runtime2.js'
export { FatalError, throwFatal } from './throw.js'
export { FastRand, randomSeed } from './fastrand.js'
export { SharedHeap } from './heap.js'
export { futexsleep, futexsleepAsync, futexwakeup, setThreadCanBlock, threadCanBlock } from './futex.js'
export {
  lock, lockAsync, tryLock, unlock, noteclear, notesleep, notetsleep, notetsleepAsync, notewakeup,
  MUTEX_LOCKED, MUTEX_SLEEPING, MUTEX_UNLOCKED,
} from './lock_futex.js'
export { malloc, free, mallocSize, heapStats, requestCollection, tryMalloc, neverFits, MIN_BLOCK, MAX_ALLOC, type HeapStats } from './malloc.js'
export {
  runqput, runqputslow, runqget, runqgetInheritTime, runqempty, runqlen, runqgrab, runqsteal,
  globrunqput, globrunqputhead, globrunqputbatch, globrunqputheadbatch, globrunqget, globrunqsize, globrunqinject, globrunqdrain, runqspillhead,
} from './runq.js'
export { encodeValue, encodeArgs } from './codec/encode.js'
export { decodeValue, decodeArgs } from './codec/decode.js'
export { freeValue } from './codec/block.js'
export { sabStats, sabjoin, sabpost, sabget, sabdrop, sabpoll, sabclose, type SabStats } from './codec/sabs.js'
export { registerError, type ErrorClass } from './codec/errors.js'
export { CodecTag } from './codec/format.js'
export {
  kHandle, registerHandleKind, type HandleRef, type HandleDecoder, type HandleKindOptions, type SharedHandle,
} from './codec/handles.js'
export { schedwords, type SchedWords } from './schedwords.js'
export { runtimeHeap } from './host.js'
export { pooltask } from './pooltask.js'
export { HandleKind } from './handlekind.js'
export { counted } from './refs.js'
export { summarize, formatSummary, type FunctionSummary } from './trace/summary.js'
export { toChrome } from './trace/chrome.js'
export { TraceWriter, newTraceBuffer, traceBegin, traceEnd, readEvents, Ev as TraceEv } from './trace/buffer.js'
export { startTrace, stopTrace, traceSummary, traceDiscard } from './trace/cli.js'
