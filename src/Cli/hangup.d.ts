/** Whether a terminal among this process's standard streams has hung up since it started (see hangup.js). */
export declare const terminalHungUp: () => boolean
/** Writes to a terminal among standard output and error that fail (it hung up) are lost, not an uncaught exception. Called at start. */
export declare const ignoreFailedTerminalWrites: () => void
/** Ends this process by SIGHUP: its listeners are removed, so the signal's default ends it. */
export declare const endByHangup: () => void
