#!/usr/bin/env node
// Runs the CLI in a child process, so `npx inkwell ...` works in the repository without a build
// step: src/bin.ts bundled on first use (bin/build.js; rebuilt when the sources change), or run
// through tsx should bundling be impossible. Signals are forwarded and the child's exit code (or
// signal) is passed on.
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { builtInOptions } from "../src/Cli/builtInOptions.js"
import { bundledCli } from "./build.js"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)

// `import` renders and writes on one thread with a small live set (the posts in flight, two
// bounded queues, one batch) but allocates fast (markdown-it, sanitize-html, JSON): left to its
// defaults V8 grows the heap lazily under that churn, ~500 MB of RSS whatever the input's size.
// A capped old space keeps an import of any size near 200 MB bundled (the code itself is ~130 MB
// of it), for some throughput spent in extra collections (measured: BENCHMARKS.md). An explicit
// --max-old-space-size in NODE_OPTIONS wins.
const importHeapFlags = ["--max-old-space-size=192"]
// `inkwell --log-level debug import ...` is an import too: a value of @effect/cli's options
// given before the command is not the command.
const takesValue = new Set(builtInOptions.filter((option) => option.values !== undefined).map((option) => option.name))
const command = args.find((arg, i) => !arg.startsWith("-") && !takesValue.has(args[i - 1]))
const heapFlags = command === "import" && !/--max-old-space-size/.test(process.env.NODE_OPTIONS ?? "") ? importHeapFlags : []

const bundle = await bundledCli(root)
const entry = bundle !== undefined
  ? [bundle]
  : ["--import", pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href, join(root, "src", "bin.ts")]

// The IPC channel carries the signals this process gets (below). INKWELL_WRAPPER tells the CLI it
// is this wrapper's: only then is its channel closing this process's death (src/bin.ts).
const child = spawn(process.execPath, [...heapFlags, ...entry, ...args], {
  stdio: ["inherit", "inherit", "inherit", "ipc"],
  env: { ...process.env, INKWELL_WRAPPER: "1" }
})

const signals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }
const relayed = new Set(["SIGINT", "SIGTERM"])
for (const signal of Object.keys(signals)) {
  // A terminal's Ctrl-C reaches the whole process group, child included, and `kill <pid>` only
  // this process: there is no telling which. So SIGINT and SIGTERM are relayed as messages, which
  // the CLI counts apart from the signals it gets itself (one press seen twice is one, not the
  // "second signal" that exits at once); others, and any once the channel is gone, as signals.
  process.on(signal, () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    if (relayed.has(signal) && child.connected) {
      child.send({ inkwellSignal: signal }, (error) => {
        if (error && child.exitCode === null && child.signalCode === null) child.kill(signal)
      })
    } else {
      child.kill(signal)
    }
  })
}

child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal !== null ? (signals[signal] ?? 1) : 1)
})
child.on("error", (error) => {
  console.error(`inkwell: cannot start: ${error.message}`)
  process.exitCode = 1
})
