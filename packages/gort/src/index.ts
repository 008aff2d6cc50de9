// gort: Go's runtime scheduler for Node.js.
//
// On an M (a runtime's worker thread), `import 'gort'` resolves to m.ts
// instead (the `gort-m` export condition, package.json): the same API
// (api.ts) without the host's side, which an M never runs.

export { Runtime, type RuntimeOptions, type RuntimeEvents, type Goroutine, type CancelOptions, type CloseResult, type RuntimeStats, type ThreadExit } from './runtime.js'
export { RuntimeTrace, type TraceStopOptions, type ChromeTrace, type TraceEvent, type GoroutineTime } from './runtime.js'
export * from './api.js'
