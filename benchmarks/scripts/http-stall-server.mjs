// The job server of http-stall.mjs: node:http, each request one
// `await rt.run(jobs.sha, id, 2000, 256)`. Answers its parent's 'state'
// (rt.stats() plus the scheduler's words) and 'quit' over IPC.
import http from 'node:http'
import { Runtime } from 'gort'
import { runtimeHeap, schedwords } from 'gort/internal'
import { jobs } from './http-jobs.mjs'

const rt = await Runtime.start({ procs: Number(process.argv[2] ?? 2) })
let id = 0
const srv = http.createServer(async (req, res) => {
  res.end(await rt.run(jobs.sha, id++, 2000, 256))
})
srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }))

process.on('message', (msg) => {
  if (msg === 'state') process.send({ stats: rt.stats(), sched: schedwords(runtimeHeap(rt)) })
  else if (msg === 'quit') srv.close(() => rt.close().then(() => process.exit(0)))
})
