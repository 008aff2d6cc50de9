// The latency tests (test/timing): run after the others, one file at a
// time, so the clock they read is not shared with a dozen busy workers.
export default {
  files: ['test-dist/timing/*.test.js'],
  timeout: '3m',
  concurrency: 1,
  verbose: true,
}
