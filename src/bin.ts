/**
 * CLI entrypoint (`npx inkwell ...`, bin/inkwell.js). Exit codes: 0 success, 1 failure (or
 * failed posts with --fail-on-error), 2 bad usage, 130 after SIGINT, 143 after SIGTERM. The
 * first signal interrupts the run (the batch in flight commits, the summary is printed); a
 * second one exits at once, which leaves SQLite's open transaction, if any, rolled back.
 */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, Console, Effect, Exit } from "effect"
import * as Cli from "./Cli/Cli.js"

const signalCode = { SIGINT: 130, SIGTERM: 143 } as const
let received: keyof typeof signalCode | undefined
const onSignal = (signal: keyof typeof signalCode) => {
  if (received !== undefined) process.exit(signalCode[signal])
  received = signal
  // Written synchronously, so a user (or a test) knows the next signal is the one that exits at once.
  process.stderr.write(`inkwell: ${signal} received, stopping (send it again to exit at once)\n`)
}
// Registered alongside runMain's own handlers: they interrupt, these remember which signal it was.
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

let exitCode = 0

const teardown: Teardown = (exit, onExit) => {
  if (received !== undefined) return onExit(signalCode[received])
  if (Exit.isSuccess(exit)) return onExit(exitCode)
  onExit(Cause.isInterruptedOnly(exit.cause) ? 130 : 1)
}

Cli.run(process.argv).pipe(
  Effect.catchIf(ValidationError.isValidationError, (e) =>
    Effect.sync(() => {
      exitCode = ValidationError.isHelpRequested(e) ? 0 : 2
    })),
  Effect.catchTag("CliExit", (e) =>
    Effect.zipRight(
      e.code === 2 || e.reason.length > 0 ? Console.error(`inkwell: ${e.reason}`) : Effect.void,
      Effect.sync(() => {
        exitCode = e.code
      })
    )),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disablePrettyLogger: true, teardown })
)
