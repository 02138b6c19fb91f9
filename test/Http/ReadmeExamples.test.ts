/**
 * README.md's examples that show what the server answers, run against it: the API's curl examples,
 * top to bottom as a reader runs them (with curl and jq, by bash), each answer's status as the
 * comments above it say; the quick start's two posts and its search (which must find them); and
 * the `UrlRefused` message quoted under "Remote sources". Editing the README so that it no longer
 * matches the server breaks this test.
 */
import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { PostsLive } from "../../src/App.js"
import { get, json, portOf, postJson, postMarkdown, testServer } from "./harness.js"

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8")

/** The first group of `pattern` in the README, which must be there. */
const quoted = (pattern: RegExp, text = readme): string => {
  const match = pattern.exec(text)
  assert.isNotNull(match, `README.md has ${pattern}`)
  return match![1]!
}

describe("README examples", () => {
  /** As the block says it was run: `INKWELL_API_KEYS=change-me npm start`, on SQLite. */
  const readmeServer = testServer({
    keys: ["change-me"],
    posts: PostsLive.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", "sqlite::memory:"]])))))
  })

  it.scoped("the API's curl examples, run top to bottom on a fresh server, answer what their comments say (was: the last, DELETE ... If-Match: 2, a 412: the jq PUT before it had made the post version 3)", () =>
    Effect.gen(function* () {
      const block = quoted(/Each example below was run against a fresh `INKWELL_API_KEYS=change-me npm start`:\n\n```sh\n([\s\S]*?)```/)
      const base = `http://127.0.0.1:${yield* portOf}`
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "inkwell-readme-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const statuses = join(dir, "statuses")
      // Every curl of the block, a pipe's too, appends the status it was answered with once done.
      const prelude = `curl() {
  local headers; headers="$(mktemp -p "${dir}")"
  command curl -sS -D "$headers" "$@"; local code=$?
  grep -a '^HTTP/' "$headers" | tail -n 1 | cut -d ' ' -f 2 >> "${statuses}"
  return $code
}
command -v curl jq > /dev/null || { echo "the README's examples are run with curl and jq: install them" >&2; exit 127; }
exec > "${dir}/stdout"
set -o pipefail
`
      const script = prelude + block.replaceAll("http://127.0.0.1:3000", base)
      const exit = yield* Command.exitCode(Command.make("bash", "-e", "-c", script).pipe(Command.stderr("inherit")))
      assert.strictEqual(exit, 0, `every command of the block ran; what they printed:\n${readFileSync(join(dir, "stdout"), { encoding: "utf8", flag: "a+" })}`)
      const answered = readFileSync(statuses, "utf8").trim().split("\n")
      assert.deepStrictEqual(answered, [
        "201", "201", // created from JSON, then from markdown
        "200", "200", "304", // read, its ETag, revalidated
        "200", "200", "200", "200", // lists and tags
        "200", // search
        "200", // update at version 1
        "200", "200", // read and sent back edited with jq: version 3
        "201", // created at a URL only if nothing is there
        "204" // deleted at the version it is
      ])
    }).pipe(Effect.provide(Layer.merge(readmeServer, NodeContext.layer))), { timeout: 60_000 })

  it.effect("the quick start's search finds the posts the quick start created", () =>
    Effect.gen(function* () {
      const fields = JSON.parse(quoted(/-d '(\{"title":"Hello Inkwell"[^']*)'/))
      // A $'...' string of the shell: \n is a newline.
      const markdown = quoted(/--data-binary \$'(---\\ntitle: Second Post[^']*)'/).replaceAll("\\n", "\n")
      const query = quoted(/curl '(?:http:\/\/127\.0\.0\.1:3000)(\/posts\?q=[^']*)'/)
      assert.strictEqual((yield* postJson("/posts", fields)).status, 201)
      assert.strictEqual((yield* postMarkdown("/posts", markdown)).status, 201)
      const found = yield* json(yield* get(query))
      assert.sameMembers(found.items.map((post: { slug: string }) => post.slug), ["hello-inkwell", "second-post"], query)
    }).pipe(Effect.provide(testServer()))
  )

  it.effect("the UrlRefused message quoted under Remote sources is the server's", () =>
    Effect.gen(function* () {
      const message = quoted(/`UrlRefused` before anything is imported \(`([^`]*)`/, readme.replace(/\s*\n\s*/g, " "))
      const url = message.slice(0, message.indexOf("/: ") + 1)
      const response = yield* postJson("/posts/import-url", { url: [url] })
      assert.strictEqual(response.status, 422)
      assert.strictEqual((yield* json(response)).message, message)
    }).pipe(Effect.provide(testServer()))
  )
})
