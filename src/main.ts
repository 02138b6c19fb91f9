/**
 * Server entrypoint: `npm start` (node --import tsx src/main.ts). Runs until SIGINT, SIGTERM or
 * SIGHUP, then drains requests and closes the database; exits 130 (SIGINT), 143 (SIGTERM) or 129
 * (SIGHUP) after such a shutdown, as `inkwell serve` does (a second signal, 0.5 s or more after
 * the first, exits at once with the same codes), 1 with a one-line reason when start-up fails. It takes no arguments (the environment configures it): `--help` prints how, and
 * anything else exits 2 with one line, before a port is bound or a database created.
 */
import { NodeRuntime } from "@effect/platform-node"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { AppLive, describeFailure, LoggerLive } from "./App.js"
import { endByHangup, exitCodeAfterOutput, exitNow, ignoreFailedStandardWrites, terminalHungUp } from "./Cli/hangup.js"
import { runMainEvent, type Signal, signalExitCode as signalCode, stopSignals } from "./Cli/Signals.js"

const usage = `Usage: npm start   (node --import tsx src/main.ts; the same server as \`npx inkwell serve\`)

Serves Inkwell's JSON API and blog on HOST:PORT (default 127.0.0.1:3000), stored in
DATABASE_URL (default sqlite:./data/inkwell.db), until SIGINT, SIGTERM or SIGHUP.
It takes no arguments: set environment variables instead, e.g.
  PORT=8080 DATABASE_URL=sqlite:/var/lib/inkwell.db INKWELL_API_KEYS=change-me npm start
Every variable (PORT, HOST, DATABASE_URL, INKWELL_API_KEYS, LOG_LEVEL, SITE_URL, ...) is
listed in README.md under "Configuration".
`

const args = process.argv.slice(2)


/** Copies of one stop signal arrive within this long of each other (npm relays at once). */
const SAME_SIGNAL_MS = 500

/**
 * Keeps a listener on SIGINT/SIGTERM/SIGHUP for as long as the process runs. Under `npm start` one
 * Ctrl-C (or a SIGTERM to the process group) reaches this process twice: from the OS, then
 * relayed by npm. runMain stops listening after the first, and Node's default for a signal with
 * no listener is to die at once: the drain was cut and the shutdown's log lines lost. Copies
 * within SAME_SIGNAL_MS of the first are that one stop; a signal after that is a second press and
 * exits at once, as `inkwell` does. (`npm start` runs node with tsx as a loader, not tsx's CLI:
 * that relays signals too, and SIGKILLs a child that has not acknowledged one within 60 ms.)
 * A SIGHUP (the terminal closed, an ssh connection dropped) stops it as SIGTERM does: Node's
 * default was to die at once, requests cut and the database left open. runMain does not listen
 * for it, so it is raised there as a SIGTERM. One hangup may come as several SIGHUPs (the shell's,
 * then the kernel's): a SIGHUP while stopping is that stop, whenever it comes.
 * Returns the signal that stopped the server, if any, for the exit code.
 */
const guardRepeatedSignals = (): () => Signal | undefined => {
  let first: { readonly at: number; readonly signal: Signal } | undefined
  let raising = false
  const onSignal = (signal: Signal) => {
    if (raising) return
    if (signal === "SIGHUP" && first !== undefined) return
    const now = performance.now()
    if (first === undefined) {
      first = { at: now, signal }
      const event = runMainEvent(signal)
      if (event !== signal) {
        raising = true
        try {
          process.emit(event, event)
        } finally {
          raising = false
        }
      }
    } else if (now - first.at < SAME_SIGNAL_MS) {
      process.stderr.write(`inkwell: ${signal} again while stopping: the same stop (a signal after ${SAME_SIGNAL_MS} ms exits at once)\n`)
    } else {
      exitNow(signalCode[signal])
    }
  }
  for (const signal of stopSignals) process.on(signal, () => onSignal(signal))
  return () => first?.signal
}

/**
 * runMain's default teardown exits 0 when the run ended by interruption alone, so a service
 * manager (or npm, which passes the code on) could not tell a stop by signal from a clean exit.
 * A failure that is more than the interruption (start-up, or a finalizer) stays 1.
 */
const exitCodeAfter = (stoppedBy: () => Signal | undefined): Teardown => (exit, onExit) => {
  // Node's own exit would abort on a terminal that hung up (hangup.js): ended by SIGHUP, 129 to a shell.
  if (terminalHungUp()) return endByHangup()
  if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) return onExit(1)
  const signal = stoppedBy()
  onExit(signal === undefined ? exitCodeAfterOutput(0) : signalCode[signal])
}

// A terminal that hangs up refuses writes before its SIGHUP arrives, a pipe's reader may go
// (`npm start -- --help | head -3`): what is written then is lost (hangup.js). Standard output
// that fails otherwise (a full disk) is said at the end, exit 1 where it would have been 0.
ignoreFailedStandardWrites()

if (args.some((arg) => arg === "--help" || arg === "-h")) {
  process.stdout.write(usage)
  // Known by now: standard output's writes are synchronous to a file (Node).
  process.exitCode = exitCodeAfterOutput(0)
} else if (args.length > 0) {
  process.stderr.write(
    `inkwell: the server takes no arguments (got ${args.map((arg) => JSON.stringify(arg)).join(" ")}): ` +
      `configure it with environment variables such as PORT, HOST and DATABASE_URL (--help lists them)\n`
  )
  process.exitCode = 2
} else {
  const stoppedBy = guardRepeatedSignals()
  Layer.launch(AppLive).pipe(
    Effect.provide(LoggerLive),
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(`inkwell: ${describeFailure(cause)}`)
    ),
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true, teardown: exitCodeAfter(stoppedBy) })
  )
}
