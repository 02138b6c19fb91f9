// Drives a server preloaded with count-ops.mjs: 300 warm-up reads of the seeded posts (one
// keep-alive connection, one at a time), then SIGUSR2, 2,000 reads, SIGUSR2 again.
//   node scripts/experiments/count-ops-drive.mjs http://127.0.0.1:<port> <server pid> <label>
import { readFileSync } from "node:fs"
const data = JSON.parse(readFileSync("/tmp/inkwell-bench/posts-10000.responses.json", "utf8"))
const paths = data.posts.map((p) => p[0]).slice(0, 2000)
const [url, pid, label] = process.argv.slice(2)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
for (const p of paths.slice(0, 300)) await (await fetch(url + p)).arrayBuffer()
await sleep(300)
process.kill(Number(pid), "SIGUSR2")
await sleep(300)
for (const p of paths) await (await fetch(url + p)).arrayBuffer()
await sleep(300)
process.kill(Number(pid), "SIGUSR2")
await sleep(300)
console.log(label, "done", paths.length)
