// An M's young generation (newm.ts M_YOUNG_GENERATION_MB): held at V8's
// start size by default, so an allocation-heavy goroutine does not double
// it (and every scavenge pause with it); an app's own
// resourceLimits.maxYoungGenerationSizeMb wins.

import test from 'ava'
import { Runtime } from 'gort'
import { younggen } from './fixtures/younggen.js'

const MB = 2 ** 20

test('an M\'s new space stays at its start size through an allocation-heavy goroutine; the app\'s maxYoungGenerationSizeMb lets it grow', async (t) => {
  // 200,000 rounds: on Node 20 an M's new space doubled (4 to 8 MB) within
  // the first 100,000 without the cap, every time.
  for (const limits of [undefined, { maxYoungGenerationSizeMb: 48 }]) {
    const rt = await Runtime.start({ procs: 1, ...(limits !== undefined ? { resourceLimits: limits } : {}) })
    try {
      const [before, after] = await rt.run(younggen.digests, 200_000)
      t.log(`resourceLimits ${JSON.stringify(limits ?? {})}: new space ${before / MB} -> ${after / MB} MB`)
      if (limits === undefined) t.true(after <= 4 * MB, `new space ${after / MB} MB`)
      else t.true(after > 4 * MB, `new space ${after / MB} MB: the app's limit did not apply`)
    } finally {
      await rt.close()
    }
  }
})
