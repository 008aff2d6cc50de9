// Types for redis-server.mjs.
import type { ChildProcess } from 'node:child_process'

export interface RedisServer {
  readonly port: number
  readonly host: string
  /** ioredis / BullMQ connection options for it. */
  readonly connection: { host: string; port: number; maxRetriesPerRequest: null }
  readonly process: ChildProcess
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); resolves when it has exited. */
  stop(): Promise<void>
}

/** A TCP port nothing listens on now (the kernel's pick). */
export function freePort(): Promise<number>

/**
 * Starts `redis-server --port <free> --save '' --appendonly no` and waits
 * until it answers as itself (its process id from INFO server); retries
 * with another port if the server exits.
 */
export function startRedis(): Promise<RedisServer>
