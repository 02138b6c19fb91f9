/**
 * Inkwell as `npm start` runs it (src/main.ts: App.AppLive with App.LoggerLive, launched,
 * runMain), for the read-path benchmark, configured by the environment like production
 * (DATABASE_URL, PORT, LOG_FORMAT, ...).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AppLive, LoggerLive } from "../../../src/App.js"

Layer.launch(AppLive).pipe(
  Effect.provide(LoggerLive),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
