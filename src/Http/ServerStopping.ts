/**
 * Completed when the server starts shutting down. A handler that could run for long (a bulk
 * import) watches it, stops early and answers what it did, instead of being cut off with its
 * connection when SHUTDOWN_GRACE runs out, which leaves the client no answer at all.
 * Provided by `Server.layer` and `Server.serveDraining` to the requests they serve; absent elsewhere (tests,
 * a host serving with `HttpApiBuilder.serve()`).
 */
import { Context, type Deferred, type FiberSet } from "effect"

export class ServerStopping extends Context.Tag("Inkwell/ServerStopping")<ServerStopping, Deferred.Deferred<void>>() {}

/**
 * Where a request forks work that outlives it (a bulk import whose client left), so that the
 * server owns it: a shutdown awaits it with the requests, for SHUTDOWN_GRACE, then interrupts what
 * is left, before the database closes. Provided by `Server.layer` and `Server.serveDraining` beside `ServerStopping`.
 */
export class ServerFibers extends Context.Tag("Inkwell/ServerFibers")<ServerFibers, FiberSet.FiberSet<unknown, unknown>>() {}
