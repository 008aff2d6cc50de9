// sysmon: schedtrace, goroutine dumps, deadlock detection, its idle sleep
// (issue 5). The latency tests (preemption, retake) are in timing/.

import test from 'ava'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Mutex, Runtime, WaitGroup, chan } from 'gort'
import { hogs } from './fixtures/hogs.js'
import { withRuntime } from './helpers.js'

/**
 * Waits until n goroutines are parked (a fresh M may take a while to import
 * their module); after 10 s, fails with the runtime's state and dump.
 */
async function parked(rt: Runtime, n: number): Promise<void> {
  const end = Date.now() + 10_000
  while (rt.stats().byStatus.waiting < n) {
    if (Date.now() > end) {
      throw new Error(`parked: ${rt.stats().byStatus.waiting} of ${n} goroutines parked after 10 s\n${JSON.stringify(rt.stats())}\n${rt.dump()}`)
    }
    await new Promise((r) => setTimeout(r, 10))
  }
}

test.serial('schedtrace lines parse with Go\'s format; scheddetail adds P, M and G lines', async (t) => {
  await withRuntime(t, 2, 30_000, async (rt) => {
    const line = rt.schedtrace()
    t.regex(line, /^SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ idlethreads=\d+ runqueue=\d+ \[\d+ \d+\]\n$/)
    const c = chan<number>(0)
    const g = rt.run(hogs.waitRecv, c)
    await parked(rt, 1)
    const detail = rt.schedtrace({ detail: true })
    t.regex(detail, /^ {2}P0: status=\d+ schedtick=\d+ syscalltick=\d+ m=-?\d+ runqsize=\d+ gfreecnt=\d+ timerslen=\d+$/m)
    t.regex(detail, /^ {2}M0: p=-?\d+ curg=-?\d+ mallocing=0 throwing=0 preemptoff= locks=0 dying=\d spinning=(true|false) blocked=(true|false) lockedg=-1$/m)
    t.regex(detail, /^ {2}G\d+: status=4\(chan receive\) m=\d+ lockedm=-1$/m)
    c.close()
    await g
  })
})

test.serial('GODEBUG=schedtrace=100 prints SCHED lines from sysmon', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/schedtrace-main.js', import.meta.url))
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [script], { env: { ...process.env, GODEBUG: 'schedtrace=100' }, timeout: 20_000 }, (e, stdout) => {
      if (e) reject(e)
      else resolve(stdout)
    })
  })
  const lines = out.split('\n').filter((x) => x.startsWith('SCHED'))
  t.true(lines.length >= 3, out)
  for (const l of lines) t.regex(l, /^SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ idlethreads=\d+ runqueue=\d+ \[\d+ \d+\]$/)
})

test.serial('rt.dump() names every wait as Go does', async (t) => {
  await withRuntime(t, 2, 30_000, async (rt) => {
    const c = chan<number>(0)
    const d = chan<number>(0)
    const a = chan<number>(0)
    const b = chan<number>(0)
    const mu = new Mutex()
    await mu.lock()
    const wg = new WaitGroup()
    wg.add(1)
    const gs = [
      rt.run(hogs.waitRecv, c), rt.run(hogs.waitSend, d), rt.run(hogs.waitSelect, a, b), rt.run(hogs.waitSleep, 400),
      rt.run(hogs.waitMutex, mu), rt.run(hogs.waitGroup, wg), rt.run(hogs.waitIO, 400),
    ]
    await parked(rt, 7)
    const dump = rt.dump()
    for (const reason of ['chan receive', 'chan send', 'select', 'sleep', 'sync.Mutex.Lock', 'sync.WaitGroup.Wait', 'IO wait']) {
      t.regex(dump, new RegExp(`^goroutine \\d+ \\[${reason.replace('.', '\\.')}\\]:\\nwait\\w+\\(\\.\\.\\.\\)\\n\\tfile:.*hogs\\.js on M\\d+$`, 'm'), reason)
    }
    // Release them all.
    c.close()
    void d.recv()
    a.close()
    mu.unlock()
    wg.done()
    await Promise.all(gs)
  })
})

