// The task of the worker pools (piscina, tinypool): the same trivial
// function as the goroutine bench.inc.

export default function inc(x: number): number {
  return x + 1
}
