/**
 * A real HTTP server on 127.0.0.1 (port 0) for client tests, closed with the test's scope.
 * Every request is counted and announced on `requests`, so a test can wait for "the server has
 * seen attempt n" before moving the TestClock, instead of sleeping.
 */
import * as Http from "node:http"
import { Chunk, Effect, Queue, type Scope, TestClock, TestServices } from "effect"

export interface SeenRequest {
  /** 1-based, in arrival order. */
  readonly n: number
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
}

export interface TestServer {
  readonly url: string
  readonly requests: Queue.Queue<SeenRequest>
  /** Requests received so far. */
  readonly count: () => number
}

export type Handler = (req: Http.IncomingMessage, res: Http.ServerResponse, seen: SeenRequest) => void

export const testServer = (handler: Handler): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const requests = yield* Queue.unbounded<SeenRequest>()
    let count = 0
    const server = Http.createServer((req, res) => {
      const seen: SeenRequest = { n: ++count, path: req.url ?? "/", headers: req.headers }
      requests.unsafeOffer(seen)
      handler(req, res, seen)
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address()
    if (address === null || typeof address === "string") return yield* Effect.die("server has no port")
    return { url: `http://127.0.0.1:${address.port}`, requests, count: () => count }
  })

/**
 * Waits (in real time) until some fiber sleeps on the TestClock, and returns the wake-up
 * times. Real I/O finishes on its own schedule; this is the point at which it has handed
 * control back to an Effect timer (a backoff or a timeout), so `TestClock.adjust` is safe.
 */
export const awaitSleeping: Effect.Effect<ReadonlyArray<number>> = Effect.gen(function*() {
  for (let i = 0; i < 2000; i++) {
    const sleeps = yield* TestClock.sleeps()
    if (Chunk.isNonEmpty(sleeps)) return Chunk.toReadonlyArray(sleeps)
    yield* TestServices.provideLive(Effect.sleep("2 millis"))
  }
  return yield* Effect.die("no fiber went to sleep on the TestClock within 4 s")
})

/**
 * Waits (in real time) until a fiber sleeps on the TestClock for a delay `isBackoff` accepts,
 * and returns it. The per-attempt timeout and the deadline sleep too while a request is in
 * flight; a test picks settings where those are longer than any backoff.
 */
export const awaitBackoff = (isBackoff: (ms: number) => boolean): Effect.Effect<number> =>
  Effect.gen(function*() {
    for (let i = 0; i < 2000; i++) {
      const now = yield* TestClock.currentTimeMillis
      const delays = Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => at - now).filter(isBackoff)
      if (delays.length > 0) return Math.min(...delays)
      yield* TestServices.provideLive(Effect.sleep("2 millis"))
    }
    return yield* Effect.die("no backoff sleep on the TestClock within 4 s")
  })

/** Milliseconds from the TestClock's now until the earliest pending sleep ends. */
export const nextSleepIn: Effect.Effect<number> = Effect.gen(function*() {
  const sleeps = yield* awaitSleeping
  const now = yield* TestClock.currentTimeMillis
  return Math.min(...sleeps) - now
})
