// The goroutine modules of one M: which are imported, being imported, or
// failed to import on this thread.
//
// A goroutine function is found by (module URL, export name); a module is
// imported on each M that starts one of its goroutines (a generator cannot
// cross threads, so neither can the function that makes it). The eager
// modules of Runtime.start are imported before the M reports ready, and
// those that fail are named in the ready message (newm.ts rejects start).
// The others load lazily: startg meets a function whose module is not here,
// puts the G back on the run queue (it is still data) and begins the
// import; the M hands its P on meanwhile (mloop.ts).

import { importModule } from './loader.js'

export class ModuleTable {
  /** Being imported on this M. */
  readonly loading = new Set<string>()
  private readonly loaded = new Set<string>()
  private readonly errors = new Map<string, unknown>()

  /** Imports the eager modules, one after the other; failures are kept, not thrown. */
  async importEager(urls: readonly string[]): Promise<void> {
    for (const url of urls) {
      try {
        await importModule(url)
        this.loaded.add(url)
      } catch (e) {
        this.errors.set(url, e)
      }
    }
  }

  /** The modules that failed to import, for the M's ready message. */
  failures(): Array<{ url: string, message: string }> {
    return [...this.errors].map(([url, e]) => ({ url, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }))
  }

  /** The error the module's import failed with here, if it did. */
  error(url: string): unknown {
    return this.errors.get(url)
  }

  /** Whether the module is imported here. */
  has(url: string): boolean {
    return this.loaded.has(url)
  }

  /**
   * Begins importing url unless an import of it is under way; done runs
   * when it settles. Returns whether an import began.
   */
  begin(url: string, done: (err: unknown) => void): boolean {
    if (this.loading.has(url)) return false
    this.loading.add(url)
    importModule(url).then(
      () => {
        this.loading.delete(url)
        this.loaded.add(url)
        done(undefined)
      },
      (e: unknown) => {
        this.loading.delete(url)
        this.errors.set(url, e)
        done(e)
      },
    )
    return true
  }
}
