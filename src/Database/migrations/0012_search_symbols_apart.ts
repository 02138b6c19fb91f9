/**
 * A symbol stands apart from the words beside it: "reasons™" is the words "reasons" and "tm", not
 * "reasonstm", "№5" is "no" and "5" (`fold` in Posts/internal/search.ts). Read in NFKC alone, a
 * symbol whose compatibility form is letters ("™" is "TM", "№" is "No", "㎏" is "kg") was glued to
 * the word before or after it, so `q=reasons` missed "subtle reasons™". The queries are made so
 * from now on; this migration writes every stored post's entry again (`rewriteSearchIndex`), as
 * 0011 did, so that the index holds the words the queries look up.
 *
 * SQLite: the FTS5 table is emptied first (its rows are only ever inserted, under each post's
 * `post_search_ids.doc`). PostgreSQL: each post's document is written over the one it had.
 *
 * Like 0011's, the entries are made by the current `indexedWords`: a later change to the words
 * makes a migration of its own.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { rewriteSearchIndex } from "../../Posts/internal/searchIndex.js"

const postgres = Effect.flatMap(SqlClient.SqlClient, (sql) => rewriteSearchIndex(sql, "pg"))

const sqlite = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO post_search (post_search) VALUES ('delete-all')`
  yield* rewriteSearchIndex(sql, "sqlite")
})

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => sqlite }))
