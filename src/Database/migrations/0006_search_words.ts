/**
 * PostgreSQL's search index gets the words every other store has (`searchTerms` in
 * Posts/internal/search.ts: runs of letters and digits). Its parser reads more into a text than
 * words: "1.88" and "3.14" are one token each (a version, a number), as are `me@example.com`,
 * `example.com/path`, `/usr/bin` and "-1"; but a query's words are split at every `.`, `@`, `/`
 * and `-`, so "rust 1.88" (`'1' & '88'`) found no post about Rust 1.88 on PostgreSQL while
 * SQLite and the memory store found it. ASCII punctuation is now made a space before the text is
 * parsed, so a post's tokens are its words; text beyond ASCII is left to the parser, which reads
 * letters and digits as words and the rest as separators, as before.
 *
 * The trigger's function is replaced and every stored document written again. SQLite's
 * unicode61 tokenizer already splits there: nothing to do.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** `column` with every run of ASCII punctuation (! to /, : to @, [ to `, { to ~) made a space. */
const words = (column: string) => `regexp_replace(${column}, '[!-/:-@[-\`{-~]+', ' ', 'g')`

/** As 0005's, over `words` of each column: title weight A, tags B, body D. */
const searchDocument = (prefix: string) =>
  `setweight(to_tsvector('simple'::regconfig, ${words(`${prefix}title`)}), 'A') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${words(`${prefix}tags`)}), 'B') || ` +
  `setweight(to_tsvector('simple'::regconfig, ${words(`${prefix}body`)}), 'D')`

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

export default Effect.flatMap(SqlClient.SqlClient, (sql) => sql.onDialectOrElse({ pg: () => postgres, orElse: () => Effect.void }))
