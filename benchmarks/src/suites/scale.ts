// scale: what a goroutine, a channel and a long run cost in memory, in three
// parts, each next to Go where Go has a counterpart.
//
//  1. A million goroutines parked on a channel receive (procs 2). The app
//     starts them (rt.go(parked, c) in a loop, Go's go statement: no result
//     promise unless asked for; SCALE_APP_SPAWN=run uses rt.run, a promise
//     each; a second variant starts them inside one goroutine with go()),
//     and the clock stops when every one
//     has started and parked. Then memory per goroutine, three ways:
//       (a) the shared heap: the G record of each live goroutine (72 bytes;
//           the G table is allocated up front for maxGoroutines, so a G
//           costs its record whether the table is full or not, and a table
//           page costs memory once a goroutine first touches it) plus the
//           growth of the malloc arena's bytes in use (the sudog each
//           receive parks with);
//       (b) the JS heaps: every M's (used heap after a full collection, read
//           inside the M, see scalegoroutines.ts) and the app's own (the
//           Goroutine object of each rt.go, or the promise and resolvers
//           of each rt.run);
//       (c) the growth of the process's resident set, which holds all of it.
//     Then the app closes the channel and the clock runs until every
//     goroutine has finished (rt.numGoroutine() polled every millisecond,
//     as in the create suite), and until the app holds every result. The Go
//     program (benchmarks/go/scale) does the same with `go func() { <-c }()`
//     and reads runtime.MemStats. Targets: at most 600 bytes per goroutine
//     in all (the RSS growth), and waking them all no slower than Go. The
//     CPU time of the spawn and of the wake-up is split by thread (Linux):
//     the app's, the Ms' (their kernel thread ids come with the heap
//     probes), and the rest (V8's collector threads, sysmon).
//  2. 100,000 live channels: bytes per channel in the shared heap and in the
//     JS heap of the thread that holds the handles, made on the app's thread
//     and inside a goroutine; Go's heap growth for the same slice of
//     channels.
//  3. A soak: SOAK_SECONDS (default 60) of trivial goroutines spawned from
//     the app at full rate with SOAK_INFLIGHT (default 10,000) in flight,
//     and the RSS, the arena's bytes in use and the app's JS heap sampled
//     every second. Reported: the least-squares slope of each, over all
//     samples and over the second half, and the same figures after a full
//     collection at the start and at the end (the Ms' heaps too). The child
//     streams its samples, so that a run that hangs still says how far it
//     got.
//
// Every measurement runs in a fresh child process (this file, run with
// `child <mode> ...` arguments), so that one run's memory does not sit in
// the next one's baseline; parts 1 and 2 run SCALE_RUNS times (default 3)
// and the tables give medians with the runs' values in brackets. The Go
// program runs in processes of its own, never beside gort. If a run of part
// 1 fails or takes longer than SCALE_TIMEOUT_S (default 180 s; a run of a
// million takes about 15 s here), the suite says why and tries once more; if
// that fails too, it halves the count and starts again.
//
// Knobs (environment): SCALE_N (goroutines of part 1, default 1,000,000),
// SCALE_CHANS (channels of part 2, default 100,000), SCALE_RUNS, SOAK_SECONDS,
// SOAK_INFLIGHT, SCALE_TIMEOUT_S, GOMAXPROCS (procs, default 2),
// SCALE_SNAPSHOT (a directory: part 1's children also write heap snapshots
// of the app and of every M once the goroutines are parked; slow at 1M),
// SCALE_CHAN_CAPS (capacities of part 2, a comma list, default 0),
// SCALE_PARTS (a comma list of park, chans, soak: run only those) and
// SCALE_JSON (a file: every child's and Go run's figures, as JSON).

import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { BroadcastChannel } from 'node:worker_threads'
import { getHeapSnapshot } from 'node:v8'
import { pipeline } from 'node:stream/promises'
import { Runtime, chan, type Chan, type Goroutine } from 'gort'
import {
  requestCollection, mbase, gbase, heapw, schedw, M_NGS, G_STATUS, G_FLAGS, HEAP_GCGEN, HEAP_INUSE_BYTES, SCHED_GNEXT,
  Gstatus, Gflags, type SharedHeap,
} from 'gort/internal'
import { neighbourMeter, quantile, sleep, type Comparison, type Suite, type SuiteResult } from '../harness.js'
import { GO_NOT_INSTALLED, goAvailable, goEnv } from '../go.js'
import { PROBE_CHANNEL, fullGC, sg, type HeapProbe, type HeapReport } from '../scalegoroutines.js'

const N = Number(process.env.SCALE_N) || 1_000_000
const NCHANS = Number(process.env.SCALE_CHANS) || 100_000
const RUNS = Number(process.env.SCALE_RUNS) || 3
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS) || 60
const SOAK_INFLIGHT = Number(process.env.SOAK_INFLIGHT) || 10_000
const TIMEOUT_S = Number(process.env.SCALE_TIMEOUT_S) || 180
const PROCS = Number(process.env.GOMAXPROCS) || 2
/** How the app variant of part 1 spawns: `go` (rt.go, Go's go statement: no result promise unless asked) or `run` (rt.run: a promise each). */
const APP_SPAWN = process.env.SCALE_APP_SPAWN === 'run' ? 'run' : 'go'
const PARTS = new Set((process.env.SCALE_PARTS || 'park,chans,soak').split(',').map((s) => s.trim()))
/** The smallest count part 1 falls back to. */
const MIN_N = 62_500
/** The issue's targets. */
const TARGET_BYTES_PER_G = 600
const MODULE = new URL('../scalegoroutines.js', import.meta.url)

// ---------------------------------------------------------------------------
// What the children report.

interface MemPoint {
  rss: number
  /** The app's JS heap (used, after a full collection). */
  appHeap: number
  /** The arena's bytes in use. */
  arena: number
  /** Each M's used JS heap after a full collection, by threadId. */
  ms: Record<string, number>
  /** The same for the heaps' committed size (V8's total_heap_size; the app's heapTotal). */
  appTotal: number
  msTotal: Record<string, number>
}

/** CPU milliseconds spent in a window, by kind of thread. */
interface CpuSplit {
  /** The app's main thread. */
  app: number
  /** The Ms (worker threads that answered a heap probe). */
  ms: number
  /** Every other thread: V8's platform threads (parallel and concurrent GC), sysmon, libuv's pool. */
  other: number
}

