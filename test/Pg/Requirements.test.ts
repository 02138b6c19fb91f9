/**
 * A PostgreSQL database Inkwell would serve wrongly is refused at start, before the migrations,
 * with the setting and how to make a database that has what it needs: LC_CTYPE C (search then
 * knows only ASCII letters: "äpfel" found nothing) and an encoding other than UTF8.
 */
import { assert, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Exit, Layer } from "effect"
import { describeFailure, SqlMigrated } from "../../src/App.js"
import { adminQuery, describePg, PG_TEST_URL, withDatabase } from "../fixtures/pg.js"

/** A fresh database made with `options` (CREATE DATABASE's), dropped after `f`. */
const withCreated = <A, E>(options: string, f: (url: string, name: string) => Effect.Effect<A, E>) => {
  const name = `inkwell_req_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  return Effect.acquireUseRelease(
    Effect.promise(() => adminQuery(`CREATE DATABASE ${name} ${options}`)),
    () => f(withDatabase(PG_TEST_URL, name), name),
    () => Effect.promise(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  )
}

/** The server's start on `url`: DATABASE_URL's client, checked and migrated. */
const start = (url: string) =>
  Layer.build(SqlMigrated).pipe(
    Effect.scoped,
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", url], ["DB_MAX_CONNECTIONS", "2"]]))),
    Effect.exit
  )

describePg("PostgreSQL requirements at start", () => {
  it.live("a database with LC_CTYPE C is refused before any migration, naming the setting and the createdb that fixes it", () =>
    withCreated("TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", (url, name) =>
      Effect.gen(function*() {
        const exit = yield* start(url)
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const error = Cause.squash(exit.cause) as { readonly _tag?: string; readonly setting?: string; readonly value?: string }
          assert.strictEqual(error._tag, "DatabaseUnsupported")
          assert.strictEqual(error.setting, "lc_ctype")
          assert.strictEqual(error.value, "C")
          const line = describeFailure(exit.cause)
          assert.include(line, `unsupported database: the PostgreSQL database "${name}" has lc_ctype C`)
          assert.include(line, `createdb --encoding=UTF8 --locale=C.UTF-8 --template=template0 ${name}`)
        }
        const created = yield* Effect.promise(() =>
          adminQuery("SELECT COUNT(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'", url))
        assert.strictEqual(created.rows[0].n, 0, "no migration ran")
      })))

  it.live("a database in SQL_ASCII is refused, naming the encoding", () =>
    withCreated("TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'", (url) =>
      Effect.gen(function*() {
        const exit = yield* start(url)
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) assert.include(describeFailure(exit.cause), "has server_encoding SQL_ASCII: Inkwell needs UTF8")
      })))

  it.live("a database with a UTF-8 locale starts", () =>
    withCreated("TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'", (url) =>
      Effect.map(start(url), (exit) => assert.isTrue(Exit.isSuccess(exit), Exit.isFailure(exit) ? describeFailure(exit.cause) : ""))))
})
