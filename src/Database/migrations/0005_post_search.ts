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
 * PostgreSQL: a GIN index on an expression (`SEARCH_DOCUMENT`), not a stored tsvector column:
 * a column would be read by every `SELECT *` of the hot paths (the tsvector of a body is about
 * as large as the body). The 'simple' configuration (lowercase, no stemming, no stop words):
 * a blog's language is not known, tags and names must match as written, and it matches the
 * same words as the other stores; 'english' would stem ("running" finds "run") in PostgreSQL only.
 * Creating the index indexes the stored posts.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The tsvector PostgreSQL indexes and ranks, verbatim in queries (the planner uses the index
 * only for the very same expression): title weight A, tags B, body D (`SEARCH_WEIGHTS`). `tags`
 * is the JSON text column: its quotes and commas are separators to the parser.
 */
export const SEARCH_DOCUMENT =
  "(setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, tags), 'B') || " +
  "setweight(to_tsvector('simple'::regconfig, body), 'D'))"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () => sql`CREATE INDEX posts_search_idx ON posts USING GIN (${sql.literal(SEARCH_DOCUMENT)})`,
    orElse: () =>
      Effect.gen(function*() {
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
  })
})
