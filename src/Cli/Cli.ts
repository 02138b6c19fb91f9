/**
 * The `inkwell` command line: `import` and `serve`, `--help` on each, `--version`.
 */
import { AutoCorrect, CliConfig, Command, Options } from "@effect/cli"
import { Effect, Either, Option, Schema } from "effect"
import { CliExit, importCommand, importOptions } from "./ImportCommand.js"
import { serveCommand } from "./ServeCommand.js"

export const command = Command.make("inkwell").pipe(
  Command.withDescription("Inkwell: a typed blog content service"),
  Command.withSubcommands([importCommand, serveCommand])
)

/** A command line that names an option the command does not have, or leaves one without its value. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/** Option name → whether it takes a value, for every option of `options`. */
const optionTable = (options: Record<string, Options.Options<unknown>>): Array<readonly [string, boolean]> =>
  Object.values(options).flatMap((option) =>
    Option.match(Options.getIdentifier(option), { onNone: () => [], onSome: (name) => [[name, !Options.isBool(option)] as const] })
  )

/** What @effect/cli adds to every command (`--completions` and `--log-level` take a value). */
const builtIns: Array<readonly [string, boolean]> = [
  ["--help", false],
  ["-h", false],
  ["--version", false],
  ["--wizard", false],
  ["--completions", true],
  ["--log-level", true]
]

const subcommandOptions: Readonly<Record<string, ReadonlyMap<string, boolean>>> = {
  import: new Map([...builtIns, ...optionTable(importOptions)]),
  serve: new Map(builtIns)
}

const suggestion = (token: string, known: ReadonlyMap<string, boolean>): string => {
  const config = CliConfig.defaultConfig
  let best: string | undefined
  // Within @effect/cli's own limit, and closer than half the name: `-x` is no typo of `-h`.
  let bestDistance = Math.min(config.autoCorrectLimit + 1, Math.ceil(token.replace(/^-+/, "").length / 2))
  for (const name of known.keys()) {
    const distance = AutoCorrect.levensteinDistance(token, name, config)
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best === undefined ? "" : ` (did you mean ${best}?)`
}

/**
 * Checks the options after a subcommand and moves them in front of its paths: `inkwell import
 * ./posts --batch-size 50` means what it says. @effect/cli reads a repeated argument greedily and
 * hands it every token it does not recognise, so without this `--batch-size` and `50` would be
 * taken for two more paths, and a misspelt `--dryrun` for a path while the import ran for real.
 * After `--`, everything is a path; `-` alone is standard input.
 */
export const optionsFirst = (argv: ReadonlyArray<string>): Either.Either<Array<string>, UsageError> => {
  const [node, script, subcommand, ...rest] = argv
  const known = subcommand === undefined ? undefined : subcommandOptions[subcommand]
  // Top-level flags and unknown subcommands are @effect/cli's to report.
  if (known === undefined) return Either.right([...argv])
  const nameOf = (token: string) => token.split("=", 1)[0]!
  const options: Array<string> = []
  const positionals: Array<string> = []
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!
    if (token === "--") {
      positionals.push(...rest.slice(i + 1))
      break
    }
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token)
      continue
    }
    const name = nameOf(token)
    const takesValue = known.get(name)
    if (takesValue === undefined) {
      return Either.left(new UsageError({ message: `unknown option ${name}${suggestion(name, known)}` }))
    }
    options.push(token)
    if (!takesValue || token.includes("=")) continue
    const value = rest[i + 1]
    // `--report --dry-run` is a forgotten value, not a report file named "--dry-run".
    if (value === undefined || value === "--" || known.has(nameOf(value))) {
      return Either.left(new UsageError({ message: `${name} needs a value` }))
    }
    options.push(value)
    i++
  }
  // `--` keeps a path that starts with `-` from being read as an option by @effect/cli.
  return Either.right([node!, script!, subcommand!, ...options, ...(positionals.length > 0 ? ["--", ...positionals] : [])])
}

const runCommand = Command.run(command, { name: "inkwell", version: "0.1.0" })

/** Runs the CLI on `argv` (as in `process.argv`: node and script first); bad usage is `CliExit` 2. */
export const run = (argv: ReadonlyArray<string>) =>
  optionsFirst(argv).pipe(
    Effect.mapError((error) => new CliExit({ code: 2, reason: error.message })),
    Effect.flatMap(runCommand)
  )

export { CliExit } from "./ImportCommand.js"
