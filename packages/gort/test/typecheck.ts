// Type-level assertions: a file that uses them compiles (pnpm build:test)
// only while the types they state hold.

/** true exactly when A and B are the same type (not merely assignable either way). */
export type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false

/** Compiles only when T is true: expectType<Equal<typeof x, number>>(). Does nothing at run time. */
export function expectType<T extends true>(): void {
  void (0 as unknown as T)
}
