#!/usr/bin/env node
// Runs src/bin.ts through tsx in a child process, so `npx inkwell ...` works in the repository
// without a build. Signals are forwarded and the child's exit code (or signal) is passed on.
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const tsx = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href
const child = spawn(process.execPath, ["--import", tsx, join(root, "src", "bin.ts"), ...process.argv.slice(2)], {
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
