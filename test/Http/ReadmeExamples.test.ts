/**
 * README.md's examples that show what the server answers, run against it: the quick start's two
 * posts and its search (which must find them), and the `UrlRefused` message quoted under
 * "Remote sources". Editing the README so that it no longer matches the server breaks this test.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { get, json, postJson, postMarkdown, testServer } from "./harness.js"

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8")

/** The first group of `pattern` in the README, which must be there. */
const quoted = (pattern: RegExp, text = readme): string => {
  const match = pattern.exec(text)
  assert.isNotNull(match, `README.md has ${pattern}`)
  return match![1]!
}

describe("README examples", () => {
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
