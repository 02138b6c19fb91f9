/**
 * Source tests without a network: a FeedClient over a test `HttpClient` that answers from a
 * route table, plus helpers to read fixtures and split a stream's items.
 */
import { readFileSync } from "node:fs"
import type { IncomingMessage, ServerResponse } from "node:http"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Chunk, type DateTime, Effect, Layer, Stream } from "effect"
import { FeedClient } from "../../src/Clients/FeedClient.js"
import type { PostInput } from "../../src/Domain/Post.js"
import type { SourceItem } from "../../src/Sources/SourceItem.js"

export const fixture = (name: string): string => readFileSync(new URL(`../fixtures/feeds/${name}`, import.meta.url), "utf8")

/** A request listener for a real test server: the RSS fixture at /feed.xml, 404 elsewhere. */
export const rssAtFeedXml = (req: IncomingMessage, res: ServerResponse): void => {
  if (req.url === "/feed.xml") {
    res.writeHead(200, { "content-type": "application/rss+xml" })
    res.end(fixture("rss.xml"))
  } else {
    res.writeHead(404)
    res.end()
  }
}

export interface Route {
  readonly body: string | Uint8Array
  readonly type?: string
  readonly status?: number
  readonly headers?: Record<string, string>
}

/**
 * A FeedClient whose HttpClient answers `routes[pathname + search]` or `routes[pathname]`, else
 * 404; or what `routes`, a function, answers for `pathname + search`.
 */
export const servedBy = (routes: Readonly<Record<string, Route>> | ((path: string) => Route | undefined), seen: Array<string> = []) =>
  FeedClient.layer({ retries: 0 }).pipe(
    Layer.provide(Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request, url) =>
        Effect.sync(() => {
          seen.push(url.pathname + url.search)
          const route = typeof routes === "function" ? routes(url.pathname + url.search) : routes[url.pathname + url.search] ?? routes[url.pathname]
          const response = route === undefined
            ? new Response("not found", { status: 404 })
            : new Response(route.body as BodyInit, {
              status: route.status ?? 200,
              headers: { ...(route.type === undefined ? {} : { "content-type": route.type }), ...route.headers }
            })
          return HttpClientResponse.fromWeb(request, response)
        })
      )
    ))
  )

export interface Collected {
  readonly items: ReadonlyArray<SourceItem>
  readonly entries: ReadonlyArray<{
    readonly source: string
    readonly input: PostInput
    readonly createdAt?: DateTime.Utc | undefined
    readonly formerSources?: ReadonlyArray<string> | undefined
  }>
  readonly rejected: ReadonlyArray<{ readonly source: string; readonly reason: string; readonly skipped: boolean }>
}

export const collect = <E, R>(stream: Stream.Stream<SourceItem, E, R>): Effect.Effect<Collected, E, R> =>
  Effect.map(Stream.runCollect(stream), (chunk) => {
    const items = Chunk.toReadonlyArray(chunk)
    return {
      items,
      entries: items.flatMap((i) => (i._tag === "Entry" ? [i] : [])),
      rejected: items.flatMap((i) => (i._tag === "Rejected" ? [i] : []))
    }
  })
