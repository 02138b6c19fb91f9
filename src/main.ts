/**
 * Server entrypoint: `npm start` (tsx src/main.ts). Runs until SIGINT/SIGTERM, then drains
 * requests and closes the database; exits 0 after such a shutdown, 1 with a one-line reason
 * when start-up fails. It takes no arguments (the environment configures it): `--help` prints
 * how, and anything else exits 2 with one line, before a port is bound or a database created.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer } from "effect"
import { AppLive, describeFailure, LoggerLive } from "./App.js"

const usage = `Usage: npm start   (tsx src/main.ts; the same server as \`npx inkwell serve\`)

Serves Inkwell's JSON API and blog on HOST:PORT (default 127.0.0.1:3000), stored in
DATABASE_URL (default sqlite:./data/inkwell.db), until SIGINT or SIGTERM.
It takes no arguments: set environment variables instead, e.g.
  PORT=8080 DATABASE_URL=sqlite:/var/lib/inkwell.db INKWELL_API_KEYS=change-me npm start
Every variable (PORT, HOST, DATABASE_URL, INKWELL_API_KEYS, LOG_LEVEL, SITE_URL, ...) is
listed in README.md under "Configuration".
`

const args = process.argv.slice(2)

if (args.some((arg) => arg === "--help" || arg === "-h")) {
  process.stdout.write(usage)
} else if (args.length > 0) {
  process.stderr.write(
    `inkwell: the server takes no arguments (got ${args.map((arg) => JSON.stringify(arg)).join(" ")}): ` +
      `configure it with environment variables such as PORT, HOST and DATABASE_URL (--help lists them)\n`
  )
  process.exitCode = 2
} else {
  Layer.launch(AppLive).pipe(
    Effect.provide(LoggerLive),
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(`inkwell: ${describeFailure(cause)}`)
    ),
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
  )
}
