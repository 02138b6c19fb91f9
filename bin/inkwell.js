#!/usr/bin/env node
// Runs the CLI in a child process, so `npx inkwell ...` works in the repository without a build
// step: src/bin.ts bundled on first use (bin/build.js; rebuilt when the sources change), or run
// through tsx should bundling be impossible. Signals are forwarded and the child's exit code is
// passed on (128 + the signal's number, said on stderr, when a signal killed it).
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { constants } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { builtInOptions } from "../src/Cli/builtInOptions.js"
import { endByHangup, ignoreFailedStandardWrites, terminalHungUp } from "../src/Cli/hangup.js"
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

// A terminal that hangs up refuses writes: they are lost, not a crash of this process (src/Cli/hangup.js).
ignoreFailedStandardWrites()

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

// The CLI's stop signals (src/Cli/Signals.ts).
const signals = ["SIGINT", "SIGTERM", "SIGHUP"]
for (const signal of signals) {
  // A terminal's Ctrl-C (or its hangup) reaches the whole process group, child included, and
  // `kill <pid>` only this process: there is no telling which. So they are relayed as messages,
  // which the CLI counts apart from the signals it gets itself (one press seen twice is one, not
  // the "second signal" that exits at once); once the channel is gone, as signals.
  process.on(signal, () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    if (child.connected) {
      child.send({ inkwellSignal: signal }, (error) => {
        if (error && child.exitCode === null && child.signalCode === null) child.kill(signal)
      })
    } else {
      child.kill(signal)
    }
  })
}

// A CLI killed by a signal (it stops by itself on the stop signals, and exits with a code) said
// nothing of it: the kernel's OOM killer's SIGKILL was exit 1 and no word. As a shell reports it.
const killedBy = {
  SIGKILL: " (out of memory? the kernel's OOM killer sends it)",
  SIGABRT: " (out of memory? V8 aborts when its heap is full)",
  SIGSEGV: " (a crash)"
}
child.on("exit", (code, signal) => {
  // The terminal hung up: Node's own exit would abort on it (src/Cli/hangup.js), and there is no one to tell.
  if (terminalHungUp()) return endByHangup()
  if (code !== null) {
    process.exitCode = code
  } else if (signal !== null) {
    console.error(`inkwell: the command was killed by ${signal}${killedBy[signal] ?? ""}`)
    process.exitCode = 128 + (constants.signals[signal] ?? 0)
  } else {
    process.exitCode = 1
  }
})
child.on("error", (error) => {
  console.error(`inkwell: cannot start: ${error.message}`)
  process.exitCode = 1
})
