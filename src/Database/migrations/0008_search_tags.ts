/**
 * Only the first 50,000 characters of a post's tags (the stored JSON array, `MAX_INDEXED_TAG_CHARS`
 * in Posts/internal/search.ts) are indexed for search, as the body's first 200,000 are (0007).
 * Uncapped, the tags of one post could overflow PostgreSQL's tsvector (1 MB of distinct words):
 * 4,900 tags of 100 "Ⱥ"/"Ⱦ" (3 bytes each lowercased) failed the write with "string is too long
 * for tsvector", and with it the whole import batch, where SQLite stored the post. Processing
 * allows 100 tags of 100 characters (about 10,000 characters of JSON), far below the cap: it
 * bounds what a repository's caller may store beside processing. 1,000 characters of title, 200,000
 * of body and 50,000 of tags, at 4 bytes a character at most, stay within the megabyte.
 *
 * Expressions as 0007's, the tags cut after NFC (as the body is). Only documents of posts whose
 * tags pass the cap are written again: no other document changes.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** `MAX_INDEXED_CHARS` in Posts/internal/search.ts, as 0007 wrote it. */
const BODY_CHARS = 200000
/** `MAX_INDEXED_TAG_CHARS` in Posts/internal/search.ts, as this migration wrote it. */
const TAG_CHARS = 50000

/** As 0007's. */
const words = (text: string) => `regexp_replace(${text}, '[!-/:-@[-\`{-~]+', ' ', 'g')`
const folded = (column: string) => `translate(normalize(${column}, NFC), 'İς', 'iσ')`

const searchDocument = (prefix: string) =>
  `setweight(to_tsvector('simple'::regconfig, ${words(folded(`${prefix}title`))}), 'A') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${words(`left(${folded(`${prefix}tags`)}, ${TAG_CHARS})`)}), 'B') || ` +
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
  yield* sql.unsafe(
    `UPDATE post_search s SET document = ${searchDocument("p.")} FROM posts p WHERE p.id = s.post_id AND length(p.tags) > ${TAG_CHARS}`
  )
})

/** As 0007's, the tags cut at TAG_CHARS. */
const ftsColumns = (prefix: string) =>
  `replace(${prefix}title, 'İ', 'i'), replace(substr(${prefix}tags, 1, ${TAG_CHARS}), 'İ', 'i'), replace(substr(${prefix}body, 1, ${BODY_CHARS}), 'İ', 'i')`

const sqlite = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`DROP TRIGGER post_search_insert`
  yield* sql`DROP TRIGGER post_search_update`
  yield* sql.unsafe(`
    CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN
      INSERT INTO post_search_ids (post_id) VALUES (new.id);
      INSERT INTO post_search (rowid, title, tags, body)
        SELECT doc, ${ftsColumns("new.")} FROM post_search_ids WHERE post_id = new.id;
    END
  `)
  yield* sql.unsafe(`
    CREATE TRIGGER post_search_update AFTER UPDATE OF title, tags, body ON posts BEGIN
      DELETE FROM post_search WHERE rowid = (SELECT doc FROM post_search_ids WHERE post_id = old.id);
      INSERT INTO post_search (rowid, title, tags, body)
        SELECT doc, ${ftsColumns("new.")} FROM post_search_ids WHERE post_id = new.id;
    END
  `)
  const long = `SELECT m.doc FROM post_search_ids m CROSS JOIN posts p WHERE p.id = m.post_id AND length(p.tags) > ${TAG_CHARS}`
  yield* sql.unsafe(`DELETE FROM post_search WHERE rowid IN (${long})`)
  yield* sql.unsafe(`
    INSERT INTO post_search (rowid, title, tags, body)
    SELECT m.doc, ${ftsColumns("p.")} FROM post_search_ids m CROSS JOIN posts p WHERE p.id = m.post_id AND length(p.tags) > ${TAG_CHARS}
  `)
})

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => sqlite }))
