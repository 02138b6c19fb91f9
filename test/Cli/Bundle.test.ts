/**
 * bin/build.js: the launcher runs a bundle of the CLI, not the sources through tsx. The CLI tests
 * would still pass through the tsx fallback if bundling broke; these check the bundle itself.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Effect } from "effect"

const root = join(import.meta.dirname, "..", "..")

/** What `bundledCli(forRoot)` answers ("" for undefined: the launcher falls back to tsx). */
const bundlePath = (forRoot = root) =>
  execFileSync(
    process.execPath,
    ["--input-type=module", "-e", `import { bundledCli } from "./bin/build.js"; console.log(await bundledCli(process.argv[1]) ?? "")`, forRoot],
    { cwd: root, encoding: "utf8" }
  ).trim()

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

  it.effect("answers nothing, rather than failing, when it cannot write its cache (the launcher then uses tsx)", () =>
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "inkwell-bundle-"))
      try {
        mkdirSync(join(dir, "src"))
        writeFileSync(join(dir, "src", "bin.ts"), "export {}\n")
        // A file where the cache's parent directory should be: mkdir fails (ENOTDIR), as it
        // would for a node_modules the user may not write to.
        writeFileSync(join(dir, "node_modules"), "")
        assert.strictEqual(bundlePath(dir), "")
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }), 60_000)
})
