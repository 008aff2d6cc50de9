// TypeScript goroutine modules: the Ms register tsx's loader themselves.

import test from 'ava'
import { Runtime } from 'gort'

test('a .ts goroutine module runs on the Ms when tsx is installed', async (t) => {
  // The test's own thread needs tsx too, to import the module and register its functions.
  const { register } = (await import('tsx/esm/api')) as { register: () => unknown }
  register()
  const url = new URL('../test/fixtures-ts/tasks.ts', import.meta.url).href
  const { tsTasks } = (await import(url)) as typeof import('./fixtures-ts/tasks.js')
  const rt = await Runtime.start({ procs: 2 })
  try {
    t.is(await rt.run(tsTasks.add, { a: 40, b: 2 }), 42)
  } finally {
    await rt.close()
  }
})
