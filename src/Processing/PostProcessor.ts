/**
 * PostProcessor: markdown with front matter in, a processed post out.
 *
 * The work is done by the pure functions of `processPost.ts` (front matter, markdown, sanitizing,
 * slug, excerpt, word count, hash); this service only lifts their `Either` into Effect, names the
 * span, and reads `ProcessorConfig`. Processing is CPU-bound and synchronous: callers that want
 * parallelism across cores hand `processPostSync` to worker threads instead.
 */
import { type Clock, type ConfigError, Context, Data, Duration, Effect, Layer, Option } from "effect"
import { ProcessorConfig } from "../Config.js"
import type { InvalidPost } from "../Domain/Errors.js"
import type { NewPost, PostInput, PostSource } from "../Domain/Post.js"
import { processInputSync, processPostSync } from "./processPost.js"
import { itemTimeoutReason, limitNanos } from "./processConcurrently.js"
import { type LineDeadline, processRecordsSync, type RecordLine, type RecordOutcome } from "./records.js"

/** A batch of lines could not be processed as a whole (a worker died, its deadline passed). */
export class BatchNotProcessed extends Data.TaggedError("BatchNotProcessed")<{
  readonly reason: string
  readonly cause?: unknown
}> {}

export interface PostProcessorShape {
  /** Parses front matter and body, applies every default, renders and sanitizes. */
  readonly process: (source: PostSource) => Effect.Effect<NewPost, InvalidPost>
  /**
   * From JSON fields a client sent (the body may itself carry front matter; explicit fields win).
   * `source` names the origin in errors ("api", a URL, ...).
   */
  readonly fromInput: (input: PostInput, source: string) => Effect.Effect<NewPost, InvalidPost>
  /**
   * NDJSON lines of file `name`, in bulk: parsed, decoded and processed, one outcome per line in
   * their order (a bad line is a `Rejected` outcome naming it). `deadline` is each line's: a line
   * that took longer is a `Rejected` outcome (in-process, timed and failed once done); where the
   * work can be interrupted (a worker thread) it bounds the batch's. A batch that fails as a whole
   * fails with `BatchNotProcessed`, and the caller processes its lines one by one instead.
   * Optional: an import without it sends each line through `fromInput`.
   */
  readonly fromLines?: (
    name: string,
    lines: ReadonlyArray<RecordLine>,
    deadline: Option.Option<Duration.Duration>
  ) => Effect.Effect<ReadonlyArray<RecordOutcome>, BatchNotProcessed>
}

/**
 * Builds the service from settings. Plain functions, no span per post: processing is synchronous
 * and a bulk import calls it per post, where a span and a generator cost ~30 µs each time (the
 * import run and each HTTP request have their own spans; every failure names its source).
 */
export const makePostProcessor = (config: ProcessorConfig): PostProcessorShape => ({
  process: (source: PostSource) => Effect.suspend(() => processPostSync(source, config)),
  fromInput: (input: PostInput, source: string) => Effect.suspend(() => processInputSync(input, source, config)),
  // Synchronous: no deadline can interrupt it, so each line is timed and one over the deadline
  // fails once done, alone, as `timeoutItem` fails one post.
  fromLines: (name, lines, deadline) =>
    Option.match(deadline, {
      onNone: () => Effect.sync(() => processRecordsSync(name, lines, config)),
      onSome: (limit) => Effect.clockWith((clock) => Effect.sync(() => processRecordsSync(name, lines, config, lineDeadline(limit, clock))))
    })
})

/** `limit` for each line of a batch, on `clock`, failing a line as `timeoutItem` fails a post. */
const lineDeadline = (limit: Duration.Duration, clock: Clock.Clock): LineDeadline => ({
  limit: limitNanos(limit),
  now: () => Number(clock.unsafeCurrentTimeNanos()),
  reason: itemTimeoutReason(limit)
})

export class PostProcessor extends Context.Tag("Inkwell/PostProcessor")<PostProcessor, PostProcessorShape>() {
  /** With explicit settings (tests, embedding apps). */
  static readonly layer = (config: ProcessorConfig): Layer.Layer<PostProcessor> =>
    Layer.succeed(PostProcessor, makePostProcessor(config))

  /** Settings from `WORDS_PER_MINUTE` / `EXCERPT_LENGTH` (see Config.ts). */
  static readonly layerConfig: Layer.Layer<PostProcessor, ConfigError.ConfigError> = Layer.effect(
    PostProcessor,
    Effect.map(ProcessorConfig, makePostProcessor)
  )
}
