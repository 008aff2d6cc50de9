// The job of the jobs suite for the worker pools: the same sum as the
// goroutine jobs.add. A pool task takes one value, so the two numbers
// travel as a pair.

export default function add(pair: [number, number]): number {
  return pair[0] + pair[1]
}

/** The same, also returning when it ran (performance.timeOrigin + now()), for scripts/job-split.mjs. */
export function stamped(pair: [number, number]): [number, number] {
  return [pair[0] + pair[1], performance.timeOrigin + performance.now()]
}
