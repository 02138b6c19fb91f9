/**
 * `inkwell import` with a bad setting, in this process (`Cli.run`, as src/bin.ts runs it): every
 * setting the import reads is checked before it announces itself, and each bad one is the same
 * `invalid configuration` failure, exit 1, as for `serve`, with no database opened.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Console, ConfigProvider, Effect, Either } from "effect"
import * as Cli from "../../src/Cli/Cli.js"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** Runs `inkwell import ...args` under `env`: the failure, and what it wrote on stderr before failing. */
const importWith = (env: Record<string, string>, ...args: Array<string>) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "inkwell-settings-"))
    dirs.push(dir)
    const database = join(dir, "data", "blog.db")
    const stderr: Array<string> = []
    const result = yield* Console.consoleWith((console) =>
      Cli.run(["node", "inkwell", "import", ...args]).pipe(
        Effect.withConsole({ ...console, error: (...line) => Effect.sync(() => void stderr.push(line.join(" "))) }),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ DATABASE_URL: `sqlite:${database}`, ...env })))),
        Effect.provide(NodeContext.layer),
        Effect.either
      )
    )
    const label = JSON.stringify(env)
    if (Either.isRight(result)) return assert.fail(`${label}: imported`)
    if (result.left._tag !== "CliExit") return assert.fail(`${label}: @effect/cli's ${result.left._tag}`)
    assert.isFalse(existsSync(join(dir, "data")), `${label}: no database opened`)
    return { code: result.left.code, reason: result.left.reason, stderr }
  })

describe("inkwell import with a bad setting", () => {
  it.effect("each is 'invalid configuration' naming it, exit 1, before the import announces itself", () =>
    Effect.gen(function*() {
      // IMPORT_* and FEED_* exited 2; the others 1, after "inkwell: importing ..." was printed.
      const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
        [{ IMPORT_BATCH_SIZE: "x" }, "IMPORT_BATCH_SIZE"],
        [{ FEED_RETRIES: "lots" }, "FEED_RETRIES"],
        [{ WORDS_PER_MINUTE: "x" }, "WORDS_PER_MINUTE"],
        [{ EXCERPT_LENGTH: "-1" }, "EXCERPT_LENGTH"],
        [{ DB_MAX_CONNECTIONS: "x" }, "DB_MAX_CONNECTIONS"],
        [{ DB_ACQUIRE_TIMEOUT: "soon" }, "DB_ACQUIRE_TIMEOUT"],
        [{ DATABASE_URL: "mysql://db/blog" }, "DATABASE_URL"],
        // Past the variable's own check, refused when the URL is read.
        [{ DATABASE_URL: "postgres://" }, "DATABASE_URL postgres:// names no host"]
      ]
      for (const [env, named] of cases) {
        const failed = yield* importWith(env, "posts", "--from-url", "http://127.0.0.1:1/feed.xml")
        assert.deepStrictEqual(failed.stderr, [], named)
        assert.strictEqual(failed.code, 1, named)
        assert.match(failed.reason, /^invalid configuration: /, named)
        assert.include(failed.reason, named)
      }
    }))

  it.effect("every bad one is named at once", () =>
    Effect.gen(function*() {
      const failed = yield* importWith({ IMPORT_BUFFER: "x", EXCERPT_LENGTH: "0" }, "posts")
      assert.strictEqual(failed.code, 1)
      assert.include(failed.reason, "IMPORT_BUFFER")
      assert.include(failed.reason, "EXCERPT_LENGTH")
      // Once each: the render threads' settings are the processor's, read once.
      assert.strictEqual(failed.reason.split("EXCERPT_LENGTH").length - 1, 1, failed.reason)
    }))
})
