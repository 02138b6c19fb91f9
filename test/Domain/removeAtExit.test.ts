/**
 * What a process killed outright left in a directory (a file, or a directory with what it
 * holds: a copy of an SQLite database read where SQLite could not make its -wal and -shm) is
 * removed by a later run once its process is gone and it has lain an hour; nothing else is.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { removeLeftovers, removeNow } from "../../src/Domain/removeAtExit.js"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

describe("removeLeftovers", () => {
  it("removes a dead process's directory with what it holds, an hour on; not a running process's, nor one of another name (was: files only)", () => {
    const directory = mkdtempSync(join(tmpdir(), "inkwell-leftovers-"))
    dirs.push(directory)
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid
    const made = (name: string) => {
      mkdirSync(join(directory, name))
      writeFileSync(join(directory, name, "blog.db"), "copy")
      writeFileSync(join(directory, name, "blog.db-shm"), "")
    }
    made(`copy-${dead}-abc`)
    made(`copy-${process.pid}-def`)
    made("other")
    const pidOf = (name: string) => (name.startsWith("copy-") ? Number(name.split("-")[1]) : undefined)
    removeLeftovers(directory, pidOf)
    assert.strictEqual(readdirSync(directory).length, 3, "not an hour old: all kept")
    removeLeftovers(directory, pidOf, Date.now() + 2 * 3_600_000)
    assert.sameMembers(readdirSync(directory), [`copy-${process.pid}-def`, "other"])
  })

  it("removeNow takes a directory with what it holds (was: files only)", () => {
    const directory = mkdtempSync(join(tmpdir(), "inkwell-leftovers-"))
    dirs.push(directory)
    writeFileSync(join(directory, "blog.db"), "copy")
    removeNow(directory)
    assert.isFalse(existsSync(directory))
  })
})
