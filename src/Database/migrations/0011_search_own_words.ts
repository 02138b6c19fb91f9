/**
 * The search index holds Inkwell's own words (`indexedWords` in Posts/internal/search.ts), written
 * by the repository with each post, no longer what each engine's tokenizer made of the text:
 *
 * - PostgreSQL's parser dropped what it took for no letter: "co₂" was indexed and searched as
 *   "co", and the query's last word a prefix, so `q=CO₂` found nearly every post ("n²", "m²" too).
 * - SQLite's Unicode tables are older than JavaScript's: the query's Cherokee, Georgian Mtavruli,
 *   Adlam or Osage capitals were lowercased, the index's left as written, and never found.
 * - Neither splits Chinese, Japanese or Thai, written without spaces: a word inside a sentence was
 *   no word of the index.
 *
 * Words are now read in NFKC and lowercased by JavaScript, the runs of those scripts indexed as
 * their characters and pairs of neighbours, in every store alike; no engine can make them, so the
 * repository writes each post's entry in the transaction that writes the post
 * (`writeSearchEntries`), and this migration writes every stored post's again (`rewriteSearchIndex`).
 *
 * SQLite: the FTS5 table is made again with the `ascii` tokenizer (which splits our words at the
 * spaces between them, and takes every non-ASCII character as part of a word). The insert trigger
 * now only gives a new post its `post_search_ids.doc`. PostgreSQL: the trigger writing documents
 * is dropped. On both, an update of a post's title, tags or body drops its entry (the repository
 * writes the new one next): a row changed by hand is not found by words it no longer has, though
 * only by Inkwell's next write of it by its new ones. A post deleted takes its entry along, as
 * before (SQLite's delete trigger, PostgreSQL's ON DELETE CASCADE).
 *
 * The entries are made by the current `indexedWords`, not a copy frozen here: they must be what
 * the repository's queries look up. A later change to the words makes a migration of its own.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { rewriteSearchIndex } from "../../Posts/internal/searchIndex.js"

const postgres = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TRIGGER post_search_write ON posts`
  yield* sql`DROP FUNCTION post_search_write()`
  yield* sql`
    CREATE FUNCTION post_search_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM post_search WHERE post_id = OLD.id;
      RETURN NULL;
    END $$
  `
  yield* sql`
    CREATE TRIGGER post_search_stale AFTER UPDATE OF title, tags, body ON posts
    FOR EACH ROW EXECUTE FUNCTION post_search_stale()
  `
  yield* rewriteSearchIndex(sql, "pg")
})

const sqlite = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TRIGGER post_search_insert`
  yield* sql`DROP TRIGGER post_search_update`
  yield* sql`DROP TABLE post_search`
  // Column order is bm25's weight order (SqlPostRepository's search).
  yield* sql`
    CREATE VIRTUAL TABLE post_search USING fts5(
      title, tags, body, content = '', contentless_delete = 1, tokenize = 'ascii'
    )
  `
  yield* sql`
    CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN
      INSERT INTO post_search_ids (post_id) VALUES (new.id);
    END
  `
  // A post's id never changes (a rename keeps it): its entry is written again under the same doc.
  yield* sql`
    CREATE TRIGGER post_search_update AFTER UPDATE OF title, tags, body ON posts BEGIN
      DELETE FROM post_search WHERE rowid = (SELECT doc FROM post_search_ids WHERE post_id = old.id);
    END
  `
  yield* rewriteSearchIndex(sql, "sqlite")
})

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => sqlite }))