interface ParkResult {
  mode: 'park'
  n: number
  from: 'app' | 'goroutine'
  procs: number
  /** ms from the first spawn until every goroutine had started and parked. */
  spawnMs: number
  /** ms of the app's synchronous loop of rt.run calls (app variant). */
  loopMs: number
  /** ms from close(c) until rt.numGoroutine() read 0. */
  wakeMs: number
  /** ms of the close itself (the app readies every waiter under the channel's lock). */
  closeMs: number
  /** ms from close(c) until the app held every result (app variant). */
  resultsMs: number
  /** Collections the shared heap's pacer asked every thread for during the spawn (gc.ts). */
  gcRequests: number
  /** Where the CPU went during the spawn and during the wake (Linux). */
  spawnCpu?: CpuSplit
  wakeCpu?: CpuSplit
  gRecordBytes: number
  gTableBytes: number
  before: MemPoint
  after: MemPoint
  /** Ms (worker threads) that held parked goroutines, and how many each. */
  goroutinesByM: Record<string, number>
  msAtEnd: number
  neighbours: string
  snapshots?: string[]
}

interface ChansResult {
  mode: 'chans'
  n: number
  cap: number
  where: 'app' | 'goroutine'
  makeMs: number
  before: MemPoint
  after: MemPoint
  neighbours: string
}

interface SoakSample {
  t: number
  rss: number
  arena: number
  appHeap: number
  done: number
}

interface SoakResult {
  mode: 'soak'
  seconds: number
  inflight: number
  goroutines: number
  /** Collections the pacer asked for during the soak. */
  gcRequests: number
  samples: SoakSample[]
  start: MemPoint
  end: MemPoint
  msAtEnd: number
  neighbours: string
}

type ChildResult = ParkResult | ChansResult | SoakResult

interface GoMem {
  sys: number
  stackInuse: number
  heapInuse: number
  heapAlloc: number
  rss: number
}

interface GoPark {
  mode: 'park'
  n: number
  spawnMs: number
  wakeMs: number
  before: GoMem
  after: GoMem
}

interface GoChans {
  mode: 'chans'
  n: number
  cap: number
  makeMs: number
  before: GoMem
  after: GoMem
}

// ---------------------------------------------------------------------------
// The children: one measurement each, printed as one JSON line.

const RESULT_PREFIX = 'SCALE_RESULT '
const SAMPLE_PREFIX = 'SCALE_SAMPLE '

/** The pacer's collection requests so far. */
function gcGen(h: SharedHeap): number {
  return Atomics.load(h.i32, heapw(h.layout, HEAP_GCGEN))
}

/** CPU milliseconds of every thread of this process so far, by kernel thread id (Linux; empty elsewhere). */
function threadCpu(): Map<number, number> {
  const out = new Map<number, number>()
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
      out.set(Number(t), (Number(f[11]) + Number(f[12])) * 10) // utime + stime, in ticks of 10 ms
    }
  } catch {
    // not Linux
  }
  return out
}

/** The CPU spent between two threadCpu() readings, split by kind of thread. */
function cpuSplit(a: Map<number, number>, b: Map<number, number>, mTids: Set<number>): CpuSplit | undefined {
  if (b.size === 0) return undefined
  const s: CpuSplit = { app: 0, ms: 0, other: 0 }
  for (const [tid, v] of b) {
    const d = v - (a.get(tid) ?? 0)
    if (tid === process.pid) s.app += d
    else if (mTids.has(tid)) s.ms += d
    else s.other += d
  }
  return s
}

/** Reads the arena's bytes in use (one word, no lock). */
function arenaInuse(h: SharedHeap): number {
  return Atomics.load(h.i32, heapw(h.layout, HEAP_INUSE_BYTES))
}

/** Started goroutines living on the Ms (the sum of M.ngs): cheap enough to poll. */
function startedLiving(h: SharedHeap): number {
  let s = 0
  for (let i = 0; i < h.layout.maxMs; i++) s += Atomics.load(h.i32, mbase(h.layout, i) + M_NGS)
  return s
}

/** Goroutines parked (Gwaiting; the app's own channel waits left out): one pass over the G table. */
function parkedCount(h: SharedHeap): number {
  const l = h.layout
  const n = Math.min(Atomics.load(h.i32, schedw(l, SCHED_GNEXT)), l.maxGs)
  let k = 0
  for (let gp = 1; gp < n; gp++) {
    const b = gbase(l, gp)
    if (Atomics.load(h.i32, b + G_STATUS) === Gstatus.Gwaiting && (Atomics.load(h.i32, b + G_FLAGS) & Gflags.Ghostwait) === 0) k++
  }
  return k
}

/** Asks every M for its JS heap (scalegoroutines.ts), with a snapshot if dir is given. */
class Prober {
  private readonly bc = new BroadcastChannel(PROBE_CHANNEL)
  private seq = 0
  private readonly pending = new Map<number, (r: HeapReport) => void>()
  /** The kernel thread ids of every M that has answered. */
  readonly tids = new Set<number>()

  constructor(private readonly rt: Runtime, private readonly h: SharedHeap) {
    this.bc.unref()
    this.bc.onmessage = (ev: unknown) => {
      const r = (ev as { data: HeapProbe | HeapReport }).data
      if (r.type !== 'heap') return
      if (r.tid > 0) this.tids.add(r.tid)
      this.pending.get(r.id)?.(r)
    }
  }

  /** The live Ms' threadIds. */
  liveMs(): number[] {
    return this.rt.stats().ms.filter((m) => m.state !== 'dead' && m.state !== 'retired').map((m) => m.threadId)
  }

