/**
 * Inkwell as `npm start` runs it (src/main.ts: App.AppLive, launched, runMain), for the read-path
 * benchmark, configured by the environment like production (DATABASE_URL, PORT, LOG_FORMAT, ...).
 *
 * One difference while the lead has not switched App.LoggerLive: the logger is
 * `Http/Logging.layerConfig` (the same LOG_FORMAT / LOG_LEVEL, with buffered writes), set
 * BENCH_STOCK_LOGGER=1 to measure App.LoggerLive instead.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AppLive, LoggerLive } from "../../../src/App.js"
import * as Logging from "../../../src/Http/Logging.js"

Layer.launch(AppLive).pipe(
  Effect.provide(process.env["BENCH_STOCK_LOGGER"] === "1" ? LoggerLive : Logging.layerConfig),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
