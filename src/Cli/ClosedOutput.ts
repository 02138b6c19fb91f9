/**
 * A reader that goes away before the output is written (`inkwell --help | head -3`, or `npm
 * start -- --help | head -3`, whose first three lines are npm's) fails the next write to
 * standard output with EPIPE: an 'error' event that, without a listener, is an uncaught
 * exception, a stack trace where the command should end quietly. With this listener what is
 * written after is dropped, and the process ends as it would have (a write that must be known to
 * have landed, an export's records, sees the failure in its own callback and says so).
 */
export const ignoreClosedOutput = (stream: NodeJS.WriteStream = process.stdout): void => {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    // A terminal's failed writes (EIO once it hung up) are hangup.js's to drop.
    if (error.code !== "EPIPE" && stream.isTTY !== true) throw error
  })
}
