// The read-path baseline: a bare node:http server answering Inkwell's exact response bytes
// from a Map (no framework, no database, no logging). Plain JavaScript, run without tsx.
//   node baseline-server.mjs <responses.json> <port>
// With BUSY_US in the environment it first spins that many microseconds of CPU per request: a
// bare server as costly per request as Inkwell's full path, to calibrate what the load generator
// reports (latency percentiles) at that throughput, whatever the framework.
import { readFileSync } from "node:fs"
import { createServer } from "node:http"

const [file, port] = process.argv.slice(2)
const data = JSON.parse(readFileSync(file, "utf8"))
const answers = new Map()
for (const [path, body, etag] of data.posts) answers.set(path, { body: Buffer.from(body), etag })
answers.set(data.list[0], { body: Buffer.from(data.list[1]), etag: undefined })

const notFound = Buffer.from('{"_tag":"RouteNotFound"}')
const busyMs = Number(process.env.BUSY_US ?? 0) / 1000
createServer((req, res) => {
  if (busyMs > 0) {
    const until = performance.now() + busyMs
    while (performance.now() < until);
  }
  const answer = answers.get(req.url)
  if (answer === undefined) {
    res.writeHead(404, { "content-type": "application/json", "content-length": notFound.length })
    res.end(notFound)
    return
  }
  const headers = { "content-type": "application/json", "content-length": answer.body.length }
  if (answer.etag !== undefined) headers.etag = answer.etag
  res.writeHead(200, headers)
  res.end(answer.body)
}).listen(Number(port), "127.0.0.1", () => console.log(`listening ${port}`))