  /** Every live M's report; throws if one does not answer within 10 s. */
  async all(snapshotDir?: string): Promise<Map<number, HeapReport>> {
    const id = ++this.seq
    const want = this.liveMs()
    const got = new Map<number, HeapReport>()
    const done = new Promise<void>((resolve) => {
      this.pending.set(id, (r) => {
        got.set(r.threadId, r)
        if (want.every((t) => got.has(t))) resolve()
      })
    })
    const probe: HeapProbe = { type: 'probe', id, snapshotDir }
    this.bc.postMessage(probe)
    // A collection request wakes every M (a parked one within 250 ms) and
    // makes it turn its event loop, where the probe is waiting.
    requestCollection(this.h)
    const deadline = performance.now() + (snapshotDir === undefined ? 10_000 : 600_000)
    let answered = false
    void done.then(() => (answered = true))
    for (let i = 1; !answered; i++) {
      if (performance.now() > deadline) {
        this.pending.delete(id)
        const states = this.rt.stats().ms.map((m) => `M${m.id} thread ${m.threadId} ${m.state}`).join(', ')
        throw new Error(`heap probe: threads ${want.filter((t) => !got.has(t)).join(', ')} did not answer (answered: ${[...got.keys()].join(', ')}; ${states})`)
      }
      await sleep(50)
      if (answered) break
      // An M that started after the probe was posted never saw it: post it
      // again now and then, and ask again for a collection to deliver it.
      if (i % 20 === 0) this.bc.postMessage(probe)
      if (i % 6 === 0) requestCollection(this.h)
    }
    this.pending.delete(id)
    return got
  }

  close(): void {
    this.bc.close()
  }
}

/** The process's memory after full collections everywhere. */
async function memPoint(prober: Prober, h: SharedHeap, snapshotDir?: string): Promise<MemPoint & { snapshots?: string[] }> {
  const reports = await prober.all(snapshotDir)
  fullGC()
  fullGC()
  const mu = process.memoryUsage()
  const ms: Record<string, number> = {}
  const msTotal: Record<string, number> = {}
  for (const [t, r] of reports) {
    ms[String(t)] = r.usedHeapSize
    msTotal[String(t)] = r.totalHeapSize
  }
  const snapshots = snapshotDir === undefined ? undefined : [...reports.values()].map((r) => r.snapshot!).filter(Boolean)
  if (snapshotDir !== undefined) {
    // The app's own, streamed (writeHeapSnapshot would do too).
    const file = path.join(snapshotDir, `app-${process.pid}.heapsnapshot`)
    await pipeline(getHeapSnapshot(), createWriteStream(file))
    snapshots!.push(file)
  }
  return { rss: mu.rss, appHeap: mu.heapUsed, arena: arenaInuse(h), ms, appTotal: mu.heapTotal, msTotal, snapshots }
}

async function startRuntime(maxGoroutines: number, heapSize: number): Promise<{ rt: Runtime; h: SharedHeap; errors: string[] }> {
  const rt = await Runtime.start({ procs: PROCS, maxGoroutines, heapSize, modules: [MODULE] })
  const errors: string[] = []
  rt.on('error', (e: unknown) => errors.push(String((e as Error)?.message ?? e)))
  // The Chan's heap is the runtime's shared heap.
  const h = (chan<number>(0, { runtime: rt }) as unknown as { heap: SharedHeap }).heap
  return { rt, h, errors }
}

