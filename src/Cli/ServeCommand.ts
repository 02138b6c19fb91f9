/**
 * `inkwell serve`: the HTTP server of `App.AppLive` (HOST, PORT, DATABASE_URL, API keys from the
 * environment) until SIGINT/SIGTERM, when it drains requests and closes the database.
 */
import { Command } from "@effect/cli"
import { Cause, Effect, Layer } from "effect"
import { AppLive, describeFailure, LoggerLive } from "../App.js"
import { CliExit } from "./ImportCommand.js"

export const serveCommand = Command.make("serve", {}, () =>
  Layer.launch(AppLive).pipe(
    Effect.provide(LoggerLive),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.interrupt
        : Effect.fail(new CliExit({ code: 1, reason: describeFailure(cause) }))
    )
  )).pipe(Command.withDescription("Run the HTTP API server"))
