// When the terminal a process runs in hangs up (its window closed, an ssh connection dropped),
// for bin/inkwell.js, src/bin.ts and src/main.ts alike: plain JavaScript, as bin/inkwell.js
// cannot load TypeScript (see builtInOptions.js); its types in hangup.d.ts.
//
// A hung up terminal refuses every write (EIO) and every change of its settings. Node's writes to
// process.stdout / process.stderr report that as an 'error' event: with no listener, an uncaught
// exception, and the terminal is gone before the SIGHUP that stops the run arrives, so a progress
// line written meanwhile ended the process there (exit 1, the batch in flight lost). And Node's own exit restores the settings of the terminals it started on, and aborts
// when that fails (node::ResetStdio: SIGABRT, then SIGSEGV), so that after a hangup even a clean
// stop ended in a crash and a core dump. A process whose terminal hung up ends by SIGHUP instead:
// what SIGHUP's default does, no exit handler run, and what a shell reports as 129.
import { isatty } from "node:tty"

/** The standard streams that were terminals when this process started. */
const terminals = [0, 1, 2].filter((fd) => isatty(fd))

/** Whether standard stream `fd` (1: standard output) was a terminal when this process started. */
export const wasTerminal = (fd) => terminals.includes(fd)

/** Whether a terminal among this process's standard streams has hung up since it started. */
export const terminalHungUp = () => terminals.some((fd) => !isatty(fd))

/**
 * Writes to standard output and error that fail are not an uncaught exception (a stack trace,
 * exit 1, no summary), whatever the failure: the 'error' event, which comes a tick after the
 * write, is listened to and let go. Failures where nothing is there any more are lost: every
 * failed write to a terminal (it hung up), and EPIPE where a reader went away (`inkwell --help |
 * head -3`, `inkwell import ... 2>&1 | head -1`). Any other failure of standard output (a full
 * disk: ENOSPC) fails the run at its end (`exitCodeAfterOutput`); one of standard error is lost,
 * as there is nowhere left to say it. A write that must be known to have landed (an export's
 * records) sees the failure in its own callback and says so, as the server's log does (EPIPE
 * included, its reader being its record for hours: Http/Logging.ts). Called at start.
 */
export const ignoreFailedStandardWrites = () => {
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})
}

/**
 * How writing to standard output failed, when it did other than as above (a full disk: ENOSPC, a
 * file grown too large: EFBIG): the records or the summary written there are not all there. Read
 * from the stream (`errored`, its first failure, set as the write fails), not from the 'error'
 * event: that comes a tick later, after a run whose last write failed had ended.
 */
export const standardOutputFailure = () => {
  const error = process.stdout.errored
  return error === null || error === undefined || terminals.includes(1) || error.code === "EPIPE" ? undefined : error
}

/**
 * `code`, or 1 where it is 0 and standard output could not be written (`standardOutputFailure`),
 * said in one line on stderr as an export to standard output says it: a summary that did not
 * reach its reader is no success. A run that failed already said why, and keeps its code.
 */
export const exitCodeAfterOutput = (code) => {
  const error = standardOutputFailure()
  if (code !== 0 || error === undefined) return code
  process.stderr.write(`inkwell: writing standard output failed: ${error.message}\n`)
  return 1
}

/**
 * Ends this process by SIGHUP: its listeners are removed, so the signal's default ends it. The
 * 'exit' listeners run first (temporary files removed: Domain/removeAtExit.ts), as the signal's
 * default runs none.
 */
export const endByHangup = () => {
  process.emit("exit", 128 + 1)
  process.removeAllListeners("SIGHUP")
  process.kill(process.pid, "SIGHUP")
}

/**
 * Exits at once with `code` (a second signal while stopping), or, once a terminal hung up, by
 * SIGHUP: Node's own exit would abort there.
 */
export const exitNow = (code) => (terminalHungUp() ? endByHangup() : process.exit(code))
