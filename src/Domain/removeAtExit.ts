import { rmSync } from "node:fs"

/**
 * Temporary files (the import's scratch ledger, the export's file before it is renamed into
 * place) removed when the process exits with them still open. A second Ctrl-C ends the CLI at
 * once (`process.exit`), which closes no scope: without this, each such exit left its file behind
 * for good. One listener for the process, however many files (a server's concurrent imports)
 * are open. A death by a signal with no listener (SIGKILL) fires no `exit`: nothing can be done
 * for those.
 */
const open = new Set<string>()
let listening = false

/** `file` is removed when the process exits, unless `removeNow` or `forgetAtExit` is called first. */
export const removeAtExit = (file: string): void => {
  if (!listening) {
    listening = true
    process.on("exit", () => open.forEach((each) => rmSync(each, { force: true })))
  }
  open.add(file)
}

/** `file` removed now, by its owner (its scope closed). */
export const removeNow = (file: string): void => {
  rmSync(file, { force: true })
  open.delete(file)
}

/** `file` is no longer removed at exit: it is gone already, or moved into place under another name. */
export const forgetAtExit = (file: string): void => {
  open.delete(file)
}
