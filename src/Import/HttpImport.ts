/**
 * The import pipeline over a request body: `POST /posts/import` hands its NDJSON body here as a
 * Stream, so the body is pulled only as fast as the queues drain (backpressure reaches the
 * socket) and a large upload never sits in memory whole.
 */
import { FileSystem } from "@effect/platform"
import { Effect, type Stream } from "effect"
import type { PostProcessor } from "../Processing/PostProcessor.js"
import type { PostRepository } from "../Posts/PostRepository.js"
import type { ImportOptions } from "./ImportConfig.js"
import * as ImportPipeline from "./ImportPipeline.js"
import { ndjson } from "./ImportSource.js"
import type { ImportSummary } from "./ImportSummary.js"

/**
 * Imports NDJSON records from `body`. Failures are reported as `"<name>:<line>"` in the summary;
 * a body that stops with an error (client gone, invalid UTF-8) ends the import after what was
 * read, with that error among the failures. When `stop` completes (the server is shutting down)
 * the import ends after the batch in flight and answers its summary, status "interrupted".
 */
export const importNdjson = <E, R>(
  body: Stream.Stream<Uint8Array, E, R>,
  options: Partial<ImportOptions> & { readonly name?: string; readonly stop?: Effect.Effect<void> | undefined } = {}
): Effect.Effect<ImportSummary, never, R | PostProcessor | PostRepository> => {
  const { name = "request", stop, ...rest } = options
  const source = ndjson(name, body, { maxPostBytes: rest.maxPostBytes ?? 5 * 1024 * 1024 })
  // With `dryRun`, each batch is checked against the repository and rolled back: nothing is written.
  const run = ImportPipeline.run(source, rest, { stop })
  // A body holds records, never file paths: no file system is ever touched.
  return Effect.provide(run, FileSystem.layerNoop({})).pipe(Effect.withSpan("HttpImport.importNdjson"))
}
