// comlink ships its Node adapter's types as node-adapter.d.ts next to an
// .mjs file, which TypeScript's NodeNext resolution does not pair; declare it.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'
  interface NodeEndpoint {
    postMessage(message: unknown, transfer?: unknown[]): void
    on(type: string, listener: (...args: any[]) => void): void
    off(type: string, listener: (...args: any[]) => void): void
    start?: () => void
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint
}
