/**
 * `inkwell serve`: the HTTP server of `App.AppLive` (HOST, PORT, DATABASE_URL, API keys from the
 * environment) until SIGINT/SIGTERM, when it drains requests and closes the database.
 */
import { Command } from "@effect/cli"
import { Effect, Layer } from "effect"
import { AppLive, LoggerLive } from "../App.js"
import { exitOnFailure } from "./Exit.js"

export const serveCommand = Command.make("serve", {}, () =>
  Layer.launch(AppLive).pipe(
    Effect.provide(LoggerLive),
    exitOnFailure()
  )).pipe(Command.withDescription("Run the HTTP API server"))
