/**
 * How a command ends when it does not succeed: a `CliExit`, whose reason src/bin.ts prints on
 * stderr and whose code the process exits with, or an interruption (a signal), which src/bin.ts
 * turns into 128 + the signal's number. Every command maps its failures through these, so that
 * `import`, `export`, `reprocess` and `serve` say a failure alike.
 */
import { Cause, Data, Effect, Option } from "effect"
import { describeFailure } from "../App.js"

/** Ends the CLI with `code` after its output was printed (no further error report). */
export class CliExit extends Data.TaggedError("CliExit")<{ readonly code: number; readonly reason: string }> {}

/** A failure before the run starts (a setting, the database's address): exit 1, said in one line. */
export const cannotStart = (error: unknown): CliExit => new CliExit({ code: 1, reason: describeFailure(Cause.fail(error)) })

/**
 * The run's failure as the command ends on it. An interruption alone stays one (the signal
 * decides the exit code); a `CliExit` the run chose stands; any other failure, defects
 * included, is one line (`describeFailure`, then `after`, if given) with exit code `codeOf` the
 * failure (1 unless said; 1 for a defect).
 */
export const exitOnFailure = (options: {
  readonly codeOf?: (failure: unknown) => number
  readonly after?: () => string
} = {}) =>
<A, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, CliExit, R> =>
  Effect.catchAllCause(run, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(Cause.stripFailures(cause))
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && failure.value instanceof CliExit) return Effect.fail(failure.value)
    const code = Option.isSome(failure) && options.codeOf !== undefined ? options.codeOf(failure.value) : 1
    return Effect.fail(new CliExit({ code, reason: `${describeFailure(cause)}${options.after?.() ?? ""}` }))
  })
