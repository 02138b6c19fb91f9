/**
 * How `inkwell import`, `export` and `reprocess` log: LOG_FORMAT and LOG_LEVEL, read and checked
 * as the server reads them (a bad value is `invalid configuration` naming it, exit 1), written
 * to standard error, as standard output carries an export's records and the summaries. They
 * were not read at all: a bogus value passed, and the commands logged logfmt whatever was set.
 * `serve` reads the same settings itself (`App.LoggerLive`).
 */
import { Config, Context, Effect, Logger, LogLevel, Option } from "effect"
import * as HttpConfig from "../Http/HttpConfig.js"

/**
 * The level asked for, by `--log-level` or else LOG_LEVEL; none when neither is given. A
 * command that logs less by default (`import`: errors only, as its summary lists every failed
 * post and warnings would break its progress bar) keeps its default only then.
 */
export class RequestedLogLevel extends Context.Reference<RequestedLogLevel>()("inkwell/Cli/RequestedLogLevel", {
  defaultValue: (): Option.Option<LogLevel.LogLevel> => Option.none()
}) {}

/** `NO_COLOR` set to anything (no-color.org): no colour, terminal or not. */
export const noColor: Config.Config<boolean> = Config.string("NO_COLOR").pipe(Config.withDefault(""), Config.map((value) => value !== ""))

/**
 * The logger for LOG_FORMAT, on standard error; logfmt when it is not set, as the commands logged
 * before. Pretty lines in colour only on a terminal and without `NO_COLOR`, as help is: Effect's
 * own choice looks at standard output.
 */
const loggerFor = (format: Option.Option<HttpConfig.LogFormat>, plain: boolean) => {
  switch (Option.getOrElse(format, () => "logfmt" as const)) {
    case "pretty":
      return Logger.prettyLogger({ stderr: true, colors: !plain && process.stderr.isTTY === true })
    case "json":
      return Logger.withConsoleError(Logger.jsonLogger)
    case "logfmt":
      return Logger.withConsoleError(Logger.logfmtLogger)
  }
}

/** A level given as `--log-level` (@effect/cli's names: `warning`, `none`, ...). */
export const levelNamed = (name: string): Option.Option<LogLevel.LogLevel> =>
  Option.fromNullable(LogLevel.allLevels.find((level) => level._tag.toLowerCase() === name.toLowerCase()))

/**
 * Runs a command under LOG_FORMAT and LOG_LEVEL (a bad one is the ConfigError naming it); `flag`
 * is `--log-level`'s level, if given, which wins over LOG_LEVEL (@effect/cli applies it inside too).
 */
export const around = <A, E, R>(command: Effect.Effect<A, E, R>, flag: Option.Option<LogLevel.LogLevel>) =>
  Effect.gen(function*() {
    // Both read, the flag given or not: a bad LOG_LEVEL stops the command as it stops `serve`.
    const format = yield* HttpConfig.logFormatGiven
    const level = yield* HttpConfig.logLevel
    return { format, plain: yield* noColor, requested: Option.orElse(flag, () => level) }
  }).pipe(
    Effect.flatMap(({ format, plain, requested }) =>
      command.pipe(
        (effect) => Option.match(requested, { onNone: () => effect, onSome: (level) => Logger.withMinimumLogLevel(effect, level) }),
        Effect.provideService(RequestedLogLevel, requested),
        Effect.provide(Logger.replace(Logger.defaultLogger, loggerFor(format, plain)))
      )
    )
  )
