/**
 * An export file in a directory anyone may write to (sticky, as /tmp): what another user planted
 * there under the export's name (a symbolic link, a file) is not written through or replaced, as
 * the kernel's fs.protected_symlinks and fs.protected_regular keep a process from doing; what the
 * user or the directory's owner put there is, as anywhere else. The export resolves links itself
 * (it renames over the file a link leads to), so the kernel's rule never applied to it. Another
 * user's entries are made by `lchown`, which only root may do: skipped otherwise.
 */
import { spawnSync } from "node:child_process"
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as ExportOutput from "../../src/Export/ExportOutput.js"
import { tempDir } from "../Import/harness.js"

/** `nobody`: another user than the test's (root). */
const OTHER = 65534

const asRoot = process.geteuid?.() === 0

/** Writes `text` to `target` as an export does: through the temporary file, renamed into place. */
const exportTo = (target: string, text = "{}\n") =>
  Effect.scoped(Effect.gen(function*() {
    const output = yield* ExportOutput.file(target)
    yield* output.write(new TextEncoder().encode(text))
    yield* output.commit
  }))

/** The reason `target` was refused with (the test fails should it be written). */
const refusal = (target: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(exportTo(target))
    if (Exit.isSuccess(exit)) return assert.fail(`${target} was written`)
    assert.isTrue(exit.cause._tag === "Fail" && exit.cause.error._tag === "OutputUnavailable", String(exit))
    return exit.cause._tag === "Fail" ? exit.cause.error.message : ""
  })

/** `dir/name`, made a directory anyone may write to, each user's entries only theirs to remove (mode 1777, as /tmp). */
const stickyDirectory = (dir: string, name: string, owner = 0) => {
  const sticky = join(dir, name)
  mkdirSync(sticky)
  chmodSync(sticky, 0o1777)
  chownSync(sticky, owner, owner)
  return sticky
}

const temporaryFiles = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".tmp"))

describe("ExportOutput.file in a sticky directory anyone may write to", () => {
  it.live.skipIf(!asRoot)(
    "another user's symbolic link is not followed, nor is one further along a chain, nor their file replaced: refused naming it, what it leads to left as it was (was: a root export overwrote the file a planted link led to)",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir("inkwell-export-sticky-")
        const sticky = stickyDirectory(dir, "sticky")
        // Root's own, kept private: what a planted link would have the export overwrite.
        const victim = join(dir, "victim.conf")
        writeFileSync(victim, "secret\n")
        chmodSync(victim, 0o600)

        const planted = join(sticky, "backup.ndjson")
        symlinkSync(victim, planted)
        lchownSync(planted, OTHER, OTHER)
        assert.strictEqual(
          yield* refusal(planted),
          `cannot write to ${planted}: ${planted} is another user's symbolic link (uid ${OTHER}) in ${sticky}, a sticky directory anyone may write to: not followed (as fs.protected_symlinks has it)`
        )

        // The user's own link, in a directory of theirs, leading to the planted one: refused all the same.
        const mine = join(dir, "mine.ndjson")
        symlinkSync(planted, mine)
        assert.strictEqual(
          yield* refusal(mine),
          `cannot write to ${mine}: ${planted} is another user's symbolic link (uid ${OTHER}) in ${sticky}, a sticky directory anyone may write to: not followed (as fs.protected_symlinks has it)`
        )

        // A file planted under the name: replaced, it was given to its planter with the export in it.
        const file = join(sticky, "file.ndjson")
        writeFileSync(file, "planted\n")
        chmodSync(file, 0o666)
        chownSync(file, OTHER, OTHER)
        assert.strictEqual(
          yield* refusal(file),
          `cannot write to ${file}: ${file} is another user's file (uid ${OTHER}) in ${sticky}, a sticky directory anyone may write to: not replaced (as fs.protected_regular has it)`
        )

        assert.strictEqual(readFileSync(victim, "utf8"), "secret\n")
        assert.strictEqual(statSync(victim).mode & 0o777, 0o600)
        assert.isTrue(lstatSync(planted).isSymbolicLink())
        assert.strictEqual(readFileSync(file, "utf8"), "planted\n")
        assert.deepStrictEqual(temporaryFiles(dir), [])
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
  )

  it.live.skipIf(!asRoot)("the user's own link and file there, and the directory owner's, are written as anywhere else", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-sticky-")
      mkdirSync(join(dir, "real"))
      const sticky = stickyDirectory(dir, "sticky")
      // Owned by the other user: their links and files in it are the directory owner's.
      const theirs = stickyDirectory(dir, "theirs", OTHER)

      const own = join(sticky, "own.ndjson")
      symlinkSync(join(dir, "real", "own.ndjson"), own)
      yield* exportTo(own, "own\n")
      assert.strictEqual(readFileSync(join(dir, "real", "own.ndjson"), "utf8"), "own\n")

      const owners = join(theirs, "link.ndjson")
      symlinkSync(join(dir, "real", "owners.ndjson"), owners)
      lchownSync(owners, OTHER, OTHER)
      yield* exportTo(owners, "owner's\n")
      assert.strictEqual(readFileSync(join(dir, "real", "owners.ndjson"), "utf8"), "owner's\n")

      for (const [file, owner] of [[join(sticky, "file.ndjson"), 0], [join(theirs, "file.ndjson"), OTHER]] as const) {
        writeFileSync(file, "an earlier export\n")
        chownSync(file, owner, owner)
        yield* exportTo(file, "replaced\n")
        assert.strictEqual(readFileSync(file, "utf8"), "replaced\n", file)
        assert.strictEqual(statSync(file).uid, owner, `${file} keeps its owner`)
      }
      assert.deepStrictEqual(temporaryFiles(dir), [])
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)))
})

describe("ExportOutput.file after an export killed outright", () => {
  it.live("the temporary file a dead process left beside the target (SIGKILL before its rename) is removed once it has lain an hour; a recent one, and another target's, are not", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("inkwell-export-")
      const dead = spawnSync(process.execPath, ["-e", ""]).pid
      const hoursAgo = new Date(Date.now() - 2 * 3_600_000)
      const left = `.posts.ndjson.${dead}-k1lled.tmp`
      const recent = `.posts.ndjson.${dead}-rec3nt.tmp`
      const other = `.other.ndjson.${dead}-k1lled.tmp`
      for (const name of [left, recent, other]) writeFileSync(join(dir, name), "half an export")
      for (const name of [left, other]) utimesSync(join(dir, name), hoursAgo, hoursAgo)
      yield* exportTo(join(dir, "posts.ndjson"))
      assert.sameMembers(temporaryFiles(dir), [recent, other])
      assert.strictEqual(readFileSync(join(dir, "posts.ndjson"), "utf8"), "{}\n")
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)))
})