/** Waits until pred() holds, polling every ms; throws after timeoutMs. */
async function pollUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`)
    await sleep(1)
  }
}

/** The moments of a park round at which the child measures memory. */
interface ParkHooks {
  /** After the previous round, before the first spawn. */
  beforeSpawn(): Promise<void>
  /** Once every goroutine is parked, before the wake-up. */
  parked(): Promise<void>
}

/** One round of n parked goroutines: spawn, wait until all are parked, wake them all, wait until all have finished. */
async function parkRound(
  rt: Runtime,
  h: SharedHeap,
  n: number,
  from: 'app' | 'goroutine',
  hooks: ParkHooks,
  mTids: Set<number>,
): Promise<Pick<ParkResult, 'spawnMs' | 'loopMs' | 'wakeMs' | 'closeMs' | 'resultsMs' | 'gcRequests' | 'spawnCpu' | 'wakeCpu' | 'goroutinesByM'>> {
  if (rt.numGoroutine() !== 0) throw new Error(`park: ${rt.numGoroutine()} goroutines left from before`)
  const c: Chan<number> = chan<number>(0, { runtime: rt })
  await hooks.beforeSpawn()
  const base = startedLiving(h)
  let results: Array<Promise<void>> = []
  const gen0 = gcGen(h)
  const cpu0 = threadCpu()
  const t0 = performance.now()
  let handles: Array<Goroutine<void>> = []
  if (from === 'app' && APP_SPAWN === 'run') {
    results = new Array<Promise<void>>(n)
    for (let i = 0; i < n; i++) results[i] = rt.run(sg.parked, c)
  } else if (from === 'app') {
    // Go's `go f(c)` from the app: no result promise unless asked for.
    handles = new Array<Goroutine<void>>(n)
    for (let i = 0; i < n; i++) handles[i] = rt.go(sg.parked, c)
  } else {
    await rt.run(sg.spawnParked, c, n)
  }
  const tLoop = performance.now()
  await pollUntil(() => startedLiving(h) - base >= n, TIMEOUT_S * 1000, `park: ${n} goroutines started`)
  let tParked = performance.now()
  // Every goroutine has started, and at most one per M may still be in its
  // first step. A pass over the G table checks (outside the figure unless
  // it has to wait).
  if (parkedCount(h) < n) {
    await pollUntil(() => parkedCount(h) >= n, 10_000, `park: ${n} goroutines parked`)
    tParked = performance.now()
  }
  const gcRequests = gcGen(h) - gen0
  const cpu1 = threadCpu()
  const byM: Record<string, number> = {}
  for (const m of rt.stats().ms) if (m.goroutines > 0) byM[`M${m.id}`] = m.goroutines
  await hooks.parked()
  const cpu2 = threadCpu()
  const t1 = performance.now()
  c.close()
  const tClosed = performance.now()
  await pollUntil(() => rt.numGoroutine() === 0, TIMEOUT_S * 1000, 'park: every goroutine finished')
  const tDone = performance.now()
  const cpu3 = threadCpu()
  await Promise.all(results.length > 0 ? results : handles.map((g) => g.result))
  const tResults = performance.now()
  return {
    spawnMs: tParked - t0, loopMs: tLoop - t0, wakeMs: tDone - t1, closeMs: tClosed - t1, resultsMs: tResults - t1, gcRequests,
    spawnCpu: cpuSplit(cpu0, cpu1, mTids), wakeCpu: cpuSplit(cpu2, cpu3, mTids), goroutinesByM: byM,
  }
}

async function childPark(n: number, from: 'app' | 'goroutine'): Promise<ParkResult> {
  const neighbours = neighbourMeter()
  // The arena holds a sudog per parked goroutine and, while goroutines wait
  // to start, their argument blocks: leave ample room (untouched pages cost nothing).
  const { rt, h, errors } = await startRuntime(Math.max(1 << 20, n + 4096), Math.max(64 << 20, n * 256))
  const prober = new Prober(rt, h)
  try {
    const none = async (): Promise<void> => {}
    // Warm up the code paths on every M (JIT) with a small round.
    await parkRound(rt, h, Math.min(20_000, Math.max(1000, n >> 4)), from, { beforeSpawn: none, parked: none }, prober.tids)
    let before!: MemPoint
    let after!: MemPoint
    let snapshots: string[] | undefined
    const r = await parkRound(rt, h, n, from, {
      beforeSpawn: async () => {
        before = await memPoint(prober, h)
      },
      parked: async () => {
        const { snapshots: s, ...m } = await memPoint(prober, h, process.env.SCALE_SNAPSHOT || undefined)
        after = m
        snapshots = s
      },
    }, prober.tids)
    if (errors.length > 0) throw new Error(`runtime errors: ${errors.join('; ')}`)
    const l = h.layout
    return {
      mode: 'park', n, from, procs: PROCS, ...r,
      gRecordBytes: l.gStride * 4,
      gTableBytes: l.gStride * 4 * l.maxGs,
      before, after,
      msAtEnd: prober.liveMs().length,
      neighbours: neighbours(),
      snapshots,
    }
  } finally {
    prober.close()
    await rt.destroy()
  }
}

async function childChans(n: number, cap: number, where: 'app' | 'goroutine'): Promise<ChansResult> {
  const neighbours = neighbourMeter()
  const { rt, h } = await startRuntime(1 << 16, 256 << 20)
  const prober = new Prober(rt, h)
  try {
    // Warm up: make and drop a few thousand channels where they will be made.
    if (where === 'app') for (let i = 0; i < 5000; i++) chan<number>(cap, { runtime: rt })
    else {
      const ready = chan<number>(1, { runtime: rt })
      const release = chan<number>(0, { runtime: rt })
      const p = rt.run(sg.holdChans, 5000, cap, ready, release)
      await ready.recv()
      release.close()
      await p
    }
    const before = await memPoint(prober, h)
    let after: MemPoint
    let makeMs: number
    if (where === 'app') {
      const t0 = performance.now()
      const held = new Array<Chan<number>>(n)
      for (let i = 0; i < n; i++) held[i] = chan<number>(cap, { runtime: rt })
      makeMs = performance.now() - t0
      after = await memPoint(prober, h)
      if (held.length !== n) throw new Error('unreachable')
    } else {
      const ready = chan<number>(1, { runtime: rt })
      const release = chan<number>(0, { runtime: rt })
      const t0 = performance.now()
      const p = rt.run(sg.holdChans, n, cap, ready, release)
      await ready.recv()
      makeMs = performance.now() - t0
      after = await memPoint(prober, h)
      release.close()
      if ((await p) !== n) throw new Error('holdChans: wrong count')
    }
    return { mode: 'chans', n, cap, where, makeMs, before, after, neighbours: neighbours() }
  } finally {
    prober.close()
    await rt.destroy()
  }
}

async function childSoak(seconds: number, inflight: number): Promise<SoakResult> {
  const neighbours = neighbourMeter()
  const { rt, h, errors } = await startRuntime(Math.max(1 << 16, inflight * 2), 64 << 20)
  const prober = new Prober(rt, h)
  try {
    // A short warm-up at the same rate, so that the start point has the JIT's code.
    let stop = false
    let done = 0
    const lane = async (k: number): Promise<void> => {
      let i = k
      while (!stop) {
        if ((await rt.run(sg.inc, i)) !== i + 1) throw new Error('inc: wrong result')
        i += inflight
        done++
      }
    }
    let lanes = Array.from({ length: inflight }, (_, k) => lane(k))
    await sleep(2000)
    stop = true
    await Promise.all(lanes)
    const start = await memPoint(prober, h)
    stop = false
    done = 0
    const samples: SoakSample[] = []
    const t0 = performance.now()
    const sample = (): void => {
      const mu = process.memoryUsage()
      const x: SoakSample = { t: (performance.now() - t0) / 1000, rss: mu.rss, arena: arenaInuse(h), appHeap: mu.heapUsed, done }
      samples.push(x)
      // Streamed as well, so that the parent can tell how far a run got if it hangs.
      process.stdout.write(`${SAMPLE_PREFIX}${JSON.stringify(x)}\n`)
    }
    const gen0 = gcGen(h)
    sample()
    const timer = setInterval(sample, 1000)
    lanes = Array.from({ length: inflight }, (_, k) => lane(k))
    await sleep(seconds * 1000)
    clearInterval(timer)
    sample()
    stop = true
    await Promise.all(lanes)
    const goroutines = done
    const gcRequests = gcGen(h) - gen0
    const end = await memPoint(prober, h)
    if (errors.length > 0) throw new Error(`runtime errors: ${errors.join('; ')}`)
    return { mode: 'soak', seconds, inflight, goroutines, gcRequests, samples, start, end, msAtEnd: prober.liveMs().length, neighbours: neighbours() }
  } finally {
    prober.close()
    await rt.destroy()
  }
}

async function childMain(args: string[]): Promise<void> {
  const [mode, ...rest] = args
  let r: ChildResult
  if (mode === 'park') r = await childPark(Number(rest[0]), rest[1] === 'goroutine' ? 'goroutine' : 'app')
  else if (mode === 'chans') r = await childChans(Number(rest[0]), Number(rest[1]), rest[2] === 'goroutine' ? 'goroutine' : 'app')
  else if (mode === 'soak') r = await childSoak(Number(rest[0]), Number(rest[1]))
  else throw new Error(`scale child: unknown mode ${String(mode)}`)
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`)
}

// ---------------------------------------------------------------------------
// The parent: runs the children and the Go program, builds the report.

const THIS_FILE = fileURLToPath(import.meta.url)
const GO_DIR = fileURLToPath(new URL('../../go/', import.meta.url))

/** A result, or why there is none (with what the command printed on stdout). */
type Outcome<T> = { ok: T } | { error: string; out?: string }

