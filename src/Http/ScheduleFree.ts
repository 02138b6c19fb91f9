/**
 * Said by a reader-site handler whose answer does not change when a scheduled post's time comes
 * (robots.txt, the stylesheet: they list no posts, and the site sends their max-age uncut), so
 * that the response cache keeps it as it is: not ended at the next scheduled post's time, its
 * max-age not counted down to it. Kept as every other site answer (pages, feeds, the sitemap:
 * `Routes.cacheControlSince`), both were sent with a shorter max-age from memory than the site
 * sends, and made again at each scheduled post's time. Every answer that says nothing is taken
 * to change then: a route that forgets costs a shorter max-age, never a stale page.
 * Provided by `ResponseCache` to each site read it may keep; absent elsewhere (no cache), where
 * saying it does nothing.
 */
import { Context, Effect, Option } from "effect"

export class ScheduleFree extends Context.Tag("Inkwell/ScheduleFree")<ScheduleFree, { readonly say: () => void }>() {}

/** This answer does not change with the schedule: the response cache, if there is one, keeps it so. */
export const sayScheduleFree: Effect.Effect<void> = Effect.flatMap(
  Effect.serviceOption(ScheduleFree),
  Option.match({ onNone: () => Effect.void, onSome: (scheduleFree) => Effect.sync(scheduleFree.say) })
)
