/**
 * What one import run has met so far, on disk: each slug's first post (identity and source), the
 * post that stored it and where that first post was stored instead (a suffix), each source's
 * first item and whether several items carry it, and the internal links (`@/...`) to check once
 * the run has stored every post: resolved from their files, or carried by an export.
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
import { Effect, Runtime, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { removeAtExit, removeLeftovers, removeNow } from "../Domain/removeAtExit.js"
import type { CarriedLink, ResolvedLink } from "../Processing/internalLinks.js"

/** A link an export gave a post's page (`CarriedLink`), and where it is (the record that carried it). */
export interface CarriedLinkAt extends CarriedLink {
  readonly at: string
}

/** The first post of the run with a slug. */
export interface Claim {
  readonly identity: string
  readonly source: string
}

export interface ImportLedger {
  /** The slug's first post in this run; when there is none, `identity` becomes it. */
  readonly claim: (slug: string, identity: string, source: string) => Claim | undefined
  /** The slug's first post in this run (`claim`), if a post asked for it; without claiming it. */
  readonly claimOf: (slug: string) => Claim | undefined
  /** Records that `identity` carries `source`; a source carried by several items is pinned. */
  readonly meetSource: (source: string, identity: string) => void
  readonly isPinned: (source: string) => boolean
  /** The first item that carried `source` in this run (`meetSource`), if any. */
  readonly sourceOwner: (source: string) => string | undefined
  /** Records that `identity` (carrying `source`) stored `slug` in this run (the last one to store it is kept). */
  readonly stored: (slug: string, identity: string, source?: string) => void
  /**
   * Records that `identity`, which asked for `slug` (`claim`), was stored under `storedSlug`
   * instead (a suffix; or its copy an earlier run suffixed, found again).
   */
  readonly storedElsewhere: (slug: string, identity: string, storedSlug: string) => void
  /** Where the post that claimed `slug` was stored instead (`storedElsewhere`), if it was. */
  readonly storedInstead: (slug: string) => string | undefined
  /** Who stored `slug` in this run, if anyone did. */
  readonly storedBy: (slug: string) => string | undefined
  /** Who stored `slug` in this run and from which source (if `stored` was told it), in one lookup. */
  readonly storedEntry: (slug: string) => { readonly identity: string; readonly source: string | undefined } | undefined
  /**
   * Keeps an internal link whose target was not stored at its slug when the link's post was (a
   * post later in the input), to check once the run has stored everything (`linksToCheck`).
   */
  readonly checkLater: (link: ResolvedLink) => void
  /** The links `checkLater` kept, in their order, `limit` at a time: those after number `after` (0 for the first). */
  readonly linksToCheck: (after: number, limit: number) => ReadonlyArray<ResolvedLink & { readonly n: number }>
  /** Keeps a link an export gave a post's page, whose target was not stored at that slug when the link's post was. */
  readonly checkCarriedLater: (link: CarriedLinkAt) => void
  /** The links `checkCarriedLater` kept, as `linksToCheck` gives its own. */
  readonly carriedToCheck: (after: number, limit: number) => ReadonlyArray<CarriedLinkAt & { readonly n: number }>
  readonly transaction: <A>(f: () => A) => A
}