/** Runs a command, forwarding its stderr; resolves to the JSON of its result line, or why there is none. */
function runJSON<T>(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutS: number; prefix?: string }): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      p.kill('SIGKILL')
    }, opts.timeoutS * 1000)
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      process.stderr.write(d)
    })
    p.on('error', (e) => {
      clearTimeout(timer)
      resolve({ error: String(e) })
    })
    p.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = out.split('\n').find((x) => (opts.prefix === undefined ? x.startsWith('{') : x.startsWith(opts.prefix)))
      if (code === 0 && line !== undefined) {
        resolve({ ok: JSON.parse(opts.prefix === undefined ? line : line.slice(opts.prefix.length)) as T })
        return
      }
      const printed = out.split('\n').filter((x) => !x.startsWith(SAMPLE_PREFIX)).join('\n')
      const tail = (err.trim() || printed.trim()).split('\n').slice(-4).join(' / ')
      const why = timedOut ? `took longer than ${opts.timeoutS} s (killed)` : `exit ${code ?? signal}`
      resolve({ error: `${why}${tail ? `: ${tail}` : ''}`, out })
    })
  })
}

function runChild<T extends ChildResult>(args: Array<string | number>, timeoutS: number): Promise<Outcome<T>> {
  console.error(`  scale: node ${path.basename(THIS_FILE)} child ${args.join(' ')}`)
  return runJSON<T>(process.execPath, [THIS_FILE, 'child', ...args.map(String)], { timeoutS, prefix: RESULT_PREFIX })
}

/** Builds benchmarks/go/scale once; the binary's path, or why not. */
let goBinary: Outcome<string> | undefined
function buildGo(): Outcome<string> {
  if (goBinary !== undefined) return goBinary
  if (goAvailable() === null) return (goBinary = { error: GO_NOT_INSTALLED })
  const out = path.join(os.tmpdir(), `gortbench-scale-${process.pid}`)
  console.error(`  go build -o ${out} ./scale`)
  const r = spawnSync('go', ['build', '-o', out, './scale'], { cwd: GO_DIR, env: goEnv(), encoding: 'utf8' })
  goBinary = r.status === 0 ? { ok: out } : { error: `go build failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-2).join(' / ')}` }
  return goBinary
}

function runGoScale<T>(args: string[]): Promise<Outcome<T>> {
  const bin = buildGo()
  if ('error' in bin) return Promise.resolve(bin)
  console.error(`  GOMAXPROCS=${PROCS} scale ${args.join(' ')}`)
  return runJSON<T>(bin.ok, args, { env: { ...process.env, GOMAXPROCS: String(PROCS) }, timeoutS: TIMEOUT_S })
}

// --- arithmetic and formatting

function median(xs: number[]): number {
  return quantile(xs, 0.5)
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my)
    sxx += (xs[i] - mx) ** 2
  }
  return sxy / sxx
}

function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–'
}

function fmtBytes(x: number): string {
  const a = Math.abs(x)
  if (a >= 1 << 30) return `${(x / 2 ** 30).toFixed(2)} GiB`
  if (a >= 1 << 20) return `${(x / 2 ** 20).toFixed(1)} MiB`
  if (a >= 1 << 10) return `${(x / 2 ** 10).toFixed(1)} KiB`
  return `${Math.round(x)} B`
}

function fmtRatio(x: number): string {
  return !Number.isFinite(x) ? '–' : x >= 10 ? `${x.toFixed(1)} ×` : `${x.toFixed(2)} ×`
}

/** "median (run, run, ...)" of a figure over runs, or "–". */
function cell(xs: number[], fmt: (x: number) => string = fmtInt): string {
  if (xs.length === 0) return '–'
  const m = fmt(median(xs))
  return xs.length === 1 ? m : `${m} (${xs.map(fmt).join(', ')})`
}

/** The Ms' JS heap growth: per M, after minus before (an M started in between counts from the others' median start). */
function msGrowth(before: MemPoint, after: MemPoint, which: 'ms' | 'msTotal' = 'ms'): number {
  const b = before[which]
  const base = median(Object.values(b))
  let s = 0
  for (const [t, v] of Object.entries(after[which])) s += v - (b[t] ?? base)
  return s
}

/** How much CPU other processes used during each run, in cores, from the runs' neighbour lines. */
function neighbourList(rs: Array<{ neighbours: string }>): string {
  return rs.map((r) => /other processes used ([\d.]+)/.exec(r.neighbours)?.[1] ?? '?').join(', ')
}

interface PerG {
  gRecord: number
  arena: number
  ms: number
  app: number
  parts: number
  rss: number
}

function perGoroutine(r: ParkResult): PerG {
  const arena = (r.after.arena - r.before.arena) / r.n
  const ms = msGrowth(r.before, r.after) / r.n
  const app = (r.after.appHeap - r.before.appHeap) / r.n
  return { gRecord: r.gRecordBytes, arena, ms, app, parts: r.gRecordBytes + arena + ms + app, rss: (r.after.rss - r.before.rss) / r.n }
}

// --- the three parts

interface PartReport {
  tables: string[][]
  notes: string[]
  comparisons?: Comparison[]
}

/**
 * A comparison of medians: gort's runs next to Go's (none if either side
 * has no run). The report reads these; the tables above stay as they were.
 */
function vsGo(workload: string, unit: string, gort: number[], go: number[], goName: string, target?: Comparison['target']): Comparison[] {
  if (gort.length === 0) return []
  const c: Comparison = { area: 'scale', workload, unit, better: 'lower', gort: median(gort) }
  if (go.length > 0) {
    c.peer = median(go)
    c.peerName = goName
  }
  if (target !== undefined) c.target = target
  return [c]
}

/** Everything measured, for SCALE_JSON. */
const raw: Record<string, unknown> = {}

