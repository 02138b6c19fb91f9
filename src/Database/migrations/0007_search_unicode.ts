/**
 * The search index reads a text as `searchTerms` (Posts/internal/search.ts) does, beyond ASCII:
 *
 * - Combining marks are part of their word. unicode61 took only letters and digits as token
 *   characters, so Hindi "हिन्दी", Thai "สวัสดีครับ" or vowelled Arabic were split at every vowel
 *   sign into fragments; PostgreSQL's parser kept them whole. SQLite's table is made again with
 *   marks as token characters (`categories 'L* N* M*'`, without `Co`: private use characters are
 *   no word's in the other stores).
 * - "İ" (U+0130) is "i": SQLite does not fold it, PostgreSQL's lower does in some locales. Both
 *   are fed the text with it replaced.
 * - A Greek final "ς" is "σ": SQLite folds it so, PostgreSQL's lower keeps it. PostgreSQL is fed
 *   the text with it replaced.
 * - NFC: PostgreSQL indexes `normalize(text, NFC)`, so a text written decomposed ("cafe" and
 *   U+0301) is found by "café". SQLite has no normalize: Inkwell writes NFC, and the query also
 *   asks for a word's decomposed spelling (`ftsWord`).
 * - Only the body's first 200,000 characters (`MAX_INDEXED_CHARS`) are indexed: a tsvector holds
 *   at most 1 MB of distinct words, and a longer body (120,000 distinct words) failed the write
 *   with "string is too long for tsvector". The memory store and SQLite stop there too.
 *
 * SQLite's triggers are replaced (they feed the new expressions) and the FTS table is filled again
 * from `posts`; `post_search_ids` is kept. PostgreSQL's trigger function is replaced and every
 * stored document written again.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** `MAX_INDEXED_CHARS` in Posts/internal/search.ts, as this migration wrote it. */
const BODY_CHARS = 200000

/** As 0006's: every run of ASCII punctuation made a space, so PostgreSQL's tokens are words. */
const words = (text: string) => `regexp_replace(${text}, '[!-/:-@[-\`{-~]+', ' ', 'g')`

/** `column` in NFC with "İ" as "i" and "ς" as "σ" (same lengths: `left` may come before or after). */
const folded = (column: string) => `translate(normalize(${column}, NFC), 'İς', 'iσ')`

/** As 0006's, over `folded` columns, the body's first BODY_CHARS characters only. */
const searchDocument = (prefix: string) =>
  `setweight(to_tsvector('simple'::regconfig, ${words(folded(`${prefix}title`))}), 'A') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${words(folded(`${prefix}tags`))}), 'B') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${words(`left(${folded(`${prefix}body`)}, ${BODY_CHARS})`)}), 'D')`

const postgres = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE OR REPLACE FUNCTION post_search_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO post_search (post_id, document) VALUES (NEW.id, ${searchDocument("NEW.")})
      ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
      RETURN NULL;
    END $$
  `)
  yield* sql.unsafe(`UPDATE post_search s SET document = ${searchDocument("p.")} FROM posts p WHERE p.id = s.post_id`)
})

/** The FTS row's columns for a post whose columns are named with `prefix` (`new.` in a trigger). */
const ftsColumns = (prefix: string) =>
  `replace(${prefix}title, 'İ', 'i'), replace(${prefix}tags, 'İ', 'i'), replace(substr(${prefix}body, 1, ${BODY_CHARS}), 'İ', 'i')`

const sqlite = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TRIGGER post_search_insert`
  yield* sql`DROP TRIGGER post_search_update`
  yield* sql`DROP TABLE post_search`
  // Column order is bm25's weight order (SqlPostRepository's search).
  yield* sql`
    CREATE VIRTUAL TABLE post_search USING fts5(
      title, tags, body, content = '', contentless_delete = 1,
      tokenize = 'unicode61 remove_diacritics 0 categories ''L* N* M*'''
    )
  `
  yield* sql.unsafe(`
    CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN
      INSERT INTO post_search_ids (post_id) VALUES (new.id);
      INSERT INTO post_search (rowid, title, tags, body)
        SELECT doc, ${ftsColumns("new.")} FROM post_search_ids WHERE post_id = new.id;
    END
  `)
  // A post's id never changes (a rename keeps it): its entry is rewritten under the same doc.
  yield* sql.unsafe(`
    CREATE TRIGGER post_search_update AFTER UPDATE OF title, tags, body ON posts BEGIN
      DELETE FROM post_search WHERE rowid = (SELECT doc FROM post_search_ids WHERE post_id = old.id);
      INSERT INTO post_search (rowid, title, tags, body)
        SELECT doc, ${ftsColumns("new.")} FROM post_search_ids WHERE post_id = new.id;
    END
  `)
  yield* sql.unsafe(`
    INSERT INTO post_search (rowid, title, tags, body)
    SELECT m.doc, ${ftsColumns("p.")} FROM post_search_ids m CROSS JOIN posts p WHERE p.id = m.post_id
  `)
})

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => sqlite }))
