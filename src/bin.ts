/**
 * CLI entrypoint (`npx inkwell ...`, bin/inkwell.js). Exit codes: 0 success, 1 failure (or
 * failed posts with --fail-on-error), 2 bad usage, 130 after SIGINT, 143 after SIGTERM, 129 after
 * SIGHUP. The first signal interrupts the run (the batch in flight commits, the summary is
 * printed); a second one exits at once, which leaves SQLite's open transaction, if any, rolled back.
 * Under bin/inkwell.js a signal may arrive twice for one press: it counts once (Cli/Signals.ts).
 */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, Console, Effect, Exit } from "effect"
import * as Cli from "./Cli/Cli.js"
import { endByHangup, exitCodeAfterOutput, exitNow, ignoreFailedStandardWrites, terminalHungUp } from "./Cli/hangup.js"
import { makeSignalCounter, runMainEvent, type Signal, signalExitCode as signalCode, stopSignals } from "./Cli/Signals.js"

// A terminal that hangs up refuses writes before its SIGHUP arrives, a pipe's reader may go:
// what is written then is lost, the run goes on to its stop (hangup.js). Standard output that
// fails otherwise (a full disk) fails a run that would have succeeded, at its end (teardown).
ignoreFailedStandardWrites()

let relaying = false
let orphaned = false
const signals = makeSignalCounter({
  exitNow: (signal) => exitNow(signalCode[signal]),
  stop: (signal, source) => {
    // Written synchronously, so a user (or a test) knows the next signal is the one that exits at once.
    process.stderr.write(
      orphaned
        ? "inkwell: bin/inkwell.js is gone, stopping\n"
        : signal === "SIGHUP"
        // Another SIGHUP is the same hangup (Cli/Signals.ts).
        ? "inkwell: SIGHUP received, stopping (SIGINT or SIGTERM exits at once)\n"
        : `inkwell: ${signal} received, stopping (send it again to exit at once)\n`
    )
    const event = runMainEvent(signal)
    if (source === "relayed" || event !== signal) {
      // runMain interrupts on the process's own SIGINT and SIGTERM events: raise the relayed
      // signal there, and a SIGHUP, which runMain does not listen for, as a SIGTERM.
      relaying = true
      try {
        process.emit(event, event)
      } finally {
        relaying = false
      }
    }
  }
})
// Registered before runMain's own handlers: they interrupt, these count and remember which signal it was.
for (const signal of stopSignals) process.on(signal, () => relaying || signals.on(signal, "os"))
// Set by bin/inkwell.js; not passed on to what this process may run.
const wrapped = process.env["INKWELL_WRAPPER"] === "1"
delete process.env["INKWELL_WRAPPER"]
if (process.channel !== undefined) {
  // bin/inkwell.js relays the signals it gets as messages (see Cli/Signals.ts).
  process.on("message", (message: unknown) => {
    const signal = (message as { readonly inkwellSignal?: unknown } | null)?.inkwellSignal
    if (stopSignals.includes(signal as Signal)) signals.on(signal as Signal, "relayed")
  })
  // The channel closes when bin/inkwell.js dies without relaying a signal (`kill -9`): left
  // running, re-parented to init, this process held the port and the database for nobody.
  // Stopped as on SIGTERM: the batch in flight commits, finalizers run, the summary is printed.
  // Only under bin/inkwell.js: another parent that forks the CLI may disconnect and leave it running.
  if (wrapped) process.on("disconnect", () => {
    // Already stopping (the signal it relayed before it died): not a second one.
    if (signals.received() !== undefined) return
    orphaned = true
    signals.on("SIGTERM", "relayed")
  })
  // The channel must not keep the process alive once the command is done (after the listeners,
  // which ref it).
  process.channel.unref()
}

let exitCode = 0

const teardown: Teardown = (exit, onExit) => {
  // Node's own exit would abort on a terminal that hung up (hangup.js): ended by SIGHUP, 129 to a shell.
  if (terminalHungUp()) return endByHangup()
  const received = signals.received()
  if (received !== undefined) return onExit(signalCode[received])
  if (Exit.isSuccess(exit)) return onExit(exitCodeAfterOutput(exitCode))
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
