#!/usr/bin/env node
// Runs src/bin.ts through tsx in a child process, so `npx inkwell ...` works in the repository
// without a build. Signals are forwarded and the child's exit code (or signal) is passed on.
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href
const args = process.argv.slice(2)

// `import` renders and writes on one thread with a small live set (the posts in flight, two
// bounded queues, one batch) but allocates fast (markdown-it, sanitize-html, JSON): left to its
// defaults V8 grows the heap lazily under that churn, ~500 MB of RSS whatever the input's size.
// A 128 MB old space keeps an import of any size near 300 MB, for 5–20% of throughput spent in
// extra collections (measured: BENCHMARKS.md, notes/BENCHMARKS-session2-import.md). An explicit
// --max-old-space-size in NODE_OPTIONS wins.
const importHeapFlags = ["--max-old-space-size=128"]
const command = args.find((arg) => !arg.startsWith("-"))
const heapFlags = command === "import" && !/--max-old-space-size/.test(process.env.NODE_OPTIONS ?? "") ? importHeapFlags : []

const child = spawn(process.execPath, [...heapFlags, "--import", tsx, join(root, "src", "bin.ts"), ...args], {
  stdio: "inherit"
})

const signals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }
for (const signal of Object.keys(signals)) {
  // A terminal's Ctrl-C reaches the whole process group, child included; forward only signals
  // sent to this process alone (kill <pid>), which the child would otherwise never see.
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  })
}

child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal !== null ? (signals[signal] ?? 1) : 1)
})
child.on("error", (error) => {
  console.error(`inkwell: cannot start: ${error.message}`)
  process.exitCode = 1
})
