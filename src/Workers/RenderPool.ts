/**
 * Rendering on every core: a `PostProcessor` whose work runs on a pool of worker threads
 * (RenderWorker.ts), with the same `PostProcessorShape` as the in-process one, so it is provided
 * in its place (`RenderPool.layer` / `layerConfig`, or `PostProcessor` consumers unchanged).
 *
 * - Requests are Schema-serialized (RenderRequest.ts): the main thread decodes the `NewPost`.
 * - Small jobs stay in-process: a source under `inlineBelowBytes` renders faster than a thread hop.
 *   ("Only one job in flight" is no usable signal: an in-process render is one synchronous step,
 *   so concurrent callers would each see the others finished and everything would stay inline.)
 * - Interrupting a call interrupts its request in the worker (a render already running finishes
 *   its one post, a few milliseconds, and its answer is dropped).
 * - A worker that dies fails only the jobs it held, as a `RenderWorkerFailed` defect naming the
 *   source; the pool starts a replacement for the next job.
 */
import { Worker } from "@effect/platform"
import { NodeWorker } from "@effect/platform-node"
import { Cause, Config, type ConfigError, Data, Effect, Layer, Pool, type Scope } from "effect"
import { availableParallelism } from "node:os"
import { Worker as NodeThread } from "node:worker_threads"
import { ProcessorConfig } from "../Config.js"
import type { InvalidPost } from "../Domain/Errors.js"
import type { NewPost, PostInput, PostSource } from "../Domain/Post.js"
import { makePostProcessor, PostProcessor, type PostProcessorShape } from "../Processing/PostProcessor.js"
import { ProcessInput, ProcessSource, type RenderRequest } from "./RenderRequest.js"

/** A worker stopped (crashed, was killed) or answered something unreadable while holding this job. */
export class RenderWorkerFailed extends Data.TaggedError("RenderWorkerFailed")<{
  readonly source: string
  readonly cause: unknown
}> {
  get message() {
    return `the render worker processing ${this.source} failed`
  }
}

export interface RenderPoolOptions {
  /** Worker threads (default: os.availableParallelism()). */
  readonly size: number
  /** Sources shorter than this (in characters) are rendered in-process (default 1024). */
  readonly inlineBelowBytes: number
  readonly settings: ProcessorConfig
}

/** From TypeScript sources (tsx, vitest) a bootstrap registers tsx in the thread first; built, the module itself. */
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("./renderWorkerBootstrap.mjs", import.meta.url)
  : new URL("./RenderWorker.js", import.meta.url)

const spawn = () => new NodeThread(WORKER_URL)

/**
 * Jobs queued on one worker at once. A round trip through the platform's worker protocol costs
 * ~2 ms of latency here (measured with a one-line post), about one whole render: with one job
 * per worker a thread would sit idle half the time; with a few queued it never waits.
 */
export const JOBS_PER_WORKER = 4

/** The pool as a `PostProcessorShape`. Needs a worker spawner (`NodeWorker.layer`) and a scope. */
export const make = (
  options: RenderPoolOptions
): Effect.Effect<PostProcessorShape, never, Scope.Scope | Worker.WorkerManager | Worker.Spawner> =>
  Effect.gen(function* () {
    const pool = yield* Worker.makePoolSerialized<RenderRequest>({ size: options.size, concurrency: JOBS_PER_WORKER }).pipe(
      // Spawning a thread cannot fail in a way the caller could handle.
      Effect.orDie
    )
    const inline = makePostProcessor(options.settings)

    /**
     * One request on one worker. The platform fails the requests a dead worker held but keeps the
     * dead worker in the pool, so a worker that failed is invalidated here: the pool drops it
     * and starts another for the next job.
     */
    const execute = <Req extends RenderRequest>(request: Req) =>
      Effect.scoped(
        Effect.flatMap(Pool.get(pool.backing), (worker) =>
          worker.executeEffect(request).pipe(
            Effect.tapErrorCause((cause) =>
              Cause.isInterruptedOnly(cause) ||
                Cause.failureOption(cause).pipe((failure) => failure._tag === "Some" && (failure.value as { _tag?: unknown })._tag === "InvalidPost")
                ? Effect.void
                : Pool.invalidate(pool.backing, worker)
            )
          ))
      )

    const onWorker = <A>(source: string, run: Effect.Effect<A, InvalidPost | unknown>) =>
      Effect.catchIf(
        run,
        (e): e is unknown => !(typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "InvalidPost"),
        (cause) => Effect.die(new RenderWorkerFailed({ source, cause }))
      ) as Effect.Effect<A, InvalidPost>

    const process = (source: PostSource): Effect.Effect<NewPost, InvalidPost> =>
      source.raw.length < options.inlineBelowBytes
        ? inline.process(source)
        : onWorker(
            source.source,
            execute(
              new ProcessSource({
                source: source.source,
                raw: source.raw,
                ...(source.relativePath === undefined ? {} : { relativePath: source.relativePath }),
                settings: options.settings
              })
            )
          ).pipe(Effect.withSpan("PostProcessor.process", { attributes: { source: source.source, worker: true } }))

    const fromInput = (input: PostInput, source: string): Effect.Effect<NewPost, InvalidPost> =>
      input.body.length < options.inlineBelowBytes
        ? inline.fromInput(input, source)
        : onWorker(source, execute(new ProcessInput({ input, source, settings: options.settings }))).pipe(
            Effect.withSpan("PostProcessor.fromInput", { attributes: { source, worker: true } })
          )

    return { process, fromInput } satisfies PostProcessorShape
  })

/** `RENDER_WORKERS` (default: os.availableParallelism()) and `RENDER_INLINE_BELOW` (default 1024 characters). */
export const RenderPoolConfig = Config.all({
  size: Config.integer("RENDER_WORKERS").pipe(
    Config.withDefault(availableParallelism()),
    Config.validate({ message: "must be an integer between 1 and 256", validation: (n) => n >= 1 && n <= 256 })
  ),
  inlineBelowBytes: Config.integer("RENDER_INLINE_BELOW").pipe(
    Config.withDefault(1024),
    Config.validate({ message: "must be a non-negative integer", validation: (n) => n >= 0 })
  ),
  settings: ProcessorConfig
})

/** A `PostProcessor` backed by the worker pool (threads stopped when the layer closes). */
export const layer = (options: RenderPoolOptions): Layer.Layer<PostProcessor> =>
  Layer.scoped(PostProcessor, make(options)).pipe(Layer.provide(NodeWorker.layer(spawn)))

/** `layer` configured from RENDER_WORKERS, RENDER_INLINE_BELOW, WORDS_PER_MINUTE, EXCERPT_LENGTH. */
export const layerConfig: Layer.Layer<PostProcessor, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(RenderPoolConfig, layer)
)
