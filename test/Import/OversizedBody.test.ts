/**
 * A record whose body is over the import's post limit (`maxPostBytes`) is refused before it is
 * processed: no processor renders it, in bulk (`fromLines`) or one by one (`fromInput`). The
 * limit is on the body as stored, after any front matter, as it was when checked after
 * processing, with the same failure.
 */
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Stream } from "effect"
import { PostInput } from "../../src/Domain/Post.js"
import * as ImportPipeline from "../../src/Import/ImportPipeline.js"
import * as ImportSource from "../../src/Import/ImportSource.js"
import type { ImportItem } from "../../src/Import/ImportSource.js"
import { PostProcessor, type PostProcessorShape } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig, processInputSync, storedBody } from "../../src/Processing/processPost.js"
import { ProcessorTest, sqliteStack } from "./harness.js"

const maxPostBytes = 64 * 1024
const options = { concurrency: 2, batchSize: 10, buffer: 8, chunkSize: 64 * 1024, maxPostBytes, itemTimeout: Option.none() }

/** Two bytes a character: the body is `maxPostBytes + 2` bytes, in half as many characters. */
const overBody = "é".repeat(maxPostBytes / 2 + 1)
const tooLarge = `too large: a body of ${maxPostBytes + 2} bytes (limit ${maxPostBytes})`

/** What reached the processor: the line numbers `fromLines` was given, and the sources `fromInput` was. */
interface Seen {
  readonly lines: Array<number>
  readonly inputs: Array<string>
}

/** The real processor, counting what it is asked to process; without `fromLines` when `bulk` is false. */
const counting = (bulk: boolean) =>
  Effect.gen(function*() {
    const real = yield* Effect.provide(PostProcessor, ProcessorTest)
    const seen: Seen = { lines: [], inputs: [] }
    const fromInput: PostProcessorShape["fromInput"] = (input, source) =>
      Effect.zipRight(Effect.sync(() => seen.inputs.push(source)), real.fromInput(input, source))
    const processor: PostProcessorShape = bulk
      ? {
        ...real,
        fromInput,
        fromLines: (name, lines, deadline) =>
          Effect.zipRight(Effect.sync(() => seen.lines.push(...lines.map((line) => line.number))), real.fromLines!(name, lines, deadline))
      }
      : { process: real.process, fromInput }
    return { seen, layer: Layer.succeed(PostProcessor, processor) }
  })

const run = (source: Stream.Stream<ImportItem>, processor: Layer.Layer<PostProcessor>) =>
  ImportPipeline.run(source, options).pipe(
    Effect.provide(Layer.mergeAll(sqliteStack("sqlite::memory:"), processor, NodeContext.layer))
  )

const ndjson = (records: ReadonlyArray<Record<string, unknown>>) =>
  ImportSource.ndjson(
    "in.ndjson",
    Stream.make(new TextEncoder().encode(records.map((record) => `${JSON.stringify(record)}\n`).join(""))),
    { maxPostBytes }
  )

const failures = (summary: { readonly failures: ReadonlyArray<{ readonly source: string; readonly reason: string }> }) =>
  summary.failures.map((failure) => [failure.source, failure.reason])

describe("a record's body over the post limit is refused before it is processed", () => {
  for (const bulk of [true, false]) {
    it.scoped(`NDJSON lines ${bulk ? "in bulk (fromLines)" : "one by one (fromInput)"}: refused, named by its line; never given to the processor`, () =>
      Effect.gen(function*() {
        const { layer, seen } = yield* counting(bulk)
        const summary = yield* run(
          ndjson([
            { title: "Small one", body: "short" },
            { title: "Over", body: overBody },
            { title: "Small two", body: "short" }
          ]),
          layer
        )
        assert.deepStrictEqual(failures(summary), [["in.ndjson:2", tooLarge]])
        assert.strictEqual(summary.imported, 2)
        if (bulk) assert.deepStrictEqual([seen.lines, seen.inputs], [[1, 3], []])
        else assert.deepStrictEqual(seen.inputs, ["in.ndjson:1", "in.ndjson:3"])
      }))
  }

  it.scoped("a record a source decoded itself (a feed's): refused before fromInput", () =>
    Effect.gen(function*() {
      const { layer, seen } = yield* counting(true)
      const item = (n: number, body: string): ImportItem => ({
        _tag: "Record",
        identity: `https://example.com/feed#${n}`,
        source: `https://example.com/post/${n}`,
        input: new PostInput({ title: `Post ${n}`, body }),
        bytes: body.length
      })
      const summary = yield* run(Stream.make(item(1, "short"), item(2, overBody)), layer)
      assert.deepStrictEqual(failures(summary), [["https://example.com/feed#2", tooLarge]])
      assert.deepStrictEqual(seen.inputs, ["https://example.com/post/1"])
    }))

  it.scoped("the limit is the stored body's: front matter in a record's body does not count toward it", () =>
    Effect.gen(function*() {
      const { layer } = yield* counting(true)
      const frontMatter = `---\nsummary: ${"s".repeat(4 * 1024)}\n---\n`
      const within = "a".repeat(maxPostBytes - 10)
      const summary = yield* run(
        ndjson([
          { title: "Within", body: `${frontMatter}${within}` },
          { title: "Over", body: `${frontMatter}${overBody}` }
        ]),
        layer
      )
      assert.deepStrictEqual(failures(summary), [["in.ndjson:2", tooLarge]])
      assert.strictEqual(summary.imported, 1)
    }))
})

describe("storedBody", () => {
  it("is the body processing stores: after front matter, NUL and lone surrogates replaced, in NFC", () => {
    for (
      const raw of [
        "plain",
        "---\ntitle: T\n---\nafter front matter",
        "+++\ntitle = \"T\"\n+++\n\nTOML",
        "{\"title\": \"T\"}\nJSON front matter",
        "\uFEFF---\ntitle: T\n---\nwith a byte-order mark",
        "a NUL \u0000 and a lone \uD800 surrogate",
        "decomposed cafe\u0301 and \u0958"
      ]
    ) {
      const post = processInputSync(new PostInput({ title: "T", body: raw }), "test", defaultProcessorConfig)
      assert.isTrue(post._tag === "Right", raw)
      if (post._tag === "Right") assert.strictEqual(storedBody(raw), post.right.body, raw)
    }
    assert.isUndefined(storedBody("---\ntitle: unterminated\n"))
  })
})
