/**
 * How the CLI ends once its terminal hung up (src/Cli/hangup.js): by SIGHUP, as the signal's
 * default would, but with the 'exit' listeners run first (an export's temporary file is removed
 * by one: Domain/removeAtExit.ts). Node's own exit aborts there, and SIGHUP's default runs none.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const hangup = fileURLToPath(new URL("../../src/Cli/hangup.js", import.meta.url))

/** Runs `body` in a plain Node process with hangup.js's exports in scope; an exit listener writes the code it was given. */
const run = (body: string) => {
  const dir = mkdtempSync(join(tmpdir(), "inkwell-hangup-"))
  const marker = join(dir, "exit-listener-ran")
  try {
    const script = [
      `const { endByHangup, exitNow } = await import(${JSON.stringify(hangup)})`,
      `const { writeFileSync } = await import("node:fs")`,
      `process.on("exit", (code) => writeFileSync(${JSON.stringify(marker)}, String(code)))`,
      body
    ].join("\n")
    // Pipes, not a terminal: `terminalHungUp()` is false here, whatever the test runner's streams are.
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { stdio: "pipe", encoding: "utf8", timeout: 20_000 })
    return { status: result.status, signal: result.signal, listener: existsSync(marker) ? readFileSync(marker, "utf8") : undefined }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe("hangup.js", () => {
  it("endByHangup ends the process by SIGHUP after its exit listeners ran (told 129, what a shell reports)", () => {
    // A SIGHUP listener of the process's own (the CLI's stop) must not catch the last one.
    const ended = run(`process.on("SIGHUP", () => {}); endByHangup(); setTimeout(() => {}, 10_000)`)
    assert.deepStrictEqual(ended, { status: null, signal: "SIGHUP", listener: "129" })
  })

  it("exitNow exits with its code while no terminal hung up", () => {
    assert.deepStrictEqual(run(`exitNow(130)`), { status: 130, signal: null, listener: "130" })
  })
})
