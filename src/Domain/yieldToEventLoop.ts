import { Effect } from "effect"

/**
 * Resumes after Node's event loop has had a turn (`setImmediate`: after the poll phase, where
 * it accepts connections, reads requests and takes a worker's messages). `Effect.yieldNow()` does
 * not give one: it resumes through a microtask, and Effect's scheduler falls back to a timer only
 * after 2,048 of them. Not a clock: tests under `TestClock` pass through it as in production.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})
