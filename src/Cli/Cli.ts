/**
 * The `inkwell` command line: `import`, `export`, `reprocess` and `serve`, `--help` on each, `--version`.
 */
import { AutoCorrect, CliConfig, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { ConfigError, ConfigProvider, Effect, Either, Option, Schema } from "effect"
import * as HttpConfig from "../Http/HttpConfig.js"
import * as CliLogging from "./CliLogging.js"
import { builtInOptions } from "./builtInOptions.js"
import { exportCommand, exportOptions } from "./ExportCommand.js"
import { cannotStart, CliExit } from "./Exit.js"
import { importCommand, importOptions } from "./ImportCommand.js"
import { reprocessCommand, reprocessOptions } from "./ReprocessCommand.js"
import { serveCommand } from "./ServeCommand.js"

export const command = Command.make("inkwell").pipe(
  Command.withDescription("Inkwell: a typed blog content service"),
  Command.withSubcommands([importCommand, exportCommand, reprocessCommand, serveCommand])
)

/** A command line that names an option the command does not have, or leaves one without its value. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/** Option name → whether it takes a value, for every option of `options`. */
const optionTable = (options: Record<string, Options.Options<unknown>>): Array<readonly [string, boolean]> =>
  Object.values(options).flatMap((option) =>
    Option.match(Options.getIdentifier(option), { onNone: () => [], onSome: (name) => [[name, !Options.isBool(option)] as const] })
  )

/** What @effect/cli adds to every command, and whether each takes a value. */
const builtIns: Array<readonly [string, boolean]> = builtInOptions.map(({ name, values }) => [name, values !== undefined] as const)

/** Each subcommand: its options, and whether it takes arguments (paths; the others refuse any). */
const SUBCOMMANDS: Readonly<Record<string, { readonly options: Record<string, Options.Options<unknown>>; readonly takesArguments: boolean }>> = {
  import: { options: importOptions, takesArguments: true },
  export: { options: exportOptions, takesArguments: false },
  reprocess: { options: reprocessOptions, takesArguments: false },
  serve: { options: {}, takesArguments: false }
}

const bySubcommand = <A>(f: (options: Record<string, Options.Options<unknown>>) => A): Readonly<Record<string, A>> =>
  Object.fromEntries(Object.entries(SUBCOMMANDS).map(([name, { options }]) => [name, f(options)]))

const subcommandOptions = bySubcommand((options): ReadonlyMap<string, boolean> => new Map([...builtIns, ...optionTable(options)]))

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

/** The values of @effect/cli's own options that take one, for checking them like ours. */
const builtInValues: Array<readonly [string, Options.Options<unknown>]> = builtInOptions.flatMap(({ name, values }) =>
  values === undefined ? [] : [[name, Options.choice(name.replace(/^--/, ""), values)] as const]
)

/** Option name → the option, for every option of `options` that takes a value. */
const valueTable = (options: Record<string, Options.Options<unknown>>): Array<readonly [string, Options.Options<unknown>]> =>
  Object.values(options).flatMap((option) =>
    Options.isBool(option)
      ? []
      : Option.match(Options.getIdentifier(option), { onNone: () => [], onSome: (name) => [[name, option] as const] })
  )

const subcommandValues = bySubcommand((options): ReadonlyMap<string, Options.Options<unknown>> =>
  new Map([...builtInValues, ...valueTable(options)])
)

const subcommands: ReadonlyMap<string, boolean> = new Map(Object.keys(SUBCOMMANDS).map((name) => [name, false]))

/** What may come first on a command line without a subcommand: @effect/cli's own options. */
const topLevel: ReadonlyMap<string, boolean> = new Map(builtIns)

/** The subcommands that take arguments (paths); the others refuse any, in one line (@effect/cli's message has no `inkwell:`). */
const takesArguments: ReadonlySet<string> = new Set(Object.keys(SUBCOMMANDS).filter((name) => SUBCOMMANDS[name]!.takesArguments))

/** An option given with a value (`--name value` or `--name=value`). */
interface GivenValue {
  readonly subcommand: string
  readonly name: string
  readonly value: string
}

/** @effect/cli's own options (`--help`, `--version`): what it makes of one given twice is its own. */
const builtInNames: ReadonlySet<string> = new Set(builtIns.map(([name]) => name))

const builtInsWithValue: ReadonlySet<string> = new Set(builtIns.filter(([, takesValue]) => takesValue).map(([name]) => name))

/**
 * `inkwell --log-level debug import ./posts` as `inkwell import --log-level debug ./posts`: the
 * built-in options that take a value, given before the subcommand, are checked like any other
 * (one `inkwell:` line for a bad value, not @effect/cli's help-page message). Anything else
 * before a subcommand (`--help`, `--version`) stays where it is.
 */
const builtInsAfterSubcommand = (argv: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, UsageError> => {
  const [node, script, ...args] = argv
  let lead = 0
  let last = -1
  while (lead < args.length && builtInsWithValue.has(args[lead]!.split("=", 1)[0]!)) {
    last = lead
    lead += args[lead]!.includes("=") ? 1 : 2
  }
  const subcommand = args[lead]
  if (lead === 0 || subcommand === undefined || subcommandOptions[subcommand] === undefined) {
    // `inkwell --log-level import ./posts`: the subcommand was taken for the missing value, and
    // @effect/cli would answer "Invalid subcommand", naming the very one given.
    const taken = args[last + 1]
    // `inkwell --log-level` alone: @effect/cli's "Invalid subcommand" (without `inkwell:`) said nothing of the option.
    if (last >= 0 && !args[last]!.includes("=") && (taken === undefined || subcommandOptions[taken] !== undefined)) {
      return Either.left(new UsageError({ message: `${args[last]} needs a value` }))
    }
    return Either.right(argv)
  }
  return Either.right([node!, script!, subcommand, ...args.slice(0, lead), ...args.slice(lead + 1)])
}

const logLevelNames: ReadonlyArray<string> = builtInOptions.find((option) => option.name === "--log-level")?.values ?? []

/**
 * A `--log-level` value as @effect/cli takes it, from any spelling LOG_LEVEL takes (`warn`,
 * `off`, `INFO`: README promises the two alike), read by LOG_LEVEL's own parser.
 */
const logLevelName = (value: string): Either.Either<string, UsageError> => {
  const level = Effect.runSync(
    Effect.option(ConfigProvider.fromMap(new Map([["LOG_LEVEL", value]])).load(HttpConfig.logLevel))
  ).pipe(Option.flatten, Option.map((level) => level._tag.toLowerCase()))
  return Option.isSome(level) && logLevelNames.includes(level.value)
    ? Either.right(level.value)
    : Either.left(new UsageError({
      message: `--log-level: ${JSON.stringify(value)} is not a level: all, trace, debug, info, warning (or warn), error, fatal, none (or off), in any case`
    }))
}

/**
 * A flag's value given as `--flag=value`: the words @effect/cli takes for yes and no (`true`,
 * `false`, `yes`, `no`, `on`, `off`, `1`, `0`, `y`, `n`), in any case; `undefined` for any other.
 */
const flagValue = (value: string): boolean | undefined => {
  const word = value.toLowerCase()
  if (["true", "1", "y", "yes", "on"].includes(word)) return true
  if (["false", "0", "n", "no", "off"].includes(word)) return false
  return undefined
}

/**
 * Checks the options after a subcommand and moves them in front of its paths: `inkwell import
 * ./posts --batch-size 50` means what it says. @effect/cli reads a repeated argument greedily and
 * hands it every token it does not recognise, so without this `--batch-size` and `50` would be
 * taken for two more paths, and a misspelt `--dryrun` for a path while the import ran for real.
 * After `--`, everything is a path; `-` alone is standard input. Also returns every option given
 * with a value, for `checkValues`.
 */
const splitOptions = (
  given: ReadonlyArray<string>
): Either.Either<{ readonly argv: Array<string>; readonly values: Array<GivenValue> }, UsageError> => {
  const moved = builtInsAfterSubcommand(given)
  if (Either.isLeft(moved)) return Either.left(moved.left)
  const argv = moved.right
  const [node, script, subcommand, ...rest] = argv
  const known = subcommand === undefined ? undefined : subcommandOptions[subcommand]
  if (known === undefined) {
    // Top-level flags (--help, --version) are @effect/cli's to answer; any other it calls an "Invalid subcommand".
    if (subcommand !== undefined && !subcommand.startsWith("-")) {
      return Either.left(new UsageError({ message: `unknown command ${subcommand}${suggestion(subcommand, subcommands)}` }))
    }
    const flag = subcommand?.split("=", 1)[0]
    if (flag !== undefined && !topLevel.has(flag)) {
      return Either.left(new UsageError({ message: `unknown option ${flag}${suggestion(flag, topLevel)}` }))
    }
    // `inkwell --log-level warn` (help, as with `info`), not "Invalid subcommand".
    const top: Array<string> = []
    const words = argv.slice(2)
    for (let i = 0; i < words.length; i++) {
      const token = words[i]!
      const inline = token.startsWith("--log-level=")
      const given = inline ? token.slice("--log-level=".length) : words[i + 1]
      if ((token !== "--log-level" && !inline) || given === undefined) {
        top.push(token)
        continue
      }
      if (!inline) i++
      const level = logLevelName(given)
      if (Either.isLeft(level)) return Either.left(level.left)
      top.push("--log-level", level.right)
    }
    return Either.right({ argv: [node!, script!, ...top], values: [] })
  }
  const nameOf = (token: string) => token.split("=", 1)[0]!
  // @effect/cli's own options go first: after one of ours (`--from-url URL --log-level all
  // --report f`, `a.md --batch-size 5 --help`), it took them and every token after them for
  // paths, and ran the import.
  const builtInsGiven: Array<string> = []
  const options: Array<string> = []
  const values: Array<GivenValue> = []
  const positionals: Array<string> = []
  const flagsGiven = new Set<string>()
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
    if (!takesValue) {
      // As `checkValues` refuses a valued option given twice: @effect/cli took the second
      // `--dry-run` for a path (`import`: "no such file", exit 0) or an unknown argument (`reprocess`).
      if (!builtInNames.has(name)) {
        if (flagsGiven.has(name)) return Either.left(new UsageError({ message: `${name} is given more than once` }))
        flagsGiven.add(name)
      }
      if (token.includes("=")) {
        // @effect/cli reads `--dry-run=garbage` as the flag and a path "garbage", and `--dry-run=`
        // as a path: a misspelt flag ran a real import. It takes its own words for yes and no.
        const flag = flagValue(token.slice(name.length + 1))
        if (flag === undefined) {
          return Either.left(new UsageError({
            message: `${name} takes no value, got ${JSON.stringify(token.slice(name.length + 1))} (give ${name} alone, or ${name}=true / ${name}=false)`
          }))
        }
        if (flag) (builtInNames.has(name) ? builtInsGiven : options).push(name)
        continue
      }
      if (builtInNames.has(name)) builtInsGiven.push(token)
      else options.push(token)
      continue
    }
    const inline = token.includes("=")
    const given = inline ? token.slice(name.length + 1) : rest[i + 1]
    // `--report --dry-run` is a forgotten value, not a report file named "--dry-run".
    if (given === undefined || (!inline && (given === "--" || known.has(nameOf(given))))) {
      return Either.left(new UsageError({ message: `${name} needs a value` }))
    }
    if (!inline) i++
    const value = name === "--log-level" ? logLevelName(given) : Either.right(given)
    if (Either.isLeft(value)) return Either.left(value.left)
    // `--name=value` is passed on as two tokens: @effect/cli reads `--from-url=b` after a first `--from-url a` as a path.
    if (builtInNames.has(name)) builtInsGiven.push(name, value.right)
    else options.push(name, value.right)
    values.push({ subcommand, name, value: value.right })
  }
  if (positionals.length > 0 && !takesArguments.has(subcommand)) {
    return Either.left(new UsageError({ message: `${subcommand} takes no arguments (got ${JSON.stringify(positionals[0])})` }))
  }
  // `--` keeps a path that starts with `-` from being read as an option by @effect/cli.
  return Either.right({
    argv: [node!, script!, subcommand, ...builtInsGiven, ...options, ...(positionals.length > 0 ? ["--", ...positionals] : [])],
    values
  })
}

/** `argv` with the options after a subcommand checked and moved in front of its paths (`splitOptions`). */
export const optionsFirst = (argv: ReadonlyArray<string>): Either.Either<Array<string>, UsageError> =>
  Either.map(splitOptions(argv), ({ argv }) => argv)

/** SGR sequences (colours, bold): what @effect/cli dresses its help, version and messages in. */
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g

/** One line; spaces inside a line kept, as they may be a value's (`--tag "  "`). */
const plainText = (doc: HelpDoc.HelpDoc): string => HelpDoc.toAnsiText(doc).replace(SGR, "").replace(/\s*\n\s*/g, " ").trim()

/**
 * @effect/cli writes its help, version and usage errors in colour whatever the output is:
 * `inkwell --help > help.txt` or `| less` carried escape codes. They are taken out of what goes
 * to standard output or standard error when that is not a terminal, and everywhere when
 * `NO_COLOR` is set to anything (no-color.org).
 */
const colourOnTerminalsOnly = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const noColor = yield* CliLogging.noColor
    const console = yield* Effect.console
    const plain = (stream: { readonly isTTY?: boolean }, write: (...args: ReadonlyArray<unknown>) => Effect.Effect<void>) =>
      !noColor && stream.isTTY === true
        ? write
        : (...args: ReadonlyArray<unknown>) => write(...args.map((arg) => typeof arg === "string" ? arg.replace(SGR, "") : arg))
    return yield* Effect.withConsole(effect, {
      ...console,
      log: plain(process.stdout, console.log),
      error: plain(process.stderr, console.error)
    })
  })

