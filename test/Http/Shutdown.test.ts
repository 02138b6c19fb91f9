/**
 * Graceful shutdown of `Server.layer`: closing its scope stops accepting connections, lets the
 * in-flight request finish, and only then completes (so the database closes after it).
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Exit, Fiber, Layer, Logger, Option, Scope } from "effect"
import { postsWith } from "../../src/App.js"
import { ApiKeys } from "../../src/Http/ApiKeys.js"
import * as Server from "../../src/Http/Server.js"
import * as MemoryPostRepository from "../../src/Posts/MemoryPostRepository.js"
import { PostRepository } from "../../src/Posts/PostRepository.js"
import { KEY } from "./harness.js"

describe("shutdown", () => {
  it.live("stops accepting, lets the in-flight request finish, then completes", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const listening = yield* Deferred.make<string>()
      const stopping = yield* Deferred.make<void>()

      const repository = Layer.effect(
        PostRepository,
        Effect.map(MemoryPostRepository.make, (base) => ({
          ...base,
          getBySlug: (slug: string) =>
            Deferred.succeed(started, undefined).pipe(
              Effect.zipRight(Deferred.await(release)),
              Effect.zipRight(base.getBySlug(slug))
            )
        }))
      )
      const logger = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message }) => {
          const text = String(message)
          const url = /listening on (http:\/\/\S+)/.exec(text)
          if (url !== null) Deferred.unsafeDone(listening, Exit.succeed(url[1]!))
          if (text.includes("Inkwell stopping")) Deferred.unsafeDone(stopping, Exit.void)
        })
      )
      const config = ConfigProvider.fromMap(new Map([["PORT", "0"], ["SHUTDOWN_GRACE", "20 seconds"]]))
      const server = Server.layer.pipe(
        Layer.provide(postsWith(repository)),
        Layer.provide(ApiKeys.layer([KEY])),
        Layer.provide(logger),
        Layer.provide(Layer.setConfigProvider(config))
      )

      const scope = yield* Scope.make()
      yield* Layer.buildWithScope(server, scope)
      const url = yield* Deferred.await(listening)
      const client = yield* HttpClient.HttpClient

      const inFlight = yield* Effect.fork(client.get(`${url}/posts/in-flight`))
      yield* Deferred.await(started)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* Deferred.await(stopping)

      const refused = yield* Effect.either(client.get(`${url}/health`))
      assert.isTrue(refused._tag === "Left", "a new connection is refused while draining")
      assert.isTrue(Option.isNone(yield* Fiber.poll(closing)), "shutdown waits for the in-flight request")

      yield* Deferred.succeed(release, undefined)
      const response = yield* Fiber.join(inFlight)
      assert.strictEqual(response.status, 404, "the in-flight request got its real answer")
      yield* Fiber.join(closing)
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )
})
