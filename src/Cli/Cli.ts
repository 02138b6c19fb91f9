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

/** Flags that take no value: every other `--flag` is followed by its value (or is `--flag=value`). */
const VALUELESS = new Set(["--dry-run", "--fail-on-error", "--help", "-h", "--version", "--wizard"])

/**
 * Moves the options after a subcommand in front of its paths: `inkwell import ./posts
 * --batch-size 50` means what it says. @effect/cli reads a repeated argument greedily, so without
 * this, `--batch-size` and `50` would be taken for two more paths. After `--`, everything is a path.
 */
export const optionsFirst = (argv: ReadonlyArray<string>): Array<string> => {
  const [node, script, subcommand, ...rest] = argv
  if (subcommand === undefined || subcommand.startsWith("-")) return [...argv]
  const options: Array<string> = []
  const positionals: Array<string> = []
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!
    if (token === "--") {
      positionals.push(...rest.slice(i + 1))
      break
    }
    if (token.startsWith("-") && token !== "-") {
      options.push(token)
      const value = rest[i + 1]
      if (!token.includes("=") && !VALUELESS.has(token) && value !== undefined) {
        options.push(value)
        i++
      }
    } else {
      positionals.push(token)
    }
  }
  return [node!, script!, subcommand, ...options, ...positionals]
}

const runCommand = Command.run(command, { name: "inkwell", version: "0.1.0" })

/** Runs the CLI on `argv` (as in `process.argv`: node and script first). */
export const run = (argv: ReadonlyArray<string>) => runCommand(optionsFirst(argv))

export { CliExit } from "./ImportCommand.js"