async function parkPart(): Promise<PartReport> {
  const notes: string[] = []
  const results: Record<'app' | 'goroutine', ParkResult[]> = { app: [], goroutine: [] }
  let n = N
  const failures: string[] = []
  // Every run measures the same count. A run that fails is tried once more
  // (a hang can be the runtime's, not the count's); a second failure at a
  // count starts all runs again at half of it.
  // Go's runs alternate with gort's, one after each round of both variants,
  // so that the machine's state over time weighs on both alike.
  const goRuns: GoPark[] = []
  let goError: string | undefined
  retry: for (;;) {
    results.app = []
    results.goroutine = []
    goRuns.length = 0
    goError = undefined
    let failed = 0
    for (let run = 0; run < RUNS; run++) {
      if (run > 0 && goError === undefined) {
        const g = await runGoScale<GoPark>(['-mode', 'park', '-n', String(n)])
        if ('ok' in g) goRuns.push(g.ok)
        else goError = g.error
      }
      for (const from of ['app', 'goroutine'] as const) {
        for (;;) {
          const r = await runChild<ParkResult>(['park', n, from], TIMEOUT_S)
          if ('ok' in r) {
            results[from].push(r.ok)
            break
          }
          failures.push(`${fmtInt(n)} goroutines spawned from ${from === 'app' ? 'the app' : 'a goroutine'} failed: ${r.error}`)
          if (++failed < 2) continue
          if (Math.round(n / 2) < MIN_N) break retry
          n = Math.round(n / 2)
          continue retry
        }
      }
    }
    break
  }
  // The last of Go's runs, after gort's last round.
  while (goError === undefined && goRuns.length < RUNS) {
    const g = await runGoScale<GoPark>(['-mode', 'park', '-n', String(n)])
    if ('ok' in g) goRuns.push(g.ok)
    else goError = g.error
  }
  const app = results.app.map(perGoroutine)
  const gor = results.goroutine.map(perGoroutine)
  const goPer = goRuns.map((g) => ({
    sys: (g.after.sys - g.before.sys) / g.n,
    stack: (g.after.stackInuse - g.before.stackInuse) / g.n,
    heap: (g.after.heapInuse - g.before.heapInuse) / g.n,
    rss: (g.after.rss - g.before.rss) / g.n,
  }))
  const goCell = (xs: number[]): string => (goError !== undefined && xs.length === 0 ? goError : cell(xs))
  const ratio = (a: number[], b: number[]): string => (a.length === 0 || b.length === 0 ? '–' : fmtRatio(median(a) / median(b)))
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED')
  const appRss = app.map((x) => x.rss)
  const appParts = app.map((x) => x.parts)
  const goSys = goPer.map((x) => x.sys)
  const wakeApp = results.app.map((r) => r.wakeMs)
  const wakeGo = goRuns.map((g) => g.wakeMs)
  const rows: Array<[string, string, string, string, string, string]> = [
    [
      `spawn until all ${fmtInt(n)} are parked, ms`,
      cell(results.app.map((r) => r.spawnMs)), cell(results.goroutine.map((r) => r.spawnMs)), goCell(goRuns.map((g) => g.spawnMs)),
      ratio(results.app.map((r) => r.spawnMs), goRuns.map((g) => g.spawnMs)), '',
    ],
    ['(a) shared heap: G record, bytes per goroutine', cell(app.map((x) => x.gRecord)), cell(gor.map((x) => x.gRecord)), '–', '', ''],
    ['(a) shared heap: arena growth, bytes per goroutine', cell(app.map((x) => x.arena)), cell(gor.map((x) => x.arena)), '–', '', ''],
    ["(b) the Ms' JS heaps, bytes per goroutine", cell(app.map((x) => x.ms)), cell(gor.map((x) => x.ms)), '–', '', ''],
    ["(b) the app's JS heap, bytes per goroutine", cell(app.map((x) => x.app)), cell(gor.map((x) => x.app)), '–', '', ''],
    [
      '(a) + (b), bytes per goroutine', cell(appParts), cell(gor.map((x) => x.parts)), '–', '',
      appParts.length ? `≤ ${TARGET_BYTES_PER_G}: ${met(median(appParts) <= TARGET_BYTES_PER_G)}` : '',
    ],
    [
      '(c) RSS growth, bytes per goroutine (Go: MemStats.Sys growth)', cell(appRss), cell(gor.map((x) => x.rss)), goCell(goSys),
      ratio(appRss, goSys), appRss.length ? `≤ ${TARGET_BYTES_PER_G}: ${met(median(appRss) <= TARGET_BYTES_PER_G)}` : '',
    ],
    ['Go: stacks (StackInuse growth), bytes per goroutine', '', '', goCell(goPer.map((x) => x.stack)), '', ''],
    ['Go: heap (HeapInuse growth: g, sudog), bytes per goroutine', '', '', goCell(goPer.map((x) => x.heap)), '', ''],
    ['Go: RSS growth, bytes per goroutine', '', '', goCell(goPer.map((x) => x.rss)), '', ''],
    [
      'wake: close(c) until every goroutine has finished, ms', cell(wakeApp), cell(results.goroutine.map((r) => r.wakeMs)), goCell(wakeGo),
      ratio(wakeApp, wakeGo), wakeApp.length && wakeGo.length ? `≤ Go: ${met(median(wakeApp) <= median(wakeGo))}` : '',
    ],
    ['— of which close(c) on the app thread, ms', cell(results.app.map((r) => r.closeMs)), cell(results.goroutine.map((r) => r.closeMs)), '', '', ''],
    ['wake: close(c) until the app holds every result, ms', cell(results.app.map((r) => r.resultsMs)), '', '', '', ''],
  ]
  const table = [
    `| ${fmtInt(n)} goroutines parked on a receive, procs ${PROCS} | gort, from the app (\`rt.${APP_SPAWN}\`) | gort, from a goroutine (\`go()\`) | Go, GOMAXPROCS ${PROCS} | gort (app) ÷ Go | target |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ]
  if (failures.length > 0) notes.push(`part 1 did not fit at the full count: ${failures.join('; ')}`)
  const all = [...results.app, ...results.goroutine]
  if (all.length > 0) {
    const r0 = all[0]
    notes.push(
      `part 1: the G table is allocated for maxGoroutines up front (${fmtBytes(r0.gTableBytes)} of address space, ${r0.gRecordBytes} bytes a record); ` +
        'a record is counted for each live goroutine. Ms holding the parked goroutines: ' +
        all.map((r) => `${r.from} ${Object.entries(r.goroutinesByM).map(([m, k]) => `${m} ${fmtInt(k)}`).join(', ')}`).join('; '),
    )
    notes.push(
      `part 1, the app's synchronous rt.run loop took ${cell(results.app.map((r) => r.loopMs))} ms of the spawn; ` +
        `RSS growth in all (app variant): ${cell(results.app.map((r) => r.after.rss - r.before.rss), fmtBytes)}; ` +
        `full collections on every thread that the shared heap's pacer asked for during the spawn: ${cell(results.app.map((r) => r.gcRequests))} ` +
        `(from a goroutine: ${cell(results.goroutine.map((r) => r.gcRequests))})`,
    )
    const committed = (rs: ParkResult[]): string =>
      `Ms ${cell(rs.map((r) => msGrowth(r.before, r.after, 'msTotal') / r.n))}, app ${cell(rs.map((r) => (r.after.appTotal - r.before.appTotal) / r.n))}`
    notes.push(
      `part 1, growth of the JS heaps' committed size (V8's total_heap_size) per goroutine, part of the RSS beyond (a) + (b): ` +
        `from the app: ${committed(results.app)}; from a goroutine: ${committed(results.goroutine)}`,
    )
    const split = (rs: ParkResult[], which: 'spawnCpu' | 'wakeCpu', wall: 'spawnMs' | 'wakeMs'): string => {
      const xs = rs.filter((r) => r[which] !== undefined)
      if (xs.length === 0) return 'not measured (Linux only)'
      const f = (k: keyof CpuSplit): string => fmtInt(median(xs.map((r) => r[which]![k])))
      return `app ${f('app')}, Ms ${f('ms')}, other threads ${f('other')} ms of CPU in ${fmtInt(median(xs.map((r) => r[wall])))} ms`
    }
    notes.push(
      `part 1, where the CPU went (medians; "other threads" are V8's GC helpers, sysmon and libuv's): ` +
        `spawn from the app: ${split(results.app, 'spawnCpu', 'spawnMs')}; wake: ${split(results.app, 'wakeCpu', 'wakeMs')}; ` +
        `spawn from a goroutine: ${split(results.goroutine, 'spawnCpu', 'spawnMs')}; wake: ${split(results.goroutine, 'wakeCpu', 'wakeMs')}`,
    )
    notes.push(
      `part 1: other processes used ${neighbourList(results.app)} of ${os.cpus().length} cores during the runs from the app, ` +
        `${neighbourList(results.goroutine)} during those from a goroutine`,
    )
    for (const r of all) if (r.snapshots) notes.push(`part 1, heap snapshots (${r.from}): ${r.snapshots.join(', ')}`)
  }
  if (goRuns.length > 0) notes.push(`Go: ${goRuns.length} runs of benchmarks/go/scale (one process each), ${goAvailable()}`)
  raw.park = { n, failures, gort: results, go: goRuns }
  const goName = `Go, GOMAXPROCS ${PROCS}`
  const bpg = 'bytes/goroutine'
  const comparisons: Comparison[] = [
    ...vsGo(`${fmtInt(n)} parked: spawn until all are parked (from the app)`, 'ms', results.app.map((r) => r.spawnMs), goRuns.map((g) => g.spawnMs), goName),
    ...vsGo(`${fmtInt(n)} parked: spawn until all are parked (from a goroutine)`, 'ms', results.goroutine.map((r) => r.spawnMs), goRuns.map((g) => g.spawnMs), goName),
    ...vsGo('memory: shared heap (G record + arena growth); Go: HeapInuse growth (g, sudog)', bpg, app.map((x) => x.gRecord + x.arena), goPer.map((x) => x.heap), 'Go HeapInuse'),
    ...vsGo("memory: JS heaps (the Ms' + the app's); Go: stacks (StackInuse growth)", bpg, app.map((x) => x.ms + x.app), goPer.map((x) => x.stack), 'Go StackInuse'),
    ...vsGo('memory: shared heap + JS heaps, in all; Go: HeapInuse + StackInuse', bpg, appParts, goPer.map((x) => x.heap + x.stack), 'Go HeapInuse + StackInuse', {
      text: `≤ ${TARGET_BYTES_PER_G} ${bpg}`, met: appParts.length > 0 && median(appParts) <= TARGET_BYTES_PER_G,
    }),
    ...vsGo('memory: RSS growth; Go: MemStats.Sys growth', bpg, appRss, goSys, 'Go Sys', {
      text: `≤ ${TARGET_BYTES_PER_G} ${bpg}`, met: appRss.length > 0 && median(appRss) <= TARGET_BYTES_PER_G,
    }),
    ...vsGo('memory: RSS growth; Go: RSS growth', bpg, appRss, goPer.map((x) => x.rss), 'Go RSS'),
    ...vsGo(`${fmtInt(n)} parked: wake, close(c) until every goroutine has finished (from the app)`, 'ms', wakeApp, wakeGo, goName,
      wakeGo.length === 0 ? undefined : { text: '≤ Go', met: wakeApp.length > 0 && median(wakeApp) <= median(wakeGo), ratio: 1 }),
  ]
  return { tables: [table], notes, comparisons }
}

