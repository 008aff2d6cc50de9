// The scheduler's raw words, as one plain object: what rt.stats() sums up,
// plus the counts and flags a lost wake-up shows in (nmspinning against each
// M's spinning flag, the idle lists, M.sleep, M.nextp, M.loading). For
// watchdogs of stress tests and diagnosis scripts; it reads without locks,
// so a busy runtime's words may disagree with each other.

import type { SharedHeap } from './heap.js'
import {
  mbase, pbase, schedw,
  M_CURG, M_LOADING, M_NEXTP, M_NGS, M_P, M_READYQ, M_SLEEP, M_SPINNING, M_STATE, M_WANTP,
  P_M, P_RUNNEXT, P_RUNQHEAD, P_RUNQTAIL, P_STATUS,
  SCHED_GCOUNT, SCHED_GOMAXPROCS, SCHED_INJECTN, SCHED_MNEXT, SCHED_NEEDSPINNING, SCHED_NMIDLE, SCHED_NMSPINNING,
  SCHED_NMWANT, SCHED_NPIDLE, SCHED_RUNQSIZE, SCHED_SYSMONSLEEPUS, SCHED_SYSMONWAIT,
} from './layout.js'

export interface SchedWords {
  nmspinning: number; needspinning: number; npidle: number; nmidle: number; nmwant: number
  runqsize: number; injectn: number; gcount: number; sysmonwait: number; sysmonsleepus: number
  ps: Array<{ p: number; status: number; m: number; runnext: number; runq: number }>
  ms: Array<{ m: number; state: number; p: number; nextp: number; wantp: number; spinning: number; sleep: number; readyq: number; ngs: number; loading: number; curg: number }>
}

/** Reads the scheduler's words of heap h. Any thread. */
export function schedwords(h: SharedHeap): SchedWords {
  const m = h.i32
  const l = h.layout
  const s = (k: number): number => Atomics.load(m, schedw(l, k))
  const out: SchedWords = {
    nmspinning: s(SCHED_NMSPINNING), needspinning: s(SCHED_NEEDSPINNING), npidle: s(SCHED_NPIDLE),
    nmidle: s(SCHED_NMIDLE), nmwant: s(SCHED_NMWANT), runqsize: s(SCHED_RUNQSIZE), injectn: s(SCHED_INJECTN),
    gcount: s(SCHED_GCOUNT), sysmonwait: s(SCHED_SYSMONWAIT), sysmonsleepus: s(SCHED_SYSMONSLEEPUS),
    ps: [],
    ms: [],
  }
  for (let p = 0; p < s(SCHED_GOMAXPROCS); p++) {
    const b = pbase(l, p)
    const a = (k: number): number => Atomics.load(m, b + k)
    out.ps.push({ p, status: a(P_STATUS), m: a(P_M) - 1, runnext: a(P_RUNNEXT), runq: (a(P_RUNQTAIL) - a(P_RUNQHEAD)) | 0 })
  }
  for (let i = 0; i < s(SCHED_MNEXT); i++) {
    const b = mbase(l, i)
    const a = (k: number): number => Atomics.load(m, b + k)
    out.ms.push({
      m: i, state: a(M_STATE), p: a(M_P) - 1, nextp: a(M_NEXTP) - 1, wantp: a(M_WANTP), spinning: a(M_SPINNING),
      sleep: a(M_SLEEP), readyq: a(M_READYQ), ngs: a(M_NGS), loading: a(M_LOADING), curg: a(M_CURG),
    })
  }
  return out
}
