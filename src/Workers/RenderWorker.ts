/**
 * A render worker thread: runs the pure `processPostSync` / `processInputSync` for the pool in
 * RenderPool.ts. Started by the pool, never directly.
 */
import { WorkerRunner } from "@effect/platform"
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { processInputSync, processPostSync } from "../Processing/processPost.js"
import { CRASH_MARKER, RenderRequest } from "./RenderRequest.js"

const crashOnMarker = (raw: string) => {
  if (process.env["INKWELL_TEST_WORKER_CRASH"] === "1" && raw.startsWith(CRASH_MARKER)) process.exit(3)
}

const Handlers = WorkerRunner.layerSerialized(RenderRequest, {
  ProcessSource: ({ raw, relativePath, settings, source }) =>
    Effect.suspend(() => {
      crashOnMarker(raw)
      return processPostSync(relativePath === undefined ? { source, raw } : { source, raw, relativePath }, settings)
    }),
  ProcessInput: ({ input, settings, source }) =>
    Effect.suspend(() => {
      crashOnMarker(input.body)
      return processInputSync(input, source, settings)
    })
})

WorkerRunner.launch(Layer.provide(Handlers, NodeWorkerRunner.layer)).pipe(NodeRuntime.runMain)
