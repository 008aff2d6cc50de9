// `import 'gort'` on an M: the Ms start their worker threads with the
// `gort-m` export condition (internal/newm.ts), under which package.json
// maps 'gort' here. The same API as index.ts (api.ts), but Runtime is a
// stand-in that says runtimes start on the app's thread: the real one
// would bring the host's side (runtime.ts, host.ts, newm.ts, sysmonctl.ts
// with comlink, checkdead.ts: about 90 KB) into every M, which never runs
// it, and each M's start paid for compiling it (docs/design/scheduler.md,
// "What an M's start costs").

export * from './api.js'

const NOT_HERE = 'Runtime: a runtime is started on the app\'s thread, not inside a goroutine (this is one of its Ms); use go() to start goroutines here'

/**
 * Runtime on an M: starting or creating one throws, naming why (a
 * goroutine starts more goroutines with go()).
 */
export class Runtime {
  private constructor() {
    throw new Error(NOT_HERE)
  }

  static create(): never {
    throw new Error(`Runtime.create: ${NOT_HERE.slice('Runtime: '.length)}`)
  }

  static start(): Promise<never> {
    return Promise.reject(new Error(`Runtime.start: ${NOT_HERE.slice('Runtime: '.length)}`))
  }
}

/** RuntimeTrace on an M: a runtime's tracer (rt.trace) lives on the app's thread; it is here so that the names match. */
export class RuntimeTrace {
  private constructor() {
    throw new Error(NOT_HERE.replace('Runtime:', 'RuntimeTrace:'))
  }
}
