// autocannon in its own process (the brief's fallback when wrk is not installed).
//   node autocannon-run.mjs '<json options>'   → one JSON line on stdout
import autocannon from "autocannon"
import { readFileSync } from "node:fs"

const options = JSON.parse(process.argv[2])
const paths = JSON.parse(readFileSync(options.pathsFile, "utf8"))
const result = await autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.duration,
  timeout: 5,
  requests: [{ setupRequest: (request) => ({ ...request, path: paths[Math.floor(Math.random() * paths.length)] }) }]
})
console.log(JSON.stringify({
  requests: result.requests.total,
  rps: result.requests.total / (result.duration || options.duration),
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  mean: result.latency.average,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx
}))
