// gort: Go's runtime scheduler for Node.js.

export { Runtime, type RuntimeOptions, type RuntimeEvents, type Goroutine, type CancelOptions, type CloseResult, type RuntimeStats, type ThreadExit } from './runtime.js'
export { RuntimeTrace, type TraceStopOptions, type ChromeTrace, type TraceEvent, type GoroutineTime } from './runtime.js'
export { goroutines, type GoroutineFn } from './internal/registry.js'
export { go } from './internal/spawn.js'
export { exit } from './internal/exit.js'
export { gosched, until, syscall, type Operation, type Future } from './internal/ops.js'
export { FatalError } from './internal/throw.js'
export { registerError, type ErrorClass } from './internal/codec/errors.js'
export { ModuleLoadError } from './internal/newm.js'
export { DeadlockError } from './internal/checkdead.js'
export { ThreadLostError } from './internal/newm.js'
export { GoroutineCanceled } from './internal/cancel.js'
export { chan, nilChan, Chan, type ChanOp, type ChanOptions, type RecvOk } from './chan.js'
export {
  select, type SelectCase, type SelectResult, type SelectOptions, type RecvCase, type SendCase, type RecvResult, type SendResult, type DefaultResult, type CaseResult,
} from './select.js'
export { sleep, after, afterFunc, newTimer, ticker, Timer, Ticker, type TimerOptions } from './timers.js'
export { WaitGroup, Mutex, RWMutex, Cond, Semaphore, Once } from './sync.js'
export { background, withCancel, withTimeout, withDeadline, Context, Canceled, DeadlineExceeded, type CancelFunc } from './context.js'
export * as errgroup from './errgroup.js'