test.serial('deadlock: embedded, the runtime emits \'deadlock\' with the dump', async (t) => {
  await withRuntime(t, 1, 30_000, async (rt) => {
    const dump = new Promise<string>((r) => rt.once('deadlock', r))
    const c = chan<number>(0)
    const g = rt.run(hogs.waitRecv, c)
    const d = await dump
    t.regex(d, /^goroutine \d+ \[chan receive\]:/m)
    c.close()
    await g
  })
})

test.serial('deadlock: run as main, Go\'s fatal error and exit status 2', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/deadlock-main.js', import.meta.url))
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [script], { timeout: 20_000 }, (_e, _out, stderr) => resolve({ code: child.exitCode, stderr }))
  })
  t.is(r.code, 2)
  t.regex(r.stderr, /^fatal error: all goroutines are asleep - deadlock!\n\ngoroutine \d+ \[chan receive\]:\nstuck\(\.\.\.\)/)
  t.is(r.stderr.match(/^goroutine /gm)?.length, 2, 'both goroutines are in the dump')
})

test.serial('sysmon sleeps on its note while the runtime idles', async (t) => {
  await withRuntime(t, 2, 30_000, async (rt) => {
    await rt.run(hogs.stamp)
    // sysmon starts with the first work: the view waits until it is up.
    await rt.sysmonView()
    await new Promise((r) => setTimeout(r, 300))
    const s1 = rt.stats().sysmon
    await new Promise((r) => setTimeout(r, 500))
    const s2 = rt.stats().sysmon
    t.true(s1.waitingOnNote && s2.waitingOnNote, 'sysmon waits on sched.sysmonnote')
    t.true(s2.loops - s1.loops <= 2, `sysmon looped ${s2.loops - s1.loops} times in 500 ms of idling`)
  })
})

void Runtime

test.serial('idle Ms beyond the spare retire after the idle timeout; their records are reused when work returns', async (t) => {
  await withRuntime(t, 2, 30_000, async (rt) => {
    await Promise.all(Array.from({ length: 20 }, () => rt.run(hogs.stamp)))
    const started = rt.stats().ms.length
    let retired = 0
    for (let i = 0; i < 100 && retired === 0; i++) {
      await new Promise((r) => setTimeout(r, 50))
      retired = rt.stats().ms.filter((m) => m.state === 'retired').length
    }
    const states = rt.stats().ms.map((m) => m.state)
    t.log(`after idling: ${states.join(' ')}`)
    t.true(retired >= 1, 'an idle M retired')
    t.true(states.includes('idle'), 'a spare stays')
    // Work again: everything runs; new Ms take the retired records before new ones.
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => rt.run(hogs.work, i)))
    t.deepEqual(ids, Array.from({ length: 200 }, (_, i) => i), 'each of the 200 ran once, with its own argument')
    await new Promise((r) => setTimeout(r, 200))
    t.true(rt.stats().ms.length <= started + 1, `M records: ${rt.stats().ms.length}, ${started} before`)
  }, { mIdleTimeoutMs: 300 })
})

test.serial('the control plane (comlink to sysmon): sysmonView() while a goroutine runs long, setGodebug() at run time', async (t) => {
  await withRuntime(t, 1, 30_000, async (rt) => {
    // sysmon starts with the first work, or for a control request: have
    // it watch before the hog starts, or it may boot after the hog ended.
    await rt.sysmonView()
    const hog = rt.run(hogs.yielder, 300)
    await new Promise((r) => setTimeout(r, 100))
    const v = await rt.sysmonView()
    t.log(JSON.stringify(v))
    t.is(v.ps.length, 1)
    t.true(v.delayMicros <= 10_000, `sysmon sleeps ${v.delayMicros} µs between looks`)
    // How long the schedtick has stood still is a wall-clock figure: a
    // slice is 10 ms of the thread's own time (sysmon.ts overrun), which on
    // a loaded machine can be much longer than 10 ms of wall-clock time.
    t.true(v.ps[0].sinceSchedtickMs >= 0, 'sysmon reports how long the schedtick has stood still')
    await hog
    t.true(rt.stats().sysmon.preemptions > 0, 'the yielder was preempted')
    await rt.setGodebug('schedtrace=50')
    t.is((await rt.sysmonView()).schedtrace, 50)
    await rt.setGodebug('')
    t.is((await rt.sysmonView()).schedtrace, 0)
  })
})
