// The host's side of sysmon (sysmon.ts): starting its thread (created with
// the runtime's first work, or for a control request: host.ts
// wantSysmon), its control plane, and stopping it so that what it printed
// is not lost.
//
// The control plane is comlink over a MessagePort of its own; sysmon's
// loop never returns to its event loop, so it reads the port by polling,
// and the host wakes it from its note when it sends a request (poke).
// Neither the worker nor the port holds the app's event loop open (both
// are unref'd after their listeners are on: adding a 'message' listener
// refs a port again); the host holds its own ref while a request is out.
//
// Everything here runs on the host's thread.

import { MessageChannel, Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads'
import { wrap, type Remote } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import type { SharedHeap } from './heap.js'
import { schedw, SCHED_CLOSING, SCHED_SYSMONNOTE, SCHED_SYSMONTICK, SCHED_SYSMONWAIT } from './layout.js'
import { notewakeup } from './lock_futex.js'
import type { SysmonControl, SysmonOptions, SysmonView } from './sysmon.js'

/** What sysmon asks of its host. */
export interface SysmonHooks {
  /** startm found no idle M (Go's newm hand-off). */
  newmHandoff(): void
  /** No M is idle: start a spare one. */
  spare(): void
  report(err: Error): void
}

/** GODEBUG's comma-separated name=value pairs. */
export function parseGodebug(s: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const kv of s.split(',')) {
    const i = kv.indexOf('=')
    if (i > 0) out.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim())
  }
  return out
}

export class SysmonThread {
  private stopped = false
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly control: Remote<SysmonControl>
  /**
   * Settles once sysmon watches (or its thread ended). Nothing waits for
   * it to run goroutines (Runtime.start does only with GODEBUG=schedtrace);
   * until then a goroutine that runs away keeps its P (sysmon cannot
   * retake it yet).
   */
  readonly ready: Promise<void>

  /** Creates sysmon's thread now; it boots on its own (ready). */
  constructor(private readonly heap: SharedHeap, opts: SysmonOptions, hooks: SysmonHooks) {
    const { port1, port2 } = new MessageChannel()
    this.control = wrap<SysmonControl>(nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]))
    // After wrap: comlink's listener refs the port.
    port1.unref()
    this.port = port1
    // A null prototype, as for the Ms (newm.ts): no option from a polluted Object.prototype.
    const wopts: WorkerOptions = Object.assign(Object.create(null) as WorkerOptions, {
      workerData: { sysmon: true, sab: heap.sab, trace: heap.tw.sab, control: port2, opts },
      transferList: [port2],
    })
    const w = new Worker(new URL('./sysmonworker.js', import.meta.url), wopts)
    this.worker = w
    let ready!: () => void
    this.ready = new Promise<void>((r) => {
      ready = r
    })
    w.once('exit', () => ready())
    w.on('message', (msg: { type: string }) => {
      if (msg.type === 'ready') ready()
      else if (msg.type === 'newm') hooks.newmHandoff()
      else if (msg.type === 'spare') hooks.spare()
    })
    w.once('error', (e) => {
      if (!this.stopped) hooks.report(Object.assign(new Error(`gort: sysmon died: ${(e as Error).message}`), { cause: e }))
    })
    // Listeners first: adding a 'message' listener refs the worker's port again.
    w.unref()
  }

  /** Wakes sysmon if it sleeps on its note, so that it reads a control request now. */
  private poke(): void {
    const h = this.heap
    Atomics.notify(h.i32, schedw(h.layout, SCHED_SYSMONTICK))
    if (Atomics.compareExchange(h.i32, schedw(h.layout, SCHED_SYSMONWAIT), 1, 0) === 1) notewakeup(h.i32, schedw(h.layout, SCHED_SYSMONNOTE))
  }

  /** sysmon's own view (its pace, what it last saw of each P). */
  async view(): Promise<SysmonView> {
    const r = this.control.view()
    this.poke()
    return await r
  }

  /** Changes schedtrace and scheddetail; resolves once sysmon has them. */
  async setSchedtrace(ms: number, detail: boolean): Promise<void> {
    const r = this.control.setSchedtrace(ms, detail)
    this.poke()
    await r
  }

  /**
   * Lets sysmon see sched.closing and leave its loop, so that what it
   * printed reaches stdout (terminating a worker drops its pending
   * output); terminates it if it does not go within 200 ms.
   */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const w = this.worker
    const h = this.heap
    Atomics.store(h.i32, schedw(h.layout, SCHED_CLOSING), 1)
    const exited = new Promise<boolean>((r) => w.once('exit', () => r(true)))
    this.poke()
    const gone = await Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => r(false), 200))])
    if (!gone) await w.terminate()
    this.port.close()
  }
}
