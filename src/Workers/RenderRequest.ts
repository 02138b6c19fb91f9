/**
 * What the render workers are asked, as Schema-serialized requests: sent to a worker thread as
 * encoded values, answered with an encoded `NewPost` (DateTimes as ISO strings) that the main
 * thread decodes, or an `InvalidPost`.
 */
import { Schema } from "effect"
import { InvalidPost } from "../Domain/Errors.js"
import { NewPost, PostInput } from "../Domain/Post.js"

export const Settings = Schema.Struct({ wordsPerMinute: Schema.Number, excerptLength: Schema.Number })

/** `PostProcessor.process`: markdown with front matter. */
export class ProcessSource extends Schema.TaggedRequest<ProcessSource>()("ProcessSource", {
  failure: InvalidPost,
  success: NewPost,
  payload: {
    source: Schema.String,
    raw: Schema.String,
    relativePath: Schema.optional(Schema.String),
    settings: Settings
  }
}) {}

/** `PostProcessor.fromInput`: JSON fields a client sent. */
export class ProcessInput extends Schema.TaggedRequest<ProcessInput>()("ProcessInput", {
  failure: InvalidPost,
  success: NewPost,
  payload: {
    input: PostInput,
    source: Schema.String,
    settings: Settings
  }
}) {}

export const RenderRequest = Schema.Union(ProcessSource, ProcessInput)
export type RenderRequest = typeof RenderRequest.Type

/**
 * A source whose raw text starts with this makes the worker exit, when the worker runs with
 * INKWELL_TEST_WORKER_CRASH=1: how the tests kill a worker mid-job. Inert otherwise.
 */
export const CRASH_MARKER = "<!-- inkwell-test: crash the render worker -->"
