/**
 * The `inkwell` command line: `import` and `serve`, `--help` on each, `--version`.
 */
import { Command } from "@effect/cli"
import { importCommand } from "./ImportCommand.js"
import { serveCommand } from "./ServeCommand.js"

export const command = Command.make("inkwell").pipe(
  Command.withDescription("Inkwell: a typed blog content service"),
  Command.withSubcommands([importCommand, serveCommand])
)

/** Runs the CLI on `argv` (as in `process.argv`: node and script first). */
export const run = Command.run(command, { name: "inkwell", version: "0.1.0" })

export { CliExit } from "./ImportCommand.js"
