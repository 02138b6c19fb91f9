// One request log line per request: buffered lines joined and written with one writeSync per
// 40 lines (what Logging.BufferedWriter does), against lines encoded into a Buffer as they come,
// a latin1 write, and string concatenation; to /dev/null. Prints µs per line.
//   node scripts/experiments/log-write-variants.mjs
import { openSync, writeSync } from "node:fs"
import { randomUUID } from "node:crypto"
const fd = openSync("/dev/null", "w")
const N = 400000, PER = 40
const mk = (i) => `timestamp=2026-12-06T10:00:00.${String(i%1000).padStart(3,"0")}Z level=INFO fiber= message="GET /posts/post-${i%10000} 200" method=GET path=/posts/post-${i%10000} status=200 durationMs=0.0${i%10} requestId=${randomUUID()}`
function A() {
  let lines = []
  for (let i = 0; i < N; i++) { lines.push(mk(i)); if (lines.length === PER) { writeSync(fd, lines.join("\n") + "\n"); lines = [] } }
}
function B() {
  let buf = Buffer.allocUnsafe(256 * 1024), start = 0, off = 0, n = 0
  for (let i = 0; i < N; i++) {
    const s = mk(i)
    if (buf.length - off < s.length * 3 + 1) { buf = Buffer.allocUnsafe(256 * 1024); start = off = 0 }
    off += buf.utf8Write(s, off); buf[off++] = 10
    if (++n === PER) { writeSync(fd, buf, start, off - start); start = off; n = 0 }
  }
}
function C() { for (let i = 0; i < N; i++) mk(i) }
for (let r = 0; r < 4; r++) for (const [name, f] of [["join", A], ["buf", B], ["fmt-only", C]]) {
  const t = performance.now(); f(); console.log(r, name, ((performance.now() - t) * 1000 / N).toFixed(3), "µs/line")
}
function D() {
  let lines = []
  for (let i = 0; i < N; i++) { lines.push(mk(i)); if (lines.length === PER) { writeSync(fd, lines.join("\n") + "\n", null, "latin1"); lines = [] } }
}
function E() {
  let acc = ""; let n = 0
  for (let i = 0; i < N; i++) { acc += mk(i) + "\n"; if (++n === PER) { writeSync(fd, acc); acc = ""; n = 0 } }
}
for (let r = 0; r < 3; r++) for (const [name, f] of [["join", A], ["latin1", D], ["concat", E]]) {
  const t = performance.now(); f(); console.log(r, name, ((performance.now() - t) * 1000 / N).toFixed(3), "µs/line")
}
