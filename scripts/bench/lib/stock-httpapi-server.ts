/**
 * The read-path benchmark's "stock" reference: a plain Effect `HttpApi` with one endpoint,
 * `GET /posts/:slug`, served by `NodeHttpServer` the way the platform's docs do it
 * (`HttpApiBuilder.serve()`), answering the same bytes as Inkwell. It measures what the stock
 * stack costs on THIS machine, so Inkwell's cache-off path can be compared with it.
 *
 *   node --import tsx stock-httpapi-server.ts <responses.json> <port> [source] [logger]
 *     source  map (default): the encoded bytes from a Map (the "answering from a Map")
 *             sql: `SELECT * FROM posts WHERE slug = ?` through @effect/sql-sqlite-node on
 *                  STOCK_DB, decoded with Inkwell's `rowToPost` and encoded with `encodePost`
 *             raw: the same query on a better-sqlite3 statement of our own, called synchronously
 *             blob: the response stored whole: `SELECT json, etag, status` from STOCK_JSON_DB, a table
 *                   (slug, etag, json BLOB, status) holding the same bytes (what storing the encoded
 *                   response at write time would leave to a read)
 *     logger  "logger": with `HttpMiddleware.logger` (logfmt to stdout, as the platform logs)
 *
 * Not used by `npm start`; see scripts/bench/http.ts (`--stock`).
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpMiddleware, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import Sqlite from "better-sqlite3"
import { Effect, Layer, Logger, Schema } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import { encodePost, etagOf } from "../../../src/Posts/Http.js"
import { rowToPost } from "../../../src/Posts/SqlPostRepository.js"

const [file, portArg, source = "map", logger = ""] = process.argv.slice(2)
// "-": the port is in PORT (as for the Inkwell server).
const port = portArg === "-" ? process.env["PORT"] : portArg

class NotFound extends Schema.TaggedError<NotFound>()("PostNotFound", { slug: Schema.String }) {}

const Api = HttpApi.make("stock").add(
  HttpApiGroup.make("posts").add(
    HttpApiEndpoint.get("get", "/posts/:slug")
      .setPath(Schema.Struct({ slug: Schema.String }))
      .addSuccess(Schema.Unknown)
      .addError(NotFound, { status: 404 })
  )
)

const data = JSON.parse(readFileSync(file!, "utf8")) as { posts: Array<[string, string, string]> }
const answers = new Map<string, { readonly body: Uint8Array; readonly etag: string }>()
if (source === "map") {
  for (const [path, body, etag] of data.posts) answers.set(path.slice("/posts/".length), { body: Buffer.from(body), etag })
}

const fromMap = (slug: string) => {
  const answer = answers.get(slug)
  return answer === undefined
    ? Effect.fail(new NotFound({ slug }))
    : Effect.succeed(HttpServerResponse.uint8Array(answer.body, { contentType: "application/json", headers: { etag: answer.etag } }))
}

const Handlers = HttpApiBuilder.group(Api, "posts", (handlers) =>
  Effect.gen(function* () {
    if (source === "map") return handlers.handle("get", ({ path }) => fromMap(path.slug))
    if (source === "blob") {
      const statement = new Sqlite(process.env["STOCK_JSON_DB"]!, { readonly: true })
        .prepare("SELECT json, etag, status FROM responses WHERE slug = ?")
      return handlers.handle("get", ({ path }) =>
        Effect.suspend(() => {
          const row = statement.get(path.slug) as { json: Buffer; etag: string; status: string } | undefined
          return row === undefined || row.status !== "published"
            ? Effect.fail(new NotFound({ slug: path.slug }))
            : Effect.succeed(HttpServerResponse.uint8Array(row.json, { contentType: "application/json", headers: { etag: row.etag } }))
        }))
    }
    if (source === "raw") {
      const statement = new Sqlite(process.env["STOCK_DB"]!, { readonly: true }).prepare("SELECT * FROM posts WHERE slug = ?")
      return handlers.handle("get", ({ path }) =>
        Effect.suspend(() => {
          const post = rowToPost(statement.get(path.slug))
          return post === undefined
            ? Effect.fail(new NotFound({ slug: path.slug }))
            : Effect.succeed(HttpServerResponse.unsafeJson(encodePost(post), { headers: { etag: etagOf(post) } }))
        }))
    }
    const sql = yield* SqlClient.SqlClient
    return handlers.handle("get", ({ path }) =>
      Effect.flatMap(Effect.orDie(sql`SELECT * FROM posts WHERE slug = ${path.slug}`), (rows) => {
        const post = rows.length === 0 ? undefined : rowToPost(rows[0])
        return post === undefined
          ? Effect.fail(new NotFound({ slug: path.slug }))
          : Effect.succeed(HttpServerResponse.unsafeJson(encodePost(post), { headers: { etag: etagOf(post) } }))
      }))
  })
)

const Sql = source === "sql"
  ? SqliteClient.layer({ filename: process.env["STOCK_DB"]! })
  : Layer.succeed(SqlClient.SqlClient, undefined as unknown as SqlClient.SqlClient)

const ApiLive = HttpApiBuilder.api(Api).pipe(Layer.provide(Handlers), Layer.provide(Sql))

const ServerLive = HttpApiBuilder.serve(logger === "logger" ? HttpMiddleware.logger : undefined).pipe(
  Layer.provide(ApiLive),
  Layer.provide(NodeHttpServer.layer(createServer, { port: Number(port), host: "127.0.0.1" })),
  Layer.provide(Logger.logFmt)
)

Layer.launch(ServerLive).pipe(NodeRuntime.runMain)
