import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { optionsFirst } from "../../src/Cli/Cli.js"

const argv = (...rest: Array<string>) => ["node", "inkwell", ...rest]

const ok = (args: ReadonlyArray<string>) => {
  const result = optionsFirst(args)
  if (Either.isLeft(result)) assert.fail(result.left.message)
  return result.right
}

const usageError = (args: ReadonlyArray<string>) => {
  const result = optionsFirst(args)
  if (Either.isRight(result)) assert.fail(`accepted: ${result.right.join(" ")}`)
  return result.left.message
}

describe("optionsFirst", () => {
  it("moves options given after the paths in front of them, with their values", () => {
    assert.deepStrictEqual(
      ok(argv("import", "./posts", "b.ndjson", "--batch-size", "50", "--dry-run", "--timeout=10m", "-")),
      // `--name=value` is passed on as two tokens: @effect/cli reads a second `--from-url=b` as a path.
      argv("import", "--batch-size", "50", "--dry-run", "--timeout", "10m", "--", "./posts", "b.ndjson", "-")
    )
  })

  it("puts @effect/cli's own options before ours: after one of ours, it read them and all after them as paths", () => {
    assert.deepStrictEqual(
      ok(argv("import", "--from-url", "http://x/", "--log-level", "all", "--report", "f")),
      argv("import", "--log-level", "all", "--from-url", "http://x/", "--report", "f")
    )
    // Its flags too: `a.md --batch-size 5 --help` ran the import, `--help` one of its paths.
    assert.deepStrictEqual(ok(argv("import", "a.md", "--batch-size", "5", "--help")), argv("import", "--help", "--batch-size", "5", "--", "a.md"))
    assert.deepStrictEqual(ok(argv("export", "--output", "o", "--version")), argv("export", "--version", "--output", "o"))
  })

  it("keeps flags without a value on their own, and `-` (stdin) as a path", () => {
    assert.deepStrictEqual(
      ok(argv("import", "-", "--fail-on-error", "a", "--concurrency", "4")),
      argv("import", "--fail-on-error", "--concurrency", "4", "--", "-", "a")
    )
  })

  it("after `--` everything is a path, even what looks like an option", () => {
    assert.deepStrictEqual(
      ok(argv("import", "--buffer", "8", "--", "--odd-name", "x")),
      argv("import", "--buffer", "8", "--", "--odd-name", "x")
    )
  })

  it("leaves top-level flags and an empty command line alone", () => {
    assert.deepStrictEqual(ok(argv("--version")), argv("--version"))
    assert.deepStrictEqual(ok(argv()), argv())
    assert.deepStrictEqual(ok(argv("import", "--help")), argv("import", "--help"))
  })

  it("@effect/cli's options given before the subcommand are read as if given after it", () => {
    assert.deepStrictEqual(ok(argv("--log-level", "debug", "import", "dir")), argv("import", "--log-level", "debug", "--", "dir"))
    assert.deepStrictEqual(ok(argv("--log-level=warning", "serve")), argv("serve", "--log-level", "warning"))
    // Without a subcommand after them, @effect/cli answers as before.
    assert.deepStrictEqual(ok(argv("--log-level", "debug")), argv("--log-level", "debug"))
  })

  it("an option before the subcommand without its value: the subcommand is not taken for it", () => {
    assert.strictEqual(usageError(argv("--log-level", "import", "./posts")), "--log-level needs a value")
    assert.strictEqual(usageError(argv("--log-level", "serve")), "--log-level needs a value")
    assert.strictEqual(usageError(argv("--log-level", "debug", "--completions", "import", "dir")), "--completions needs a value")
    // A value that happens to be a subcommand's name, followed by the subcommand, is a bad value.
    assert.include(usageError(argv("--log-level", "import", "serve")), `--log-level: "import" is not a level`)
  })

  it("a flag given `=true` or `=false` (@effect/cli's words for yes and no, any case) is the flag or nothing; another value is refused", () => {
    assert.deepStrictEqual(ok(argv("import", "dir", "--dry-run=true")), argv("import", "--dry-run", "--", "dir"))
    assert.deepStrictEqual(ok(argv("import", "dir", "--dry-run=YES", "--fail-on-error=0")), argv("import", "--dry-run", "--", "dir"))
    assert.deepStrictEqual(ok(argv("import", "dir", "--dry-run=false")), argv("import", "--", "dir"))
    // Was passed on whole: @effect/cli read the flag and took "garbage" for a path, or `--dry-run=` for a path.
    assert.include(usageError(argv("import", "dir", "--dry-run=garbage")), `--dry-run takes no value, got "garbage"`)
    assert.include(usageError(argv("import", "--dry-run=", "dir")), `--dry-run takes no value, got ""`)
  })

  it("--log-level takes what LOG_LEVEL takes (warn, off, any case), passed on as @effect/cli's name", () => {
    assert.deepStrictEqual(ok(argv("--log-level", "warn", "import", "dir")), argv("import", "--log-level", "warning", "--", "dir"))
    assert.deepStrictEqual(ok(argv("serve", "--log-level=OFF")), argv("serve", "--log-level", "none"))
    assert.deepStrictEqual(ok(argv("export", "--log-level", "Info")), argv("export", "--log-level", "info"))
    assert.deepStrictEqual(ok(argv("export", "--log-level", "all")), argv("export", "--log-level", "all"))
    assert.include(usageError(argv("serve", "--log-level", "loud")), `--log-level: "loud" is not a level`)
    // Without a subcommand too: @effect/cli answers with its help, as for `info`, not "Invalid subcommand".
    assert.deepStrictEqual(ok(argv("--log-level", "WARN")), argv("--log-level", "warning"))
    assert.deepStrictEqual(ok(argv("--log-level=off", "--help")), argv("--log-level", "none", "--help"))
    assert.include(usageError(argv("--log-level", "loud")), `--log-level: "loud" is not a level`)
  })

  it("a flag given twice is refused as a valued option is, in any spelling (was: the second taken for a path, or @effect/cli's unknown argument)", () => {
    for (const args of [
      ["import", "--dry-run", "--dry-run", "./posts"],
      ["import", "./posts", "--dry-run", "--dry-run=false"],
      ["import", "--fail-on-error", "x", "--fail-on-error=true"],
      ["reprocess", "--dry-run", "--dry-run"]
    ]) {
      const flag = args.find((arg) => arg.startsWith("--"))!
      assert.strictEqual(usageError(argv(...args)), `${flag} is given more than once`, args.join(" "))
    }
    // Two flags, each once, and `--` paths that only look like one.
    assert.deepStrictEqual(
      ok(argv("import", "--dry-run", "--fail-on-error", "--", "--dry-run")),
      argv("import", "--dry-run", "--fail-on-error", "--", "--dry-run")
    )
  })

  it("refuses an unknown or misspelt option, suggesting the one meant", () => {
    assert.strictEqual(usageError(argv("import", "dir", "--dryrun")), "unknown option --dryrun (did you mean --dry-run?)")
    assert.strictEqual(usageError(argv("import", "dir", "--fail-on-errors")), "unknown option --fail-on-errors (did you mean --fail-on-error?)")
    assert.strictEqual(usageError(argv("import", "--on-conflit", "suffix", "dir")), "unknown option --on-conflit (did you mean --on-conflict?)")
    assert.strictEqual(usageError(argv("import", "dir", "--on-conflit=suffix")), "unknown option --on-conflit (did you mean --on-conflict?)")
    assert.strictEqual(usageError(argv("import", "dir", "--zzzzzzzz")), "unknown option --zzzzzzzz")
    assert.strictEqual(usageError(argv("import", "dir", "-x")), "unknown option -x")
    assert.strictEqual(usageError(argv("serve", "--bogus")), "unknown option --bogus")
  })

  it("an option missing its value is named, not blamed on a path", () => {
    assert.strictEqual(usageError(argv("import", "dir", "--concurrency")), "--concurrency needs a value")
    assert.strictEqual(usageError(argv("import", "dir", "--report", "--dry-run")), "--report needs a value")
  })
})
