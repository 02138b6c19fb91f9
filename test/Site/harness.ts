/**
 * The whole HTTP side as the server runs it (API, docs and the site's routes behind the request
 * middleware) on an ephemeral port, over ONE in-memory repository that tests also write to.
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import { type MiddlewareOptions, requestMiddleware } from "../../src/Http/Middleware.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { SiteConfig, type SiteConfigShape } from "../../src/Site/SiteConfig.js"
import { atFixtureNow } from "../fixtures/clock.js"
import { makeNewPost, type NewPostOverrides } from "../fixtures/posts.js"

export const KEY = "site-test-key-1234"
export const SITE_URL = "https://blog.example.com"

/**
 * `config` may depend on the address the server listens at (`origin`, `http://127.0.0.1:<port>`):
 * a SITE_URL of its own, as a deployed site has, for a client to follow its links.
 */
export const siteServer = (
  config: Partial<SiteConfigShape> | ((origin: string) => Partial<SiteConfigShape>) = {},
  repository: Layer.Layer<PostRepository> = MemoryPostRepository.layer,
  middleware: Partial<MiddlewareOptions> = {}
) =>
  Server.serve(requestMiddleware({ requestTimeout: "30 seconds", maxBodySize: 1024 * 1024, retryAfterSeconds: 1, ...middleware })).pipe(
    Layer.provide(SiteRoutes.layer),
    Layer.provide(postsWith(repository)),
    Layer.provide(ApiKeys.layer([KEY])),
    Layer.provide(ImportFeedsLive),
    Layer.provide(Layer.unwrapEffect(Effect.map(HttpServer.HttpServer, (server) => {
      const origin = server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : SITE_URL
      const given = typeof config === "function" ? config(origin) : config
      return SiteConfig.layer({ title: "Test Blog", description: "Words & things", url: SITE_URL, ...given })
    }))),
    // The same layer value as the one inside `postsWith`: built once, shared.
    Layer.provideMerge(repository),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(atFixtureNow)
  )

export const seed = (...posts: ReadonlyArray<NewPostOverrides>) =>
  Effect.flatMap(PostRepository, (repository) => Effect.forEach(posts, (post) => repository.create(makeNewPost(post))))

export interface Fetched {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

const read = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.text, (body): Fetched => ({ status: response.status, headers: response.headers, body }))

/** GET as a browser would (Accept: text/html), redirects not followed. */
export const fetchPage = (path: string, headers: Record<string, string> = {}) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(
      HttpClientRequest.get(path).pipe(
        HttpClientRequest.setHeaders({ accept: "text/html,application/xhtml+xml,*/*;q=0.8", ...headers })
      )
    )
  ).pipe(Effect.flatMap(read), Effect.scoped)

/** GET with only the given headers. */
export const fetchRaw = (path: string, headers: Record<string, string> = {}) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.execute(HttpClientRequest.get(path).pipe(HttpClientRequest.setHeaders(headers)))
  ).pipe(Effect.flatMap(read), Effect.scoped)

/**
 * GET `path` as `fetchPage` does and assert it moved to `location` (301, `Location`), the path
 * named in a failure; the answer, for what a test checks of it besides.
 */
export const assertMoved = (path: string, location: string) =>
  Effect.map(fetchPage(path), (moved) => {
    assert.strictEqual(moved.status, 301, path)
    assert.strictEqual(moved.headers["location"], location, path)
    return moved
  })
