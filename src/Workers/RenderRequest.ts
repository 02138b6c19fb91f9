/**
 * What the render workers are asked, as one Schema-serialized request carrying a batch of posts:
 * sent to a worker thread as encoded values, answered with one `Either` per post (a post's plain
 * fields, DateTimes as epoch milliseconds, or the `InvalidPost` of that post alone: `BatchResults`),
 * which the main thread rebuilds.
 *
 * Why batches: a round trip through @effect/platform's worker protocol costs about as much CPU
 * as rendering one average post (fibers, a Deferred, a pool checkout, two Schema passes and two
 * structured clones per message). One message per 32 posts pays that once per 32.
 */
import { Either, Schema } from "effect"
import { InvalidPost } from "../Domain/Errors.js"
import { NewPost, PostInput } from "../Domain/Post.js"
import { fromWirePost, toWirePost, type WirePost } from "../Processing/records.js"

export const Settings = Schema.Struct({ wordsPerMinute: Schema.Number, excerptLength: Schema.Number })

/** `PostProcessor.process`: markdown with front matter. */
export const SourceItem = Schema.TaggedStruct("Source", {
  source: Schema.String,
  raw: Schema.String,
  relativePath: Schema.optional(Schema.String)
})
export type SourceItem = typeof SourceItem.Type

/** `PostProcessor.fromInput`: JSON fields a client sent. */
export const InputItem = Schema.TaggedStruct("Input", {
  input: PostInput,
  source: Schema.String
})
export type InputItem = typeof InputItem.Type

export const BatchItem = Schema.Union(SourceItem, InputItem)
export type BatchItem = typeof BatchItem.Type

/** One result per item, in the items' order: one bad post fails only itself. */
export const BatchResult = Schema.Either({ left: InvalidPost, right: NewPost })
export type BatchResult = typeof BatchResult.Type

/** A result as it crosses threads: a post's plain fields (`toWirePost`), or why it was rejected. */
type WireResult = { readonly p: WirePost } | { readonly e: { readonly source: string; readonly field: string; readonly reason: string } }

/**
 * A batch's results, encoded on the render thread and decoded on the main thread. Not
 * `Schema.Array(BatchResult)`: a post was validated when the thread built it, and walking it with
 * Schema again on both sides cost ~60 µs per corpus post on the thread and ~30 on the main
 * thread, against ~20 µs for `toWirePost` and ~10 for `fromWirePost`, which rebuild it as it was
 * (BENCHMARKS.md, session 12). The message itself stays a structured clone.
 */
export const BatchResults = Schema.transform(
  Schema.Array(Schema.Any),
  Schema.declare((u): u is ReadonlyArray<BatchResult> => Array.isArray(u), { identifier: "BatchResults" }),
  {
    strict: true,
    decode: (wire): ReadonlyArray<BatchResult> =>
      (wire as ReadonlyArray<WireResult>).map((w) =>
        "p" in w ? Either.right(fromWirePost(w.p)) : Either.left(new InvalidPost(w.e))
      ),
    encode: (results) =>
      results.map((r): WireResult =>
        r._tag === "Right"
          ? { p: toWirePost(r.right) }
          : { e: { source: r.left.source, field: r.left.field, reason: r.left.reason } }
      )
  }
)

/** Renders every item; a failure of the request itself means the worker could not answer. */
export class ProcessBatch extends Schema.TaggedRequest<ProcessBatch>()("ProcessBatch", {
  failure: Schema.Never,
  success: BatchResults,
  payload: {
    items: Schema.Array(BatchItem),
    settings: Settings
  }
}) {}

/**
 * NDJSON lines of one file, parsed and processed in the worker (`records.processRecordSync`).
 * Lines go as strings and the outcomes come back as one JSON string (`records.encodeOutcomes`):
 * a string crosses threads as one copy, and Schema has nothing to walk on either side.
 */
export class ProcessLines extends Schema.TaggedRequest<ProcessLines>()("ProcessLines", {
  failure: Schema.Never,
  success: Schema.String,
  payload: {
    name: Schema.String,
    numbers: Schema.Array(Schema.Number),
    texts: Schema.Array(Schema.String),
    settings: Settings
  }
}) {}

export const RenderRequest = Schema.Union(ProcessBatch, ProcessLines)
export type RenderRequest = ProcessBatch | ProcessLines

/**
 * A source whose raw text starts with this makes the worker exit, when the worker runs with
 * INKWELL_TEST_WORKER_CRASH=1: how the tests kill a worker mid-batch. Inert otherwise.
 */
export const CRASH_MARKER = "<!-- inkwell-test: crash the render worker -->"

/**
 * A source starting with this renders as any other, then the worker exits a moment after (once
 * it answered), under INKWELL_TEST_WORKER_CRASH=1: how the tests stop a worker while it is idle.
 */
export const STOP_WHEN_IDLE_MARKER = "<!-- inkwell-test: stop the render worker once idle -->"
