/**
 * Bad usage as `Cli.run` (what src/bin.ts runs) reports it, in this process: the `CliExit` 2
 * whose reason is the one `inkwell:` line, before any command runs. Each line names the option
 * and the value given.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either } from "effect"
import * as Cli from "../../src/Cli/Cli.js"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** The usage error `args` is refused with (no database is opened: the URL's directory stays empty). */
const refused = (...args: Array<string>) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "inkwell-usage-"))
    dirs.push(dir)
    const result = yield* Cli.run(["node", "inkwell", ...args]).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", `sqlite:${join(dir, "blog.db")}`]]))),
      Effect.provide(NodeContext.layer),
      Effect.either
    )
    assert.deepStrictEqual(readdirSync(dir), [], `${args.join(" ")}: nothing opened`)
    if (Either.isRight(result)) return assert.fail(`${args.join(" ")}: ran`)
    if (result.left._tag !== "CliExit") return assert.fail(`${args.join(" ")}: @effect/cli's ${result.left._tag}`)
    assert.strictEqual(result.left.code, 2, args.join(" "))
    return result.left.reason
  })

describe("bad usage", () => {
  it.effect("a bad choice is named with its value, even one that is the start of a choice", () =>
    Effect.gen(function*() {
      // "pub" is in "published": the value was taken as named by the message listing the choices.
      assert.strictEqual(
        yield* refused("export", "--status", "pub"),
        `--status: "pub" is not accepted (expected one of the following cases: all, published, draft)`
      )
      assert.strictEqual(
        yield* refused("import", "x", "--on-conflict", "fai"),
        `--on-conflict: "fai" is not accepted (expected one of the following cases: fail, skip, suffix)`
      )
      // @effect/cli's own message quotes the value: named as it is.
      assert.strictEqual(yield* refused("import", "x", "--concurrency", "abc"), "--concurrency: 'abc' is not an integer")
    }))

  it("describeBadValue takes the value as named only where it is quoted", () => {
    assert.strictEqual(
      Cli.describeBadValue("--log-level", "warn", "Expected one of the following cases: all, warning"),
      `--log-level: "warn" is not accepted (expected one of the following cases: all, warning)`
    )
    assert.strictEqual(Cli.describeBadValue("--buffer", "1.5", "'1.5' is not a integer"), "--buffer: '1.5' is not an integer")
  })

  it.effect("a flag given a value other than yes or no is refused: no import runs, neither real nor dry", () =>
    Effect.gen(function*() {
      // `--dry-run=` ran a real import of a path named "--dry-run="; `--dry-run=garbage` a dry run of "garbage".
      assert.strictEqual(
        yield* refused("import", "--dry-run=", "posts"),
        `--dry-run takes no value, got "" (give --dry-run alone, or --dry-run=true / --dry-run=false)`
      )
      assert.strictEqual(
        yield* refused("import", "posts", "--dry-run=garbage"),
        `--dry-run takes no value, got "garbage" (give --dry-run alone, or --dry-run=true / --dry-run=false)`
      )
      assert.include(yield* refused("import", "posts", "--fail-on-error=maybe"), `--fail-on-error takes no value, got "maybe"`)
    }))

  it.effect("--log-level: a value LOG_LEVEL does not take either is one line listing those it takes", () =>
    Effect.gen(function*() {
      for (const args of [["import", "x", "--log-level", "loud"], ["--log-level=loud", "serve"]]) {
        assert.strictEqual(
          yield* refused(...args),
          `--log-level: "loud" is not a level: all, trace, debug, info, warning (or warn), error, fatal, none (or off), in any case`
        )
      }
    }))

  it.effect("export --tag that no post can carry (empty, only spaces, over 100 characters) is refused, as the API's ?tag= is", () =>
    Effect.gen(function*() {
      // Was: 0 posts exported, and nothing said why.
      for (const tag of ["", "  ", "x".repeat(101)]) {
        assert.strictEqual(
          yield* refused("export", "--tag", tag),
          `--tag ${JSON.stringify(tag)} is not a tag: 1 to 100 characters, not only spaces`
        )
      }
    }))

  it.effect("@effect/cli's own options at the top with nothing after, or an unknown one: one line, not \"Invalid subcommand\"", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* refused("--log-level"), "--log-level needs a value")
      assert.strictEqual(yield* refused("--completions"), "--completions needs a value")
      assert.strictEqual(yield* refused("--bogus"), "unknown option --bogus")
      assert.strictEqual(yield* refused("--verison"), "unknown option --verison (did you mean --version?)")
    }))
})
