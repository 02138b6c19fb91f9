/**
 * A real Inkwell server for browser tests and screenshots: the production layers (SQLite in a
 * temporary directory, migrations, pool, SQL repository, processor, API with keys, request
 * middleware) plus the site's routes, listening on an ephemeral port of 127.0.0.1; and
 * Debian's Chromium driven by playwright-core with a fresh profile.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium } from "playwright-core"
import { DatabaseLive, ImportFeedsLive, postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import * as Server from "../../src/Http/Server.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"
import * as SiteRoutes from "../../src/Site/Routes.js"
import { SiteConfig, SiteConfigFromEnv } from "../../src/Site/SiteConfig.js"

export const API_KEY = "e2e-key-0f3a9c"
export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

/** A directory removed with the scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const RepositoryLive = SqlPostRepository.layer.pipe(Layer.provide(DatabaseLive))

/**
 * SITE_URL is the server's own address, known only once it listens: the site's configuration
 * is read from the environment, then pointed at it.
 */
const SiteConfigAtServer = Layer.effect(
  SiteConfig,
  Effect.gen(function* () {
    const config = yield* SiteConfigFromEnv
    const server = yield* HttpServer.HttpServer
    const address = server.address
    const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : config.url
    return { ...config, url }
  })
)

/** The whole server over SQLite at `dir`, configured as production is: through the environment. */
export const serverAt = (dir: string, env: Record<string, string> = {}) =>
  Server.serveConfig.pipe(
    Layer.provide(SiteRoutes.layer),
    Layer.provide(SiteConfigAtServer),
    Layer.provide(postsWith(RepositoryLive)),
    Layer.provideMerge(RepositoryLive),
    Layer.provide(ApiKeys.layerConfig),
    Layer.provide(ImportFeedsLive),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provide(
      Layer.setConfigProvider(
        ConfigProvider.fromMap(
          new Map(
            Object.entries({
              DATABASE_URL: `sqlite:${join(dir, "inkwell.db")}`,
              INKWELL_API_KEYS: API_KEY,
              SITE_TITLE: "The Inkwell Journal",
              SITE_DESCRIPTION: "Notes on types, effects and the craft of software",
              SITE_AUTHOR: "The Inkwell team",
              ...env
            })
          )
        )
      )
    )
  )

/** The server's base URL. */
export const baseUrl = Effect.map(HttpServer.HttpServer, (server) =>
  server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : ""
)

/** Creates a post through the HTTP API, as a client would; fails unless it answers 201. */
export const createPost = (base: string, post: Record<string, unknown> | string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post(`${base}/posts`).pipe(
      HttpClientRequest.setHeader("x-api-key", API_KEY),
      typeof post === "string" ? HttpClientRequest.bodyText(post, "text/markdown") : HttpClientRequest.bodyUnsafeJson(post)
    )
    const response = yield* client.execute(request)
    const body = yield* response.text
    if (response.status !== 201) return yield* Effect.die(new Error(`POST /posts answered ${response.status}: ${body}`))
    return JSON.parse(body) as { readonly slug: string }
  }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))

/** Chromium flags that keep a headless run quiet, offline and reproducible. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic"
]

/** The one edge with playwright's promises. */
export const pw = <A>(run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause))) })

/** Headless Chromium with a fresh profile, closed and removed with the scope. */
export const browser = Effect.gen(function* () {
  const profile = yield* tempDir("inkwell-chromium-")
  return yield* Effect.acquireRelease(
    pw(() =>
      chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1200, height: 900 }
      })
    ),
    (context: BrowserContext) => Effect.promise(() => context.close())
  )
})
