import { assert, describe, it } from "@effect/vitest"
import { optionsFirst } from "../../src/Cli/Cli.js"

const argv = (...rest: Array<string>) => ["node", "inkwell", ...rest]

describe("optionsFirst", () => {
  it("moves options given after the paths in front of them, with their values", () => {
    assert.deepStrictEqual(
      optionsFirst(argv("import", "./posts", "b.ndjson", "--batch-size", "50", "--dry-run", "--timeout=10m", "-")),
      argv("import", "--batch-size", "50", "--dry-run", "--timeout=10m", "./posts", "b.ndjson", "-")
    )
  })

  it("keeps flags without a value on their own, and `-` (stdin) as a path", () => {
    assert.deepStrictEqual(
      optionsFirst(argv("import", "-", "--fail-on-error", "a", "--concurrency", "4")),
      argv("import", "--fail-on-error", "--concurrency", "4", "-", "a")
    )
  })

  it("after `--` everything is a path, even what looks like an option", () => {
    assert.deepStrictEqual(
      optionsFirst(argv("import", "--buffer", "8", "--", "--odd-name", "x")),
      argv("import", "--buffer", "8", "--odd-name", "x")
    )
  })

  it("leaves top-level flags and an empty command line alone", () => {
    assert.deepStrictEqual(optionsFirst(argv("--version")), argv("--version"))
    assert.deepStrictEqual(optionsFirst(argv()), argv())
  })
})