async function chansPart(): Promise<PartReport> {
  const notes: string[] = []
  const caps = (process.env.SCALE_CHAN_CAPS || '0').split(',').map(Number)
  const lines = [
    `| ${fmtInt(NCHANS)} live channels | made on | shared heap, bytes per channel | JS heap of that thread, bytes per channel | in all | Go: heap growth (HeapAlloc), bytes per channel | gort ÷ Go | ns per chan() (Go: make) |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  const all: ChansResult[] = []
  const goAll: GoChans[] = []
  const comparisons: Comparison[] = []
  for (const cap of caps) {
    const goRuns: GoChans[] = []
    let goError: string | undefined
    const byWhere: Record<'app' | 'goroutine', ChansResult[]> = { app: [], goroutine: [] }
    // Round by round: Go, then gort made on the app, then in a goroutine.
    for (let run = 0; run < RUNS; run++) {
      if (goError === undefined) {
        const g = await runGoScale<GoChans>(['-mode', 'chans', '-n', String(NCHANS), '-cap', String(cap)])
        if ('ok' in g) {
          goRuns.push(g.ok)
          goAll.push(g.ok)
        } else goError = g.error
      }
      for (const where of ['app', 'goroutine'] as const) {
        const r = await runChild<ChansResult>(['chans', NCHANS, cap, where], TIMEOUT_S)
        if ('ok' in r) byWhere[where].push(r.ok)
        else notes.push(`part 2, ${where}, capacity ${cap}: ${r.error}`)
      }
    }
    const goB = goRuns.map((g) => (g.after.heapAlloc - g.before.heapAlloc) / g.n)
    const goNs = goRuns.map((g) => (g.makeMs * 1e6) / g.n)
    for (const where of ['app', 'goroutine'] as const) {
      const rs = byWhere[where]
      const shared = rs.map((r) => (r.after.arena - r.before.arena) / r.n)
      const js = rs.map((r) => (where === 'app' ? r.after.appHeap - r.before.appHeap : msGrowth(r.before, r.after)) / r.n)
      const total = rs.map((_, i) => shared[i] + js[i])
      lines.push(
        `| capacity ${cap} | ${where === 'app' ? 'the app thread' : 'a goroutine (its M)'} | ${cell(shared)} | ${cell(js)} | ${cell(total)} | ` +
          `${goError !== undefined && goB.length === 0 ? goError : cell(goB)} | ${total.length && goB.length ? fmtRatio(median(total) / median(goB)) : '–'} | ` +
          `${cell(rs.map((r) => (r.makeMs * 1e6) / r.n))} (Go ${goNs.length ? fmtInt(median(goNs)) : '–'}) |`,
      )
      all.push(...rs)
      comparisons.push(...vsGo(`${fmtInt(NCHANS)} channels of capacity ${cap}, made on ${where === 'app' ? 'the app thread' : 'a goroutine'}: memory in all`, 'bytes/channel', total, goB, 'Go HeapAlloc'))
    }
  }
  if (all.length > 0) notes.push(`part 2: other processes used ${neighbourList(all)} of ${os.cpus().length} cores during the runs`)
  notes.push('part 2: both sides hold the channels in an array (8 bytes a slot in either language), which is in the figures')
  raw.chans = { gort: all, go: goAll }
  return { tables: [lines], notes, comparisons }
}

async function soakPart(): Promise<PartReport> {
  const r = await runChild<SoakResult>(['soak', SOAK_SECONDS, SOAK_INFLIGHT], SOAK_SECONDS + TIMEOUT_S)
  if ('error' in r) {
    const got = (r.out ?? '').split('\n').filter((x) => x.startsWith(SAMPLE_PREFIX)).map((x) => JSON.parse(x.slice(SAMPLE_PREFIX.length)) as SoakSample)
    const last = got[got.length - 1]
    const far = last === undefined ? 'no sample came' : `its last sample came ${last.t.toFixed(1)} s in, after ${fmtInt(last.done)} goroutines (RSS ${fmtBytes(last.rss)})`
    return { tables: [], notes: [`part 3 (soak) failed: ${r.error}; ${far}`] }
  }
  const s = r.ok
  raw.soak = s
  const xs = s.samples.map((x) => x.t)
  const half = s.samples.filter((x) => x.t >= s.seconds / 2)
  const series: Array<[string, (x: SoakSample) => number, (m: MemPoint) => number]> = [
    ['RSS', (x) => x.rss, (m) => m.rss],
    ['shared heap: arena in use', (x) => x.arena, (m) => m.arena],
    ["app's JS heap (used)", (x) => x.appHeap, (m) => m.appHeap],
  ]
  const lines = [
    `| ${s.seconds} s soak, ${fmtInt(s.inflight)} in flight | first → last sample | slope, all samples (bytes/s) | slope, second half (bytes/s) | after a full collection: start → end |`,
    '| --- | ---: | ---: | ---: | ---: |',
  ]
  for (const [name, get, getM] of series) {
    const ys = s.samples.map(get)
    lines.push(
      `| ${name} | ${fmtBytes(ys[0])} → ${fmtBytes(ys[ys.length - 1])} | ${fmtInt(slope(xs, ys))} | ${fmtInt(slope(half.map((x) => x.t), half.map(get)))} | ` +
        `${fmtBytes(getM(s.start))} → ${fmtBytes(getM(s.end))} |`,
    )
  }
  // The Ms that were there at the start, and those started during the soak (sysmon keeps a spare M).
  const first = Object.keys(s.start.ms)
  const sum = (m: MemPoint, ids: string[]): number => ids.reduce((a, t) => a + (m.ms[t] ?? 0), 0)
  const added = Object.keys(s.end.ms).filter((t) => !first.includes(t))
  lines.push(
    `| the Ms' JS heaps (used, sum) | | | | ${fmtBytes(sum(s.start, first))} → ${fmtBytes(sum(s.end, first))} (the ${first.length} Ms of the start)` +
      `${added.length > 0 ? `; + ${fmtBytes(sum(s.end, added))} in ${added.length} M${added.length > 1 ? 's' : ''} started during the soak` : ''} |`,
  )
  const rate = s.goroutines / s.seconds
  const comparisons: Comparison[] = series.map(([name, get]) => ({
    area: 'scale', workload: `soak (${s.seconds} s, ${fmtInt(s.inflight)} in flight): ${name}, slope over the second half`, unit: 'bytes/s', better: 'lower',
    gort: slope(half.map((x) => x.t), half.map(get)),
  }))
  return {
    comparisons,
    tables: [lines],
    notes: [
      `part 3: ${fmtInt(s.goroutines)} goroutines in ${s.seconds} s (${fmtInt(rate)}/s), ${s.samples.length} samples, ` +
        `${s.gcRequests} collections asked for by the pacer, ${s.msAtEnd} Ms at the end; ${s.neighbours}`,
    ],
  }
}

