/**
 * Full-text search of posts (`PostRepository.search`): an index over each post's title, tags
 * and body (markdown source), kept by the database itself on every write, whichever path writes
 * (create, update and rename, delete, import batches, a hand-run statement), and filled here
 * for the posts stored before it.
 *
 * SQLite: an FTS5 table, contentless (the text is in `posts` already; only the index is kept)
 * with `contentless_delete`, so a post's entry can be dropped by rowid. Its rowids are
 * `post_search_ids.doc`, an INTEGER PRIMARY KEY mapped to the post's id: `posts` has an implicit
 * rowid, which VACUUM may renumber, so the index cannot point at it. Triggers on `posts` keep
 * both tables. The tokenizer is unicode61 without removing diacritics: a word is a run of
 * letters and digits, case folded, "café" is not "cafe" (as in PostgreSQL's 'simple'
 * configuration and the memory store; `searchTerms` in Posts/internal/search.ts).
 *
 * PostgreSQL: `post_search`, one tsvector per post (`searchDocument`) with a GIN index, written
 * by a trigger on `posts` and dropped with the post (ON DELETE CASCADE). In a table of its own,
 * not a column of `posts`: every `SELECT *` of the hot paths would read it (the tsvector of a
 * body is about as large as the body). Stored, not an expression index: ranking needs each
 * match's tsvector, and computing it again per match cost 2 s for a word found in 5,000 posts of
 * 2.7 KB (5 ms stored). The 'simple' configuration (lowercase, no stemming, no stop words): a
 * blog's language is not known, tags and names must match as written, and it matches the same
 * words as the other stores; 'english' would stem ("running" finds "run") in PostgreSQL only.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The tsvector PostgreSQL stores for a post whose columns are named with `prefix` (`NEW.` in the
 * trigger): title weight A, tags B, body D (`SEARCH_WEIGHTS` in Posts/internal/search.ts).
 * `tags` is the JSON text column: its quotes and commas are separators to the parser.
 */
const searchDocument = (prefix: string) =>
  `setweight(to_tsvector('simple'::regconfig, ${prefix}title), 'A') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${prefix}tags), 'B') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${prefix}body), 'D')`

const postgres = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE post_search (
      post_id TEXT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
      document tsvector NOT NULL
    )
  `
  yield* sql`CREATE INDEX post_search_document_idx ON post_search USING GIN (document)`
  yield* sql.unsafe(`
    CREATE FUNCTION post_search_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO post_search (post_id, document) VALUES (NEW.id, ${searchDocument("NEW.")})
      ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
      RETURN NULL;
    END $$
  `)
  // A post's id never changes (a rename keeps it): its row is rewritten in place.
  yield* sql`
    CREATE TRIGGER post_search_write AFTER INSERT OR UPDATE OF title, tags, body ON posts
    FOR EACH ROW EXECUTE FUNCTION post_search_write()
  `
  yield* sql.unsafe(`INSERT INTO post_search (post_id, document) SELECT id, ${searchDocument("")} FROM posts`)
})

const sqlite = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE post_search_ids (doc INTEGER PRIMARY KEY, post_id TEXT NOT NULL UNIQUE)`
  // Column order is bm25's weight order (SqlPostRepository's search).
  yield* sql`
    CREATE VIRTUAL TABLE post_search USING fts5(
      title, tags, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
    )
  `
  yield* sql`
    CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN
      INSERT INTO post_search_ids (post_id) VALUES (new.id);
      INSERT INTO post_search (rowid, title, tags, body)
        SELECT doc, new.title, new.tags, new.body FROM post_search_ids WHERE post_id = new.id;
    END
  `
  // A post's id never changes (a rename keeps it): its entry is rewritten under the same doc.
  yield* sql`
    CREATE TRIGGER post_search_update AFTER UPDATE OF title, tags, body ON posts BEGIN
      DELETE FROM post_search WHERE rowid = (SELECT doc FROM post_search_ids WHERE post_id = old.id);
      INSERT INTO post_search (rowid, title, tags, body)
        SELECT doc, new.title, new.tags, new.body FROM post_search_ids WHERE post_id = new.id;
    END
  `
  yield* sql`
    CREATE TRIGGER post_search_delete AFTER DELETE ON posts BEGIN
      DELETE FROM post_search WHERE rowid = (SELECT doc FROM post_search_ids WHERE post_id = old.id);
      DELETE FROM post_search_ids WHERE post_id = old.id;
    END
  `
  yield* sql`INSERT INTO post_search_ids (post_id) SELECT id FROM posts`
  yield* sql`
    INSERT INTO post_search (rowid, title, tags, body)
    SELECT m.doc, p.title, p.tags, p.body FROM post_search_ids m CROSS JOIN posts p WHERE p.id = m.post_id
  `
})

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => sqlite }))
