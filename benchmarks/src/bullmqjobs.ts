// The bullmq suite's processor module (suites/bullmq.ts): loaded unchanged
// by gort/bullmq's Ms and by BullMQ's sandboxed worker threads, as a
// processor file (default export `(job) => result`, a plain function).
//
//   sha   a CPU-bound job: peers/pooltasks.ts's chain of `rounds` sha256
//         digests (about 1 ms by the suite's calibration);
//   tiny  n + 1: what is measured is the job's trip through BullMQ.

import { sha, type ShaTask } from './peers/pooltasks.js'

export interface BenchJob {
  name: string
  data: ShaTask & { n: number }
}

export default function run(job: BenchJob): string | number {
  return job.name === 'sha' ? sha(job.data) : job.data.n + 1
}
