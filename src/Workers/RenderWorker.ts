/**
 * A render worker thread: runs the pure `processPostSync` / `processInputSync` for the pool in
 * RenderPool.ts, a batch of posts per request. Started by the pool, never directly.
 */
// Modules, not the packages' indexes: an index loads every module of the package (HTTP, CLI
// helpers...) into each thread's heap, ~30 MB per thread that rendering never uses.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import { Effect, Layer } from "effect"
import { appendFileSync } from "node:fs"
import type { ProcessorConfig } from "../Config.js"
import { processInputSync, processPostSync } from "../Processing/processPost.js"
import { encodeOutcomes, processRecordSync } from "../Processing/records.js"
import { type BatchItem, type BatchResult, CRASH_MARKER, RenderRequest, STOP_WHEN_IDLE_MARKER } from "./RenderRequest.js"
import { yieldToEventLoop } from "../Domain/yieldToEventLoop.js"

// Read once: the check runs per post, and an NDJSON line is scanned only when a test armed it.
const crashArmed = process.env["INKWELL_TEST_WORKER_CRASH"] === "1"

// A thread that never becomes ready, how the tests reach the pool's start timeout:
// INKWELL_TEST_WORKER_HANG_AT_START=import waits for ever in this module's evaluation (an import
// that hangs; a timer keeps the thread alive, as a pending socket would), =loop blocks the thread
// before its runner is up (it reads no message, the pool's close message included). After a
// colon, a file to which the thread adds a line once it hangs: how a test knows it does. The
// thread has this environment as it was when it was started: a test arms it around one start.
// Inert otherwise.
const hangAtStart = process.env["INKWELL_TEST_WORKER_HANG_AT_START"]
if (hangAtStart !== undefined) {
  const [mode, ...file] = hangAtStart.split(":")
  if (file.length > 0) appendFileSync(file.join(":"), "hanging\n")
  if (mode === "loop") for (;;);
  if (mode === "import") await new Promise(() => setInterval(() => {}, 60_000))
}

const crashOnMarker = (raw: string) => {
  if (!crashArmed) return
  if (raw.startsWith(CRASH_MARKER)) process.exit(3)
  // Long enough for the batch's answer to be sent first.
  if (raw.startsWith(STOP_WHEN_IDLE_MARKER)) setTimeout(() => process.exit(3), 100)
}

const renderOne = (item: BatchItem, settings: ProcessorConfig): BatchResult => {
  if (item._tag === "Source") {
    crashOnMarker(item.raw)
    const { raw, relativePath, source } = item
    return processPostSync(relativePath === undefined ? { source, raw } : { source, raw, relativePath }, settings)
  }
  crashOnMarker(item.input.body)
  return processInputSync(item.input, item.source, settings)
}

// Between two posts the thread's event loop runs (`yieldToEventLoop`), so that an interrupt
// message from the pool (every caller of the batch went away) is seen after the post being
// rendered, not after the whole batch. Effect's own yield stays on the microtask queue, which
// never lets a message in.
const Handlers = WorkerRunner.layerSerialized(RenderRequest, {
  ProcessBatch: ({ items, settings }) =>
    Effect.forEach(items, (item) => Effect.zipRight(yieldToEventLoop, Effect.sync(() => renderOne(item, settings)))),
  ProcessLines: ({ name, numbers, settings, texts }) =>
    Effect.map(
      Effect.forEach(texts, (text, i) =>
        Effect.zipRight(
          yieldToEventLoop,
          Effect.sync(() => {
            // A line is JSON: the marker sits inside its body, not at its start.
            if (crashArmed && text.includes(CRASH_MARKER)) process.exit(3)
            const number = numbers[i]!
            return processRecordSync(name, { identity: `${name}:${number}`, number, text, bytes: text.length + 1 }, settings)
          })
        )),
      encodeOutcomes
    )
})

WorkerRunner.launch(Layer.provide(Handlers, NodeWorkerRunner.layer)).pipe(NodeRuntime.runMain)
