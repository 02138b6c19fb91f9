/**
 * How long a 19 MB feed read the way `POST /posts/import-url` reads one holds the thread at once:
 * `fromUrl` through a FeedClient whose HttpClient answers from memory, its items drained as an
 * import takes them, while a `setImmediate` chain (one run a turn of the event loop) notes the
 * longest stretch between two turns. Another request waits about that long.
 *
 *   node --import tsx scripts/bench/feed-stalls.ts [checkout] [--reps n] [--profile <dir>] [--only <name>]
 *
 * `checkout`: the tree whose `src` is measured (default this one). Each body is read once to
 * warm up, then `--reps` times (default 3): min / median / max of the longest stretch, as the
 * machine's other work stretches any one. `--profile <dir>`: also
 * writes each stretch over 20 ms (`--over <ms>`; its start and end, `process.hrtime`) to
 * `<dir>/stretches.json`; run under `node --cpu-prof --cpu-prof-dir <dir> --cpu-prof-interval 200`
 * and `node scripts/bench/lib/stretch-profile.mjs <dir>` names what ran in each.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { atomEntry, fill, ghostPost, jsonItem, rssItem } from "./lib/bigFeeds.js"

const args = process.argv.slice(2)
const flag = (name: string) => {
  const at = args.indexOf(name)
  if (at === -1) return undefined
  const [value] = args.splice(at, 2).slice(1)
  return value
}
const profileDir = flag("--profile")
const only = flag("--only")
const reps = Number(flag("--reps") ?? 3)
const over = Number(flag("--over") ?? 20)
const root = args[0] ?? fileURLToPath(new URL("../..", import.meta.url))
const { fromUrl } = (await import(`${root}/src/Sources/FeedSource.ts`)) as typeof import("../../src/Sources/FeedSource.js")
const { FeedClient } = (await import(`${root}/src/Clients/FeedClient.ts`)) as typeof import("../../src/Clients/FeedClient.js")

const bodies: ReadonlyArray<{ readonly name: string; readonly type: string; readonly body: () => string }> = [
  {
    name: "json-feed",
    type: "application/feed+json",
    body: () => `{"version":"https://jsonfeed.org/version/1.1","title":"Big","items":[${fill(jsonItem, ",")}]}`
  },
  {
    name: "json-feed-small-items",
    type: "application/feed+json",
    body: () => `{"version":"https://jsonfeed.org/version/1.1","title":"Big","items":[${fill((i) => `{"id":${i},"content_text":"t${i}"}`, ",")}]}`
  },
  {
    name: "rss",
    type: "application/rss+xml",
    body: () => `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>\n${fill(rssItem)}</channel></rss>`
  },
  {
    name: "atom",
    type: "application/atom+xml",
    body: () => `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Big</title>\n${fill(atomEntry)}</feed>`
  },
  {
    name: "ghost",
    type: "application/json",
    body: () =>
      `{"db":[{"meta":{"exported_on":1700000000000,"version":"5.70.0"},"data":{"posts":[${fill(ghostPost, ",")}],"tags":[],"posts_tags":[],"users":[{"id":"u1","name":"A"}],"posts_authors":[]}}]}`
  }
]

/**
 * The body in 64 KB chunks, one a turn of the event loop, as a socket gives one: read from a
 * stream that has them all at once, the whole body was read in one stretch of promise callbacks.
 */
const chunked = (bytes: Uint8Array): ReadableStream<Uint8Array> => {
  let at = 0
  return new ReadableStream({
    pull: (controller) =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          if (at >= bytes.length) controller.close()
          else controller.enqueue(bytes.slice(at, at += 64 * 1024))
          resolve()
        })
      )
  })
}

const clientFor = (bytes: Uint8Array, type: string) =>
  FeedClient.layer({ retries: 0, maxBytes: 20 * 1024 * 1024, timeout: "5 minutes", deadline: "10 minutes" }).pipe(
    Layer.provide(Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request) => Effect.sync(() => HttpClientResponse.fromWeb(request, new Response(chunked(bytes), { headers: { "content-type": type } }))))
    ))
  )

const stretches: Array<{ readonly name: string; readonly from: number; readonly to: number }> = []
const hr = () => Number(process.hrtime.bigint() / 1000n)

/** The longest stretch between two turns while `run` runs, its time in all, and the items it gave. */
const measure = async (name: string, run: () => Promise<number>) => {
  let last = performance.now()
  let lastHr = hr()
  let longest = 0
  let turns = 0
  const tick = () => {
    const now = performance.now()
    if (now - last > over) stretches.push({ name, from: lastHr, to: hr() })
    longest = Math.max(longest, now - last)
    last = now
    lastHr = hr()
    turns++
    handle = setImmediate(tick)
  }
  let handle = setImmediate(tick)
  const start = performance.now()
  const items = await run()
  const total = performance.now() - start
  clearImmediate(handle)
  longest = Math.max(longest, performance.now() - last)
  return { longest, total, turns, items }
}

console.log(`${root}, ${reps} reps: min / median / max`)
for (const { body, name, type } of bodies) {
  if (only !== undefined && only !== name) continue
  const bytes = new TextEncoder().encode(body())
  const run = () =>
    Effect.runPromise(
      fromUrl("https://big.example/feed").pipe(
        Stream.runCount,
        Effect.provide(clientFor(bytes, type))
      )
    )
  // Warmed up once: the runs after it are what a server that has read feeds before does.
  await run()
  const runs: Array<Awaited<ReturnType<typeof measure>>> = []
  for (let r = 0; r < reps; r++) runs.push(await measure(name, run))
  const longest = runs.map((r) => r.longest).sort((a, b) => a - b)
  const total = runs.map((r) => r.total).sort((a, b) => a - b)
  const f = (n: number) => n.toFixed(1).padStart(6)
  console.log(
    `${`${name} (${(bytes.length / 1e6).toFixed(1)} MB)`.padEnd(32)} longest stretch ${f(longest[0]!)} / ${f(longest[Math.floor(reps / 2)]!)} / ${
      f(longest[reps - 1]!)
    } ms; in all ${total[Math.floor(reps / 2)]!.toFixed(0)} ms (median), ${runs[0]!.turns} turns, ${runs[0]!.items} items`
  )
}
if (profileDir !== undefined) writeFileSync(`${profileDir}/stretches.json`, JSON.stringify(stretches))
