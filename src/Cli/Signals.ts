/**
 * How the CLI counts SIGINT / SIGTERM. The first press stops the run (the batch in flight
 * commits, the summary is printed); the second exits at once.
 *
 * Signals come from two sources: the OS, and bin/inkwell.js relaying the ones it got over its
 * IPC channel. A terminal's Ctrl-C reaches both processes, so one press may arrive once from
 * each: the presses are the larger of the two counts, never their sum. (Counted as two, one
 * Ctrl-C exited at once, with no summary and the batch in flight rolled back.)
 */
export type Signal = "SIGINT" | "SIGTERM"

/** The exit code after a stop by `signal` (128 + its number), as shells report it. */
export const signalExitCode: Readonly<Record<Signal, number>> = { SIGINT: 130, SIGTERM: 143 }
export type Source = "os" | "relayed"

export interface SignalHandlers {
  /** The first press: start stopping. `source` says whether the OS already delivered it. */
  readonly stop: (signal: Signal, source: Source) => void
  /** The second press: exit now. */
  readonly exitNow: (signal: Signal) => void
}

export const makeSignalCounter = (handlers: SignalHandlers) => {
  const seen = { os: 0, relayed: 0 }
  let first: Signal | undefined
  return {
    /** The signal that stopped the run, if any. */
    received: (): Signal | undefined => first,
    on: (signal: Signal, source: Source): void => {
      seen[source]++
      if (Math.max(seen.os, seen.relayed) >= 2) return handlers.exitNow(signal)
      if (first !== undefined) return
      first = signal
      handlers.stop(signal, source)
    }
  }
}
