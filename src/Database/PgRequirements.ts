/**
 * What Inkwell needs of a PostgreSQL database beyond a connection, checked at start before the
 * migrations: a database that lacks it would run, and answer searches wrongly, or fail a
 * migration with PostgreSQL's words instead of the setting to change.
 *
 * - `server_encoding` UTF8: the search index is built from the text in NFC (`normalize`, which
 *   PostgreSQL has only in UTF8, migration 0007), and posts hold any Unicode.
 * - `lc_ctype` other than C (or POSIX): PostgreSQL's text search takes letters and case from it.
 *   Under C only ASCII is a letter: "Äpfel" was indexed as "Äpfel" and "äpfel" found nothing,
 *   nor "école", "αθηνα", or words beside curly quotes or a no-break space. A UTF-8 locale
 *   (C.UTF-8, en_US.UTF-8) reads them as SQLite and the memory store do.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"

/** The database at DATABASE_URL has a setting Inkwell cannot work with; `fix` says how to make one it can. */
export class DatabaseUnsupported extends Schema.TaggedError<DatabaseUnsupported>()("DatabaseUnsupported", {
  database: Schema.String,
  setting: Schema.Literal("server_encoding", "lc_ctype"),
  value: Schema.String,
  why: Schema.String,
  fix: Schema.String
}) {
  override get message(): string {
    return `the PostgreSQL database "${this.database}" has ${this.setting} ${this.value}: ${this.why}; ${this.fix}`
  }
}

/** `createdb`'s words for a database that has what Inkwell needs, named `database`. */
const recreate = (database: string) =>
  `create the database with a UTF-8 locale (createdb --encoding=UTF8 --locale=C.UTF-8 --template=template0 ${database}, ` +
  `or --locale=en_US.UTF-8) and import an export of the blog into it`

const isC = (ctype: string) => ctype === "C" || ctype === "POSIX"

/** Fails with `DatabaseUnsupported` on a PostgreSQL database Inkwell cannot serve rightly; nothing on SQLite. */
export const check: Effect.Effect<void, DatabaseUnsupported | SqlError.SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql.onDialectOrElse({
      pg: () =>
        sql<{ readonly database: string; readonly encoding: string; readonly ctype: string }>`
          SELECT current_database() AS database, current_setting('server_encoding') AS encoding,
            current_setting('lc_ctype') AS ctype`.pipe(
          Effect.flatMap(([row]) => {
            if (row === undefined) return Effect.void
            const refused = (setting: "server_encoding" | "lc_ctype", value: string, why: string) =>
              new DatabaseUnsupported({ database: row.database, setting, value, why, fix: recreate(row.database) })
            if (row.encoding !== "UTF8") {
              return refused("server_encoding", row.encoding, "Inkwell needs UTF8 (posts hold any Unicode; search indexes them in NFC)")
            }
            if (isC(row.ctype)) {
              return refused(
                "lc_ctype",
                row.ctype,
                "PostgreSQL's text search then knows only ASCII letters, so search would miss words such as \"äpfel\" or \"école\""
              )
            }
            return Effect.void
          })
        ),
      orElse: () => Effect.void
    })
).pipe(Effect.withSpan("PgRequirements.check"))

/** The SqlClient it is given, once `check` has passed: migrations built over it run only on a database Inkwell can serve. */
export const layer: Layer.Layer<SqlClient.SqlClient, DatabaseUnsupported | SqlError.SqlError, SqlClient.SqlClient> = Layer.effectContext(
  Effect.zipRight(check, Effect.context<SqlClient.SqlClient>())
)
