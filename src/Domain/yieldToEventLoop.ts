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

/**
 * Work on this thread between two turns of the event loop, about, where long work gives one
 * (`yieldWhenBusy`): what another request may wait for. A turn costs a few microseconds.
 */
const BUSY_MILLIS = 10

/** When the last turn `yieldWhenBusy` waited for came (`performance.now()`). */
let lastTurn = performance.now()
/**
 * Fibers waiting for the next turn: those that waited for the last one and found its time spent
 * before their piece (`starved`), resumed first, then those that worked since (`worked`). In one
 * line, the fiber resumed first worked the turn's time away at every turn and the others only
 * waited (measured: 186 pieces against 1, 1 and 1 for four fibers).
 */
const starved = new Set<() => void>()
const worked = new Set<() => void>()
let nextTurn: NodeJS.Immediate | undefined

const turn = () => {
  nextTurn = undefined
  lastTurn = performance.now()
  const resumed = [...starved, ...worked]
  starved.clear()
  worked.clear()
  for (const resume of resumed) resume()
}

/**
 * After the event loop's next turn, with every other fiber waiting for it: one `setImmediate`
 * for all. Each on one of its own, they resumed one after the other in the same check phase,
 * each restarting the clock, and a run of ten fibers held the thread ten times `BUSY_MILLIS`
 * before the loop went on (measured: 80 ms between turns).
 */
const afterTurn = (line: Set<() => void>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const resumeThis = () => resume(Effect.void)
    line.add(resumeThis)
    nextTurn ??= setImmediate(turn)
    return Effect.sync(() => {
      line.delete(resumeThis)
    })
  })

const whenBusy = (line: Set<() => void>): Effect.Effect<void> =>
  Effect.suspend(() =>
    performance.now() - lastTurn < BUSY_MILLIS ? Effect.void : Effect.zipRight(afterTurn(line), whenBusy(starved))
  )

/**
 * Nothing, or, once this thread has worked `BUSY_MILLIS` since the last turn, waits for the
 * event loop's next turn (see `yieldToEventLoop`). For long synchronous work done in pieces (an
 * import renders and stores thousands of posts, a feed is read a slice at a time): each fiber of
 * it calls this before each piece. Once one has waited, the others find the time spent as well
 * and wait for the same turn; after it, each looks at the time again before its piece, so the
 * fibers that find the time spent by the ones resumed before them wait for the next turn, ahead
 * of those (`starved`). Another request waits about `BUSY_MILLIS` and one piece, whatever the
 * number of fibers (all resumed at once, eight fibers rendering 32 NDJSON lines each held the
 * thread for 150 ms). Real time, not the Effect `Clock`: it never waits for time to pass.
 */
export const yieldWhenBusy: Effect.Effect<void> = whenBusy(worked)

/** Work in steps (a generator that yields between two), run to its end at once. */
export const runSteps = <A>(steps: Generator<void, A>): A => {
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}

/** Work in steps (a generator that yields between two), Node's event loop given its turns between them (`yieldWhenBusy`). */
export const runStepsWithTurns = <A>(steps: Generator<void, A>): Effect.Effect<A> => {
  const next = (): Effect.Effect<A> =>
    Effect.suspend(() => {
      const step = steps.next()
      return step.done === true ? Effect.succeed(step.value) : Effect.zipRight(yieldWhenBusy, next())
    })
  return next()
}
