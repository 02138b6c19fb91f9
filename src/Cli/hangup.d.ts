/** Whether standard stream `fd` (1: standard output) was a terminal when this process started (see hangup.js). */
export declare const wasTerminal: (fd: number) => boolean
/** Whether a terminal among this process's standard streams has hung up since it started (see hangup.js). */
export declare const terminalHungUp: () => boolean
/** Failed writes to standard output and error are not an uncaught exception: lost, or the run's failure at its end (see hangup.js). Called at start. */
export declare const ignoreFailedStandardWrites: () => void
/** How writing to standard output failed, other than a terminal's hangup or EPIPE (a full disk), if it did (see hangup.js). */
export declare const standardOutputFailure: () => (Error & { readonly code?: string }) | undefined
/** `code`, or 1 (said on stderr) where it is 0 and standard output could not be written (see hangup.js). */
export declare const exitCodeAfterOutput: (code: number) => number
/** Ends this process by SIGHUP, its 'exit' listeners run first (see hangup.js). */
export declare const endByHangup: () => void
/** Exits at once with `code`, or by SIGHUP once a terminal hung up (see hangup.js). */
export declare const exitNow: (code: number) => void
