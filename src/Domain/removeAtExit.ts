import { lstatSync, readdirSync, rmSync } from "node:fs"
import { join } from "node:path"

/**
 * Temporary files (the import's scratch ledger, the export's file before it is renamed into
 * place) and directories (a copy of a database SQLite cannot read where it is) removed when the
 * process exits with them still open. A second Ctrl-C ends the CLI at
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
    process.on("exit", () => open.forEach((each) => rmSync(each, { recursive: true, force: true })))
  }
  open.add(file)
}

/** `file` (a directory with what it holds) removed now, by its owner (its scope closed). */
export const removeNow = (file: string): void => {
  rmSync(file, { recursive: true, force: true })
  open.delete(file)
}

/** `file` is no longer removed at exit: it is gone already, or moved into place under another name. */
export const forgetAtExit = (file: string): void => {
  open.delete(file)
}

/** How long a dead process's file is let be: a live one in another PID namespace sharing the directory (a container's) writes more often. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000

/** Whether process `pid` runs on this machine (EPERM: another user's, running). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Removes from `directory` what a process of this user killed outright (SIGKILL: the OOM killer,
 * `kill -9`) left there: the files (or directories) that `pidOf` reads a pid from, the process
 * that made them, when that process is gone and the file was untouched for an hour. An
 * `exit` listener never runs for such a death, so each one left its file for good (an import's
 * ledger: ~0.5 KB per post read). Whatever cannot be read or removed is left as it is: tidying
 * up never fails the run that does it.
 */
export const removeLeftovers = (directory: string, pidOf: (name: string) => number | undefined, now: number = Date.now()): void => {
  let names: ReadonlyArray<string>
  try {
    names = readdirSync(directory)
  } catch {
    return
  }
  const uid = process.getuid?.()
  for (const name of names) {
    const pid = pidOf(name)
    if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || running(pid)) continue
    const file = join(directory, name)
    try {
      const info = lstatSync(file)
      if ((info.isFile() || info.isDirectory()) && (uid === undefined || info.uid === uid) && now - info.mtimeMs > LEFTOVER_AGE_MS) {
        rmSync(file, { recursive: true, force: true })
      }
    } catch {
      // Gone already, or not ours to look at.
    }
  }
}