export const scaleSuite: Suite = {
  name: 'scale',
  description:
    `${fmtInt(N)} parked goroutines, ${fmtInt(NCHANS)} live channels and a ${SOAK_SECONDS} s soak: memory and time, against Go ` +
    `(${RUNS} runs each, one child process per run)`,
  async run(): Promise<SuiteResult> {
    const tables: string[][] = []
    const notes: string[] = []
    const comparisons: Comparison[] = []
    for (const [part, fn] of [['park', parkPart], ['chans', chansPart], ['soak', soakPart]] as const) {
      if (!PARTS.has(part)) continue
      const p = await fn()
      tables.push(...p.tables)
      notes.push(...p.notes)
      comparisons.push(...(p.comparisons ?? []))
    }
    if (goBinary !== undefined && 'ok' in goBinary) {
      rmSync(goBinary.ok, { force: true })
    }
    if (process.env.SCALE_JSON) writeFileSync(process.env.SCALE_JSON, JSON.stringify(raw, null, 1))
    return {
      suite: 'scale',
      rows: [],
      tables,
      comparisons,
      notes: [
        'each figure: the median of the runs, the runs in brackets; every run is a fresh process; ' +
          'memory is read after a full collection on every thread (the Ms answer a probe, see scalegoroutines.ts)',
        ...notes,
      ],
    }
  },
}

// Run as a child: `node scale.js child <mode> ...`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'child') {
  try {
    await childMain(process.argv.slice(3))
    process.exit(0)
  } catch (e) {
    process.stderr.write(`scale child: ${(e as Error)?.stack ?? String(e)}\n`)
    process.exit(1)
  }
}
