/**
 * Said by a write's handler when its request writes nothing (a dry run), so that the response
 * cache keeps its entries. The cache tells reads from writes before routing, by method and path;
 * whether an import is a dry run may be in its JSON body (`POST /posts/import-url`), which only
 * the handler decodes. Provided by `ResponseCache` to each write it wraps; absent elsewhere (an
 * embedding app's server, a test server without a cache), where saying it does nothing.
 */
import { Context, Effect, Option } from "effect"

export class NothingWritten extends Context.Tag("Inkwell/NothingWritten")<NothingWritten, { readonly say: () => void }>() {}

/** This request writes nothing: the response cache, if there is one, keeps its entries. */
export const sayNothingWritten: Effect.Effect<void> = Effect.flatMap(
  Effect.serviceOption(NothingWritten),
  Option.match({ onNone: () => Effect.void, onSome: (nothingWritten) => Effect.sync(nothingWritten.say) })
)
