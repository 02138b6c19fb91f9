/**
 * How the CLI counts its stop signals: SIGINT (Ctrl-C), SIGTERM, and SIGHUP (the terminal closed,
 * an ssh connection dropped). The first press stops the run (the batch in flight commits, the
 * summary is printed, temporary files are removed); the second exits at once. SIGHUP is a stop as
 * SIGTERM is: without a listener Node died of it on the spot, with no summary, and left the
 * export's temporary file and the import's scratch file behind.
 *
 * Signals come from two sources: the OS, and bin/inkwell.js relaying the ones it got over its
 * IPC channel. A terminal's Ctrl-C (or its hangup) reaches both processes, so one press may
 * arrive once from each: the presses are the larger of the two counts, never their sum. (Counted
 * as two, one Ctrl-C exited at once, with no summary and the batch in flight rolled back.)
 * A hangup is one event however many copies of SIGHUP come: the shell sends it to its jobs, and
 * the kernel again to the terminal's foreground job once the shell has exited. So a SIGHUP after
 * the first signal is never a second press.
 */
export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP"

/** The signals that stop a run, in the order bin/inkwell.js and src/bin.ts listen for them. */
export const stopSignals: ReadonlyArray<Signal> = ["SIGINT", "SIGTERM", "SIGHUP"]

/** The exit code after a stop by `signal` (128 + its number), as shells report it. */
export const signalExitCode: Readonly<Record<Signal, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }
export type Source = "os" | "relayed"

/**
 * The event of the process that `NodeRuntime.runMain` interrupts its fiber on for a stop by
 * `signal`: it listens for SIGINT and SIGTERM only, so a SIGHUP is raised there as a SIGTERM.
 */
export const runMainEvent = (signal: Signal): "SIGINT" | "SIGTERM" => (signal === "SIGHUP" ? "SIGTERM" : signal)

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
      if (signal === "SIGHUP" && first !== undefined) return
      seen[source]++
      if (Math.max(seen.os, seen.relayed) >= 2) return handlers.exitNow(signal)
      if (first !== undefined) return
      first = signal
      handlers.stop(signal, source)
    }
  }
}
