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

/** Whether a terminal among this process's standard streams has hung up since it started. */
export const terminalHungUp = () => terminals.some((fd) => !isatty(fd))

/**
 * Writes to standard output and error that fail because nothing is there any more are lost, not
 * an uncaught exception (a stack trace, exit 1, no summary): every failed write to a terminal
 * (it hung up), and EPIPE where a reader went away (`inkwell --help | head -3`,
 * `inkwell import ... 2>&1 | head -1`). A write that must be known to have landed (an export's
 * records) sees the failure in its own callback and says so. Called at start.
 */
export const ignoreFailedStandardWrites = () => {
  for (const [fd, stream] of [[1, process.stdout], [2, process.stderr]]) {
    const terminal = terminals.includes(fd)
    stream.on("error", (error) => {
      if (!terminal && error.code !== "EPIPE") throw error
    })
  }
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
