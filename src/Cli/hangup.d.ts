/** Whether a terminal among this process's standard streams has hung up since it started (see hangup.js). */
export declare const terminalHungUp: () => boolean
/** Failed writes to standard output and error (a terminal hung up, EPIPE) are lost, not an uncaught exception. Called at start. */
export declare const ignoreFailedStandardWrites: () => void
/** Ends this process by SIGHUP, its 'exit' listeners run first (see hangup.js). */
export declare const endByHangup: () => void
/** Exits at once with `code`, or by SIGHUP once a terminal hung up (see hangup.js). */
export declare const exitNow: (code: number) => void
