// The part of autocannon 8's programmatic API that the http suite uses
// (autocannon ships no types, and @types/autocannon is not a dependency).

declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      /** Called with every response to this request, before the client's 'response' event. */
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void
    }
    /** A connection: emits 'response' (status, bytes, ms from the request's write to the response's end). */
    type Client = EventEmitter
    interface Options {
      url: string
      connections?: number
      duration?: number
      /** Seconds without a response before a request counts as a timeout (default 10). */
      timeout?: number
      pipelining?: number
      requests?: Request[]
      setupClient?: (client: Client) => void
    }
    interface Histogram {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      total: number
      p50: number
      p97_5: number
      p99: number
    }
    interface Result {
      duration: number
      errors: number
      timeouts: number
      mismatches: number
      non2xx: number
      resets: number
      requests: Histogram
      latency: Histogram
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result> & EventEmitter
  export default autocannon
}
