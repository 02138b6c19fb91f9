/**
 * A Node `ServerResponse` whose `end(..., callback)` always calls back, for the server
 * `Server.layer` creates.
 *
 * Why: Node calls `end`'s callback on 'finish' only, and a response whose connection is already
 * gone (the client left, or reset the connection) never finishes. The platform's
 * `NodeHttpServer` writes every answer with `end(body, callback)` and waits for that callback; it
 * interrupts a handler on 'close' only if the handler has not ended its response by then. A
 * request the front door had queued when its connection was reset was run after the close it
 * listens for, answered into the dead socket, and its fiber waited forever: a leak per such
 * request, and a shutdown that never finished waiting for them (seen whenever a load generator
 * stopped with requests in flight). Here `end` on a response whose connection is gone calls back
 * on the next tick, as Node reports other writes to a destroyed stream.
 */
import { type IncomingMessage, ServerResponse } from "node:http"

type Callback = (error?: Error | null) => void

/**
 * The class is anonymous, made by a function, so that no build step names it: esbuild's
 * `keepNames`, with which tsx compiles the server (`npm start`), names a declared class by
 * redefining its `name` (`__name` in a static block). V8 then never optimized this constructor,
 * nor Node's `parserOnIncoming`, which builds every response with it: each try was aborted
 * ("dependency change", ~8 times a second under load, a `parserOnIncoming` try taking 20-40 ms
 * of a compiler thread), so every request, cached answers included, ran them unoptimized
 * (BENCHMARKS.md, session 24).
 */
const settlingResponse = () =>
  class<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
    override end(chunkOrCallback?: unknown, encodingOrCallback?: unknown, callback?: unknown): this {
      // Checked, not listened for: a connection that dies after `end` still ends in 'finish'
      // (Node fails the pending write and finishes); only an `end` on a dead one never does. So
      // the common case pays two property reads, not a listener per response.
      if (!this.destroyed && this.socket?.destroyed !== true) {
        return super.end(chunkOrCallback as never, encodingOrCallback as never, callback as never)
      }
      const given = [callback, encodingOrCallback, chunkOrCallback].find((arg): arg is Callback => typeof arg === "function")
      if (given === undefined) return super.end(chunkOrCallback as never, encodingOrCallback as never)
      let settled = false
      const settle: Callback = (error) => {
        if (settled) return
        settled = true
        given(error)
      }
      process.nextTick(settle)
      if (typeof chunkOrCallback === "function") return super.end(settle)
      if (typeof encodingOrCallback === "function") return super.end(chunkOrCallback as never, settle)
      return super.end(chunkOrCallback as never, encodingOrCallback as never, settle)
    }
  }

export const SettlingResponse = settlingResponse()
export type SettlingResponse<Request extends IncomingMessage = IncomingMessage> = ServerResponse<Request>
