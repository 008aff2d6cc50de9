// gort's public API but Runtime: what the app's thread (index.ts) and the
// Ms (m.ts, through the `gort-m` export condition) export alike. One list,
// so that a goroutine module's `import { ... } from 'gort'` links the same
// names on either.

export { goroutines, type GoroutineFn } from './internal/registry.js'
export { go } from './internal/spawn.js'
export { exit } from './internal/exit.js'
export { gosched, until, syscall, type Operation, type Future } from './internal/ops.js'
export { FatalError } from './internal/throw.js'
export { registerError, type ErrorClass } from './internal/codec/errors.js'
export { ModuleLoadError, ThreadLostError, DeadlockError } from './internal/rterrors.js'
export { GoroutineCanceled } from './internal/cancel.js'
export { chan, nilChan, Chan, type ChanOp, type ChanOptions, type RecvOk } from './chan.js'
export {
  select, type SelectCase, type SelectResult, type SelectOptions, type RecvCase, type SendCase, type RecvResult, type SendResult, type DefaultResult, type CaseResult,
} from './select.js'
export { sleep, after, afterFunc, newTimer, ticker, Timer, Ticker, type TimerOptions } from './timers.js'
export { WaitGroup, Mutex, RWMutex, Cond, Semaphore, Once } from './sync.js'
export { background, withCancel, withTimeout, withDeadline, Context, Canceled, DeadlineExceeded, type CancelFunc } from './context.js'
export * as errgroup from './errgroup.js'