const schema = `
  CREATE TABLE slugs (slug TEXT PRIMARY KEY, identity TEXT NOT NULL, source TEXT NOT NULL, stored_by TEXT, stored_source TEXT, stored_instead TEXT) WITHOUT ROWID;
  CREATE TABLE sources (source TEXT PRIMARY KEY, identity TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
  CREATE TABLE links (n INTEGER PRIMARY KEY, at TEXT NOT NULL, href TEXT NOT NULL, target TEXT NOT NULL, slug TEXT NOT NULL);
  CREATE TABLE carried (n INTEGER PRIMARY KEY, at TEXT NOT NULL, href TEXT NOT NULL, slug TEXT NOT NULL);
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

/** The ledger's statements, prepared on one database. */
const statements = (db: Sqlite.Database) => ({
  // The common case (a slug or source met for the first time) is one statement: the insert.
  insertClaim: db.prepare<[string, string, string]>("INSERT OR IGNORE INTO slugs (slug, identity, source) VALUES (?, ?, ?)"),
  getClaim: db.prepare<[string], Claim>("SELECT identity, source FROM slugs WHERE slug = ?"),
  insertOwner: db.prepare<[string, string]>("INSERT OR IGNORE INTO sources (source, identity) VALUES (?, ?)"),
  getOwner: db.prepare<[string], { identity: string }>("SELECT identity FROM sources WHERE source = ?"),
  pin: db.prepare<[string]>("UPDATE sources SET pinned = 1 WHERE source = ? AND pinned = 0"),
  getPinned: db.prepare<[string], { pinned: number }>("SELECT pinned FROM sources WHERE source = ?"),
  // A slug is claimed before it is stored, but a suffixed copy's slug never was: insert it then.
  setStored: db.prepare<[string, string, string, string | null]>(
    "INSERT INTO slugs (slug, identity, source, stored_by, stored_source) VALUES (?, ?, '', ?, ?) ON CONFLICT (slug) DO UPDATE SET stored_by = excluded.stored_by, stored_source = excluded.stored_source"
  ),
  getStored: db.prepare<[string], { stored_by: string | null; stored_source: string | null }>(
    "SELECT stored_by, stored_source FROM slugs WHERE slug = ?"
  ),
  insertLink: db.prepare<[string, string, string, string]>("INSERT INTO links (at, href, target, slug) VALUES (?, ?, ?, ?)"),
  getLinks: db.prepare<[number, number], ResolvedLink & { readonly n: number }>(
    "SELECT n, at, href, target, slug FROM links WHERE n > ? ORDER BY n LIMIT ?"
  ),
  // Only the claimant's: a slug claimed by another post than the one stored elsewhere is not its.
  setInstead: db.prepare<[string, string, string]>("UPDATE slugs SET stored_instead = ? WHERE slug = ? AND identity = ? AND source <> ''"),
  getInstead: db.prepare<[string], { stored_instead: string | null }>("SELECT stored_instead FROM slugs WHERE slug = ?"),
  insertCarried: db.prepare<[string, string, string]>("INSERT INTO carried (at, href, slug) VALUES (?, ?, ?)"),
  getCarried: db.prepare<[number, number], CarriedLinkAt & { readonly n: number }>(
    "SELECT n, at, href, slug FROM carried WHERE n > ? ORDER BY n LIMIT ?"
  )
})
type Statements = ReturnType<typeof statements>
type Write = "insertClaim" | "insertOwner" | "pin" | "setStored" | "insertLink" | "setInstead" | "insertCarried"

/** A write the disk refused: the file cannot grow (`SQLITE_FULL`) or be written (`SQLITE_IOERR_*`). */
const isDiskFailure = (error: unknown): boolean => {
  const code = (error as { readonly code?: unknown } | null)?.code
  return typeof code === "string" && (code === "SQLITE_FULL" || code.startsWith("SQLITE_IOERR"))
}

/**
 * The ledger over `file` (`undefined`: in memory already). Should the disk refuse a write mid-run
 * (TMPDIR filling up), the ledger moves into memory and goes on, so the run does too: it reads
 * what the file holds as of its last commit, replays the writes of the open transaction and the
 * refused one, and removes the file. Before, the run ended there with one line and no summary.
 */
const ledgerOver = (
  file: { readonly db: Sqlite.Database; readonly filename: string } | { readonly db: Sqlite.Database; readonly filename: undefined },
  onMovedToMemory: (cause: unknown) => void
): ImportLedger & { readonly close: () => void } => {
  let db = file.db
  let filename = file.filename
  let st: Statements = statements(db)
  /** The writes of the open transaction, to replay in memory. */
  let journal: Array<readonly [Write, ReadonlyArray<string | null>]> | undefined

  const moveToMemory = (cause: unknown) => {
    try {
      if (db.inTransaction) db.exec("ROLLBACK")
    } catch {
      // Rolled back by SQLite already.
    }
    const image = db.serialize()
    db.close()
    if (filename !== undefined) removeNow(filename)
    filename = undefined
    db = new Sqlite(image)
    st = statements(db)
    if (journal !== undefined) {
      db.exec("BEGIN")
      for (const [write, args] of journal) (st[write].run as (...a: ReadonlyArray<string | null>) => Sqlite.RunResult)(...args)
    }
    onMovedToMemory(cause)
  }

  /** Runs a write; a refused one moves the ledger into memory and runs there. */
  const write = (name: Write, ...args: ReadonlyArray<string | null>): Sqlite.RunResult => {
    const run = () => (st[name].run as (...a: ReadonlyArray<string | null>) => Sqlite.RunResult)(...args)
    let result: Sqlite.RunResult
    try {
      result = run()
    } catch (error) {
      if (filename === undefined || !isDiskFailure(error)) throw error
      moveToMemory(error)
      result = run()
    }
    journal?.push([name, args])
    return result
  }

  const commit = () => {
    try {
      db.exec("COMMIT")
    } catch (error) {
      if (filename === undefined || !isDiskFailure(error)) throw error
      moveToMemory(error)
      db.exec("COMMIT")
    }
  }

  // Sources shared by several items are rare: until one is, no source needs looking up.
  let pinned = 0
  return {
    claim: (slug, identity, source) => write("insertClaim", slug, identity, source).changes === 1 ? undefined : st.getClaim.get(slug),
    claimOf: (slug) => {
      const claim = st.getClaim.get(slug)
      // A slug first met as a suffixed copy's (`setStored`) was asked for by no post.
      return claim === undefined || claim.source === "" ? undefined : claim
    },
    meetSource: (source, identity) => {
      if (write("insertOwner", source, identity).changes === 1) return
      if (st.getOwner.get(source)?.identity !== identity) pinned += write("pin", source).changes
    },
    isPinned: (source) => pinned > 0 && st.getPinned.get(source)?.pinned === 1,
    sourceOwner: (source) => st.getOwner.get(source)?.identity,
    stored: (slug, identity, source) => void write("setStored", slug, identity, identity, source ?? null),
    storedElsewhere: (slug, identity, storedSlug) => void write("setInstead", storedSlug, slug, identity),
    storedInstead: (slug) => st.getInstead.get(slug)?.stored_instead ?? undefined,
    storedBy: (slug) => st.getStored.get(slug)?.stored_by ?? undefined,
    storedEntry: (slug) => {
      const row = st.getStored.get(slug)
      return row?.stored_by == null ? undefined : { identity: row.stored_by, source: row.stored_source ?? undefined }
    },
    checkLater: (link) => void write("insertLink", link.at, link.href, link.target, link.slug),
    linksToCheck: (after, limit) => st.getLinks.all(after, limit),
    checkCarriedLater: (link) => void write("insertCarried", link.at, link.href, link.slug),
    carriedToCheck: (after, limit) => st.getCarried.all(after, limit),
    transaction: (f) => {
      // Nested: part of the open one.
      if (journal !== undefined) return f()
      db.exec("BEGIN")
      journal = []
      try {
        const result = f()
        commit()
        return result
      } catch (error) {
        if (db.inTransaction) db.exec("ROLLBACK")
        throw error
      } finally {
        journal = undefined
      }
    },
    close: () => {
      db.close()
      if (filename !== undefined) removeNow(filename)
    }
  }
}

/** A ledger's file name (`inkwell-import-<pid>-<uuid>.sqlite`), its pid captured. */
const LEDGER_FILE = /^inkwell-import-(\d+)-[0-9a-f-]{36}\.sqlite$/

/**
 * A ledger for one run, removed when the scope closes (or, failing that, when the process
 * exits; a process killed outright leaves it, for the next run there to remove: `removeLeftovers`).
 * `directory` defaults to the OS's temporary directory (`TMPDIR`).
 */
export const make = (directory: string = tmpdir()): Effect.Effect<ImportLedger, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const warn = (message: string) => Runtime.runSync(runtime)(Effect.logWarning(message))
    return yield* Effect.acquireRelease(
      Effect.sync(() => {
        removeLeftovers(directory, (name) => Number(LEDGER_FILE.exec(name)?.[1]))
        const filename = join(directory, `inkwell-import-${process.pid}-${randomUUID()}.sqlite`)
        let file: Parameters<typeof ledgerOver>[0]
        try {
          file = { db: open(filename), filename }
          removeAtExit(filename)
        } catch (error) {
          warn(`cannot make the import's scratch file in ${directory} (${String(error)}); keeping the run's slugs in memory`)
          file = { db: open(":memory:"), filename: undefined }
        }
        return ledgerOver(file, (cause) =>
          warn(`the import's scratch file in ${directory} cannot grow (${String(cause)}); keeping the run's slugs in memory from here on`))
      }),
      (ledger) => Effect.sync(() => ledger.close())
    )
  })