/**
 * One line naming the option and its value. Our own checks (`--batch-size must be between ...`)
 * name both already; @effect/cli's own ("'abc' is not a integer", "Expected one of the following
 * cases: ...") name neither the option nor, sometimes, the value. Theirs names the value only
 * quoted: `pub` is in "published", a case the message lists, and not named by it.
 */
export const describeBadValue = (name: string, value: string, reason: string): string => {
  const text = reason.replace(/\ba integer\b/g, "an integer")
  // Ours name the option, and the value too (`(got 0)`, `"soon"`).
  if (text.includes(name)) return text
  if (text.includes(`'${value}'`) || text.includes(JSON.stringify(value))) return `${name}: ${text}`
  const lowered = text.charAt(0).toLowerCase() + text.slice(1)
  return `${name}: ${JSON.stringify(value)} is not accepted (${lowered})`
}

/**
 * Parses each option value given with the option's own parser, so a bad one is reported here,
 * as one `inkwell:` line: @effect/cli would print its own message (without the option's name, in
 * help-page form) and fail with nothing left to say. An option that is not repeatable, given
 * twice, is refused too: @effect/cli would take the second one and its value for two paths.
 */
const checkValues = (values: ReadonlyArray<GivenValue>) =>
  Effect.gen(function* () {
    const config = CliConfig.defaultConfig
    for (const { name, subcommand, value } of values) {
      const option = subcommandValues[subcommand]?.get(name)
      if (option === undefined) continue
      const refused = (error: ValidationError.ValidationError) =>
        new UsageError({ message: describeBadValue(name, value, "error" in error ? plainText(error.error) : "not accepted") })
      yield* Effect.mapError(Options.processCommandLine(option, [name, value], config), refused)
      const all = values.filter((given) => given.name === name).flatMap((given) => [given.name, given.value])
      const [, leftover] = yield* Effect.mapError(Options.processCommandLine(option, all, config), refused)
      if (leftover.length > 0) return yield* new UsageError({ message: `${name} is given more than once` })
    }
  })

