/**
 * The SQL repository over the embedding app's own SqlClient, as README "Embedding" shows:
 * `DatabasePool.layer` over a `SqliteClient.layer` or `PgClient.layer` the host built with its
 * own options (name transforms), not SqlLive's.
 */
import type { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { assert, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Redacted, String as Str } from "effect"
import { DatabasePool, Migrations, PostRepository, SqlPostRepository } from "../../src/index.js"
import { adminQuery, describePg, freshSchema } from "../fixtures/pg.js"
import { makeNewPost } from "../fixtures/posts.js"
import { postRepositoryContract } from "./PostRepositoryContract.js"

const transforms = { transformResultNames: Str.snakeToCamel, transformQueryNames: Str.camelToSnake }

/** The repository an embedder builds: pool and migrations over a client of its own. */
const repositoryOver = <E>(client: Layer.Layer<SqlClient.SqlClient, E>) =>
  SqlPostRepository.layer.pipe(
    Layer.provide(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "5 seconds" })),
    Layer.provide(Migrations.layer.pipe(Layer.provideMerge(client)))
  )

postRepositoryContract(
  "a host's SqliteClient with name transforms",
  repositoryOver(SqliteClient.layer({ filename: ":memory:", ...transforms }))
)

describePg("SqlPostRepository over a host's PgClient.layer", () => {
  /** The host's PgClient on a fresh schema (dropped with the layer), and that schema's URL. */
  const hostPg = (options: Partial<PgClient.PgClientConfig> = {}) =>
    Layer.unwrapScoped(Effect.map(freshSchema, ({ url }) => repositoryOver(PgClient.layer({ url: Redacted.make(url), ...options }))))

  it.effect("reads back what it wrote when the host's client transforms names", () =>
    Effect.gen(function*() {
      const repo = yield* PostRepository
      const created = yield* repo.create(makeNewPost({ slug: "camel", tags: ["a"] }))
      const read = yield* repo.getBySlug("camel")
      assert.strictEqual(read.id, created.id)
      assert.deepStrictEqual(read.tags, ["a"])
      const page = yield* repo.list({})
      assert.deepStrictEqual(page.items.map((post) => post.slug), ["camel"])
    }).pipe(Effect.provide(hostPg(transforms))))

  it.scoped("a COMMIT the database refuses is a DatabaseError, not a defect", () =>
    Effect.gen(function*() {
      const { url, schema } = yield* freshSchema
      const repo = Context.get(yield* Layer.build(repositoryOver(PgClient.layer({ url: Redacted.make(url) }))), PostRepository)
      // Checked at COMMIT only: a deferred constraint trigger refusing `bad-*` slugs.
      yield* Effect.promise(() =>
        adminQuery(`
          CREATE FUNCTION ${schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.slug LIKE 'bad-%' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$;
          CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON ${schema}.posts
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse();
        `)
      )
      const exit = yield* Effect.exit(repo.create(makeNewPost({ slug: "bad-commit" })))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(error?._tag, "DatabaseError", String(exit.cause))
      }
      const after = yield* Effect.flip(repo.getBySlug("bad-commit"))
      assert.strictEqual(after._tag, "PostNotFound")
    }))
})
