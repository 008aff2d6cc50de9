// The job of the jobs suite for the worker pools: the same sum as the
// goroutine jobs.add. A pool task takes one value, so the two numbers
// travel as a pair.

export default function add(pair: [number, number]): number {
  return pair[0] + pair[1]
}
