/**
 * The server's feed client refuses its own network (Destination.ts): which addresses, and that
 * a guarded FeedClient refuses them on every hop, typed and without retrying, before a
 * connection is made. The CLI's unguarded client still fetches from 127.0.0.1 (FeedClient.test.ts
 * does nothing else).
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FeedClient, makeFeedClient } from "../../src/Clients/FeedClient.js"
import { anAddress, guardedLookup, refusedKind } from "../../src/Clients/Destination.js"
import { FeedClientOptions } from "../../src/Clients/FeedClientOptions.js"
import { type FeedError, isTransient } from "../../src/Clients/FeedErrors.js"
import { testServer } from "./server.js"

describe("anAddress", () => {
  it("says a kind with its article (was: \"a unspecified address\")", () => {
    assert.strictEqual(anAddress("unspecified"), "an unspecified address")
    assert.strictEqual(anAddress("loopback"), "a loopback address")
    assert.strictEqual(anAddress("shared (CGNAT)"), "a shared (CGNAT) address")
  })
})

describe("refusedKind", () => {
  it("names the server's own network, IPv4, IPv6 and IPv4-mapped, and lets public addresses through", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ["127.0.0.1", "loopback"],
      ["127.255.0.9", "loopback"],
      ["10.1.2.3", "private"],
      ["172.16.0.1", "private"],
      ["172.31.255.255", "private"],
      ["172.32.0.1", undefined],
      ["192.168.1.1", "private"],
      ["169.254.169.254", "link-local"],
      ["100.64.0.1", "shared (CGNAT)"],
      ["100.127.255.254", "shared (CGNAT)"],
      ["100.128.0.1", undefined],
      ["0.0.0.0", "unspecified"],
      ["224.0.0.1", "multicast"],
      ["255.255.255.255", "broadcast"],
      ["8.8.8.8", undefined],
      ["93.184.216.34", undefined],
      ["::1", "loopback"],
      ["::", "unspecified"],
      ["fc00::1", "private"],
      ["fd12:3456::1", "private"],
      ["fe80::1", "link-local"],
      ["fe80::1%eth0", "link-local"],
      ["ff02::1", "multicast"],
      // IPv4 inside IPv6: NAT64, 6to4, IPv4-translated reach the IPv4 address; Teredo is refused.
      ["64:ff9b::a00:1", "private"],
      ["64:ff9b::7f00:1", "loopback"],
      ["64:ff9b:1::a00:1", "private"],
      ["64:ff9b::808:808", undefined],
      ["2002:a00:1::", "private"],
      ["2002:7f00:1::1", "loopback"],
      ["2002:808:808::", undefined],
      ["::ffff:0:7f00:1", "loopback"],
      ["2001:0:4136:e378::1", "reserved"],
      ["192.0.0.8", "reserved"],
      ["198.18.0.1", "reserved"],
      ["240.0.0.1", "reserved"],
      ["192.0.1.1", undefined],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::ffff:169.254.169.254", "link-local"],
      ["::ffff:a00:1", "private"],
      ["0:0:0:0:0:ffff:c0a8:0101", "private"],
      ["::ffff:8.8.8.8", undefined],
      ["2606:4700:4700::1111", undefined],
      ["2001:db8::1", undefined]
    ]
    for (const [address, kind] of cases) assert.strictEqual(refusedKind(address), kind, address)
  })

  it("the agents' lookup refuses a name that resolves to loopback", () =>
    new Promise<void>((done, fail) => {
      guardedLookup("localhost", { all: true }, (error) => {
        try {
          assert.instanceOf(error, Error)
          assert.match(String(error), /localhost resolves to (127\.0\.0\.1|::1), a loopback address/)
          done()
        } catch (e) {
          fail(e)
        }
      })
    }))
})

const guarded = FeedClient.layerGuarded(FeedClientOptions.make().retries(3).backoff("1 hour"))
const refusal = (url: string) => Effect.flip(Effect.flatMap(FeedClient, (c) => c.get(url)))

const assertRefused = (error: FeedError, url: string, address: RegExp, kind: string) => {
  assert.strictEqual(error._tag, "DestinationRefused", error.message)
  if (error._tag !== "DestinationRefused") return
  assert.strictEqual(error.url, url)
  assert.match(error.address, address)
  assert.strictEqual(error.kind, kind)
  assert.include(error.message, `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} address`)
  assert.include(error.message, "set FEED_ALLOW_PRIVATE=true to allow")
  // Not retried: with retries 3 and an hour's backoff, a retry would leave the test hanging.
  assert.isFalse(isTransient(error))
}

describe("FeedClient.layerGuarded", () => {
  it.scoped("refuses 127.0.0.1, localhost (at connect time) and [::ffff:127.0.0.1]: the server never sees a request", () =>
    Effect.gen(function*() {
      const server = yield* testServer((_req, res) => res.end("secret"))
      const port = new URL(server.url).port
      const literal = `http://127.0.0.1:${port}/feed`
      assertRefused(yield* refusal(literal), literal, /^127\.0\.0\.1$/, "loopback")
      assert.include((yield* refusal(literal)).message, `${literal}: 127.0.0.1 is a loopback address`)
      const named = `http://localhost:${port}/feed`
      const byName = yield* refusal(named)
      assertRefused(byName, named, /^(127\.0\.0\.1|::1)$/, "loopback")
      assert.include(byName.message, "localhost resolves to")
      const mapped = `http://[::ffff:127.0.0.1]:${port}/feed`
      assertRefused(yield* refusal(mapped), `http://[::ffff:7f00:1]:${port}/feed`, /^::ffff:7f00:1$/, "loopback")
      assert.strictEqual(server.count(), 0)
    }).pipe(Effect.provide(guarded)))

  it.scoped("refuses the cloud metadata address without connecting", () =>
    Effect.gen(function*() {
      const url = "http://169.254.169.254/latest/meta-data/"
      assertRefused(yield* refusal(url), url, /^169\.254\.169\.254$/, "link-local")
      const check = yield* Effect.flip(Effect.flatMap(FeedClient, (c) => c.checkDestination(url)))
      assert.strictEqual(check._tag, "DestinationRefused")
    }).pipe(Effect.provide(guarded)))

  it.scoped("checks every redirect: a hop to a refused literal IP or to localhost is refused, and never requested", () =>
    Effect.gen(function*() {
      const server = yield* testServer((_req, res) => res.end("secret"))
      const port = new URL(server.url).port
      const requested: Array<string> = []
      // The first hop stands for a public host (none can be reached offline): answered here with
      // a redirect; any other hop goes out through the guarded Node client, as in production.
      const redirects: Record<string, string> = {
        "http://public.example/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "http://public.example/to-localhost": `http://localhost:${port}/db`
      }
      const node = yield* Effect.provide(
        HttpClient.HttpClient,
        NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ lookup: guardedLookup })))
      )
      const fake = HttpClient.make((request, url) => {
        requested.push(url.href)
        const location = redirects[url.href]
        return location === undefined
          ? node.execute(request)
          : Effect.succeed(HttpClientResponse.fromWeb(request, new Response(null, { status: 302, headers: { location } })))
      })
      const client = yield* makeFeedClient(FeedClientOptions.make().retries(3).backoff("1 hour").settings, true).pipe(
        Effect.provideService(HttpClient.HttpClient, fake)
      )
      const metadata = yield* Effect.flip(client.get("http://public.example/to-metadata"))
      assertRefused(metadata, "http://169.254.169.254/latest/meta-data/", /^169\.254\.169\.254$/, "link-local")
      const local = yield* Effect.flip(client.get("http://public.example/to-localhost"))
      assertRefused(local, `http://localhost:${port}/db`, /^(127\.0\.0\.1|::1)$/, "loopback")
      assert.deepStrictEqual(requested, ["http://public.example/to-metadata", "http://public.example/to-localhost", `http://localhost:${port}/db`])
      assert.strictEqual(server.count(), 0)
    }))
})
