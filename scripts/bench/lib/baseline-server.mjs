// The read-path baseline: a bare node:http server answering Inkwell's exact response bytes
// from a Map (no framework, no database, no logging). Plain JavaScript, run without tsx.
//   node baseline-server.mjs <responses.json> <port>
import { readFileSync } from "node:fs"
import { createServer } from "node:http"

const [file, port] = process.argv.slice(2)
const data = JSON.parse(readFileSync(file, "utf8"))
const answers = new Map()
for (const [path, body, etag] of data.posts) answers.set(path, { body: Buffer.from(body), etag })
answers.set(data.list[0], { body: Buffer.from(data.list[1]), etag: undefined })

const notFound = Buffer.from('{"_tag":"RouteNotFound"}')
createServer((req, res) => {
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
