/**
 * Server entrypoint: `npm start` (tsx src/main.ts). Runs until SIGINT/SIGTERM, then drains
 * requests and closes the database; exits 0 after such a shutdown, 1 with a one-line reason
 * when start-up fails.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer } from "effect"
import { AppLive, describeFailure, LoggerLive } from "./App.js"

Layer.launch(AppLive).pipe(
  Effect.provide(LoggerLive),
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(`inkwell: ${describeFailure(cause)}`)
  ),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
