/**
 * What one import run has met so far, on disk: each slug's first post (identity and source) and
 * the post that stored it, each source's first item and whether several items carry it.
 *
 * Kept in Maps, this grew with the input (≈ 37 MB per 100k posts, BENCHMARKS.md session 9), the
 * one thing in the pipeline that did. Here it lives in a scratch SQLite file of its own (not the
 * store's database: a dry run has none, and PostgreSQL would make each lookup a round trip), so
 * the process holds SQLite's bounded page cache whatever the input's size. The file is removed
 * when the run's scope closes; if no file can be made, the ledger is kept in memory instead and a
 * warning says so.
 *
 * Calls are synchronous (a prepared statement is microseconds, far below a post's rendering);
 * callers group a chunk's calls in one `transaction`.
 */
import Sqlite from "better-sqlite3"
import { Effect, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** The first post of the run with a slug. */
export interface Claim {
  readonly identity: string
  readonly source: string
}

export interface ImportLedger {
  /** The slug's first post in this run; when there is none, `identity` becomes it. */
  readonly claim: (slug: string, identity: string, source: string) => Claim | undefined
  /** Records that `identity` carries `source`; a source carried by several items is pinned. */
  readonly meetSource: (source: string, identity: string) => void
  readonly isPinned: (source: string) => boolean
  /** Records that `identity` (carrying `source`) stored `slug` in this run (the last one to store it is kept). */
  readonly stored: (slug: string, identity: string, source?: string) => void
  /** Who stored `slug` in this run, if anyone did. */
  readonly storedBy: (slug: string) => string | undefined
  /** Who stored `slug` in this run and from which source (if `stored` was told it), in one lookup. */
  readonly storedEntry: (slug: string) => { readonly identity: string; readonly source: string | undefined } | undefined
  readonly transaction: <A>(f: () => A) => A
}

const schema = `
  CREATE TABLE slugs (slug TEXT PRIMARY KEY, identity TEXT NOT NULL, source TEXT NOT NULL, stored_by TEXT, stored_source TEXT) WITHOUT ROWID;
  CREATE TABLE sources (source TEXT PRIMARY KEY, identity TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
`

const open = (filename: string): Sqlite.Database => {
  const db = new Sqlite(filename)
  try {
    // Scratch data: nothing to recover after a crash, so no fsync and the rollback journal in
    // memory (a chunk's few pages; this build refuses `OFF`). The page cache stays at SQLite's
    // default bound (2 MB); the OS caches the rest of the file.
    db.pragma("journal_mode = MEMORY")
    db.pragma("synchronous = OFF")
    db.pragma("locking_mode = EXCLUSIVE")
    db.exec(schema)
    return db
  } catch (error) {
    db.close()
    // Made but unusable (a full disk): the run falls back to memory and leaves no file behind.
    if (filename !== ":memory:") rmSync(filename, { force: true })
    throw error
  }
}

const fromDatabase = (db: Sqlite.Database): ImportLedger => {
  // The common case (a slug or source met for the first time) is one statement: the insert.
  const insertClaim = db.prepare<[string, string, string]>("INSERT OR IGNORE INTO slugs (slug, identity, source) VALUES (?, ?, ?)")
  const getClaim = db.prepare<[string], Claim>("SELECT identity, source FROM slugs WHERE slug = ?")
  const insertOwner = db.prepare<[string, string]>("INSERT OR IGNORE INTO sources (source, identity) VALUES (?, ?)")
  const getOwner = db.prepare<[string], { identity: string }>("SELECT identity FROM sources WHERE source = ?")
  const pin = db.prepare<[string]>("UPDATE sources SET pinned = 1 WHERE source = ? AND pinned = 0")
  const getPinned = db.prepare<[string], { pinned: number }>("SELECT pinned FROM sources WHERE source = ?")
  // A slug is claimed before it is stored, but a suffixed copy's slug never was: insert it then.
  const setStored = db.prepare<[string, string, string, string | null]>(
    "INSERT INTO slugs (slug, identity, source, stored_by, stored_source) VALUES (?, ?, '', ?, ?) ON CONFLICT (slug) DO UPDATE SET stored_by = excluded.stored_by, stored_source = excluded.stored_source"
  )
  const getStored = db.prepare<[string], { stored_by: string | null; stored_source: string | null }>(
    "SELECT stored_by, stored_source FROM slugs WHERE slug = ?"
  )
  // Sources shared by several items are rare: until one is, no source needs looking up.
  let pinned = 0
  return {
    claim: (slug, identity, source) => insertClaim.run(slug, identity, source).changes === 1 ? undefined : getClaim.get(slug),
    meetSource: (source, identity) => {
      if (insertOwner.run(source, identity).changes === 1) return
      if (getOwner.get(source)?.identity !== identity) pinned += pin.run(source).changes
    },
    isPinned: (source) => pinned > 0 && getPinned.get(source)?.pinned === 1,
    stored: (slug, identity, source) => void setStored.run(slug, identity, identity, source ?? null),
    storedBy: (slug) => getStored.get(slug)?.stored_by ?? undefined,
    storedEntry: (slug) => {
      const row = getStored.get(slug)
      return row?.stored_by == null ? undefined : { identity: row.stored_by, source: row.stored_source ?? undefined }
    },
    transaction: (f) => db.transaction(f)()
  }
}

/**
 * The scratch files of the runs still open. A second Ctrl-C ends the CLI at once
 * (`process.exit`), which closes no scope: without this, each such exit left a file in the
 * temporary directory for good. One listener for the process, however many runs (a server's
 * concurrent imports) are open.
 */
const openFiles = new Set<string>()
let exitListener = false
const removeAtExit = (filename: string) => {
  if (!exitListener) {
    exitListener = true
    process.on("exit", () => openFiles.forEach((file) => rmSync(file, { force: true })))
  }
  openFiles.add(filename)
}

/**
 * A ledger for one run, removed when the scope closes (or, failing that, when the process
 * exits). `directory` defaults to the OS's temporary directory (`TMPDIR`).
 */
export const make = (directory: string = tmpdir()): Effect.Effect<ImportLedger, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const filename = join(directory, `inkwell-import-${process.pid}-${randomUUID()}.sqlite`)
      return Effect.try(() => {
        const db = open(filename)
        removeAtExit(filename)
        return { db, filename: filename as string | undefined }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logWarning(
              `cannot make the import's scratch file in ${directory} (${String(error.error)}); keeping the run's slugs in memory`
            ),
            { db: open(":memory:"), filename: undefined }
          )
        )
      )
    }),
    ({ db, filename }) =>
      Effect.sync(() => {
        db.close()
        if (filename !== undefined) {
          rmSync(filename, { force: true })
          openFiles.delete(filename)
        }
      })
  ).pipe(Effect.map(({ db }) => fromDatabase(db)))
