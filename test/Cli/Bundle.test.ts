/**
 * bin/build.js: the launcher runs a bundle of the CLI, not the sources through tsx. The CLI tests
 * would still pass through the tsx fallback if bundling broke; these check the bundle itself.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { Effect } from "effect"

const root = join(import.meta.dirname, "..", "..")

const bundlePath = () =>
  execFileSync(process.execPath, ["--input-type=module", "-e", `import { bundledCli } from "./bin/build.js"; console.log(await bundledCli(process.cwd()) ?? "")`], {
    cwd: root,
    encoding: "utf8"
  }).trim()

describe("the bundled CLI", () => {
  it.effect("is built into node_modules/.cache with its render worker beside it, and runs", () =>
    Effect.sync(() => {
      const entry = bundlePath()
      assert.match(entry, /node_modules[/\\]\.cache[/\\]inkwell[/\\][0-9a-f]{16}[/\\]bin\.js$/)
      assert.isTrue(existsSync(join(dirname(entry), "RenderWorker.js")), "RenderPool loads ./RenderWorker.js next to itself")
      const help = execFileSync(process.execPath, [entry, "import", "--help"], { cwd: root, encoding: "utf8" })
      assert.include(help, "--item-timeout")
      // Same sources, same build: a second launch reuses it.
      assert.strictEqual(bundlePath(), entry)
    }), 60_000)
})