const runCommand = Command.run(command, { name: "inkwell", version: "0.1.0" })

/** The command line's words before a `--` (after it, paths that only look like options). */
const optionWords = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const words = argv.slice(2)
  const end = words.indexOf("--")
  return end === -1 ? words : words.slice(0, end)
}

/**
 * @effect/cli's `--wizard` asks its questions on standard input: with no terminal there (a pipe,
 * /dev/null, CI) it waited forever, for answers nobody could give. Refused as bad usage instead.
 */
const wizardWithoutTerminal = (argv: ReadonlyArray<string>, interactive: boolean): Either.Either<void, UsageError> =>
  !interactive && optionWords(argv).includes("--wizard")
    ? Either.left(new UsageError({ message: "--wizard asks its questions in a terminal, and standard input is not one" }))
    : Either.void

/** Runs the CLI on `argv` (as in `process.argv`: node and script first); bad usage is `CliExit` 2. */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.zipRight(
    Effect.suspend(() => wizardWithoutTerminal(argv, process.stdin.isTTY === true)),
    splitOptions(argv)
  ).pipe(
    Effect.tap(({ values }) => checkValues(values)),
    Effect.mapError((error) => new CliExit({ code: 2, reason: error.message })),
    Effect.flatMap(({ argv, values }) => colourOnTerminalsOnly(withLogging(argv, values, runCommand(argv))))
  )

/** What only asks for words (`--help`, `--version`, `--wizard`): run as it is, whatever LOG_* says. */
const asksForWords = (argv: ReadonlyArray<string>) =>
  optionWords(argv).some((word) => ["--help", "-h", "--version", "--wizard", "--completions"].includes(word.split("=", 1)[0]!))

/**
 * `import`, `export` and `reprocess` under LOG_FORMAT and LOG_LEVEL (CliLogging), a bad one
 * stopping them as it stops `serve`, which reads them itself: exit 1, `invalid configuration`.
 */
const withLogging = <A, E, R>(argv: ReadonlyArray<string>, values: ReadonlyArray<GivenValue>, command: Effect.Effect<A, E, R>) => {
  const subcommand = argv[2]
  if (subcommand === undefined || subcommand === "serve" || subcommand.startsWith("-") || asksForWords(argv)) return command
  const flag = Option.flatMap(Option.fromNullable(values.find((given) => given.name === "--log-level")), (given) => CliLogging.levelNamed(given.value))
  return CliLogging.around(command, flag).pipe(
    Effect.catchIf(ConfigError.isConfigError, cannotStart)
  )
}

export { CliExit } from "./Exit.js"
