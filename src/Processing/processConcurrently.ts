/**
 * Processes many items with bounded concurrency and returns EVERY outcome: the successes in
 * input order and each failure (typed error or defect) with the item's identity and reason.
 *
 * Each item runs under `Effect.exit`, because `Effect.partition` lets a defect kill the whole
 * batch and `Effect.validateAll` drops the successes when anything fails. Interrupting the
 * caller interrupts every child fiber (`Effect.forEach` owns them).
 */
import { Cause, Duration, Effect, Exit, Fiber, FiberRef, FiberRefs, Option, Runtime, Supervisor } from "effect"
import { describeFailure } from "../Domain/describeFailure.js"

export interface ProcessFailure<I> {
  readonly index: number
  readonly item: I
  /** What names the item to a user: a file path, "file.ndjson:12", a slug. */
  readonly identity: string
  /** One line, for summaries and reports. */
  readonly reason: string
  /** True when the failure was a defect (a thrown exception), not a typed error. */
  readonly defect: boolean
  readonly cause: Cause.Cause<unknown>
}

export interface ProcessSuccess<I, A> {
  readonly index: number
  readonly item: I
  readonly value: A
}

export interface ProcessReport<I, A> {
  /** Successes in input order. */
  readonly successes: ReadonlyArray<ProcessSuccess<I, A>>
  /** Failures in input order. */
  readonly failures: ReadonlyArray<ProcessFailure<I>>
}

export interface ProcessOptions<I> {
  readonly concurrency: number
  readonly identify: (item: I, index: number) => string
  /** Per-item deadline; an item that takes longer fails with a timeout reason. */
  readonly itemTimeout?: Duration.DurationInput | undefined
}

/** A one-line reason for a failure cause: the typed error's message, or the defect's. */
export const describeCause = (cause: Cause.Cause<unknown>): { readonly reason: string; readonly defect: boolean } => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return { reason: messageOf(failure.value), defect: false }
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect)) return { reason: `defect: ${messageOf(defect.value)}`, defect: true }
  if (Cause.isInterruptedOnly(cause)) return { reason: "interrupted", defect: false }
  return { reason: Cause.pretty(cause).split("\n")[0] ?? "unknown failure", defect: false }
}

const messageOf = (u: unknown): string => {
  // Said whole: its tag is a name in the code, which a reader of an import's or a reprocess's
  // failures was shown ("ItemTimeout: timed out after 30s").
  if (u instanceof ItemTimeout) return u.message
  if (u instanceof Error || (typeof u === "object" && u !== null && "message" in u)) {
    const e = u as { readonly _tag?: unknown; readonly message?: unknown }
    // With what caused it: `database operation "PostRepository.upsertMany" failed` alone never said why.
    const message = typeof e.message === "string" && e.message.length > 0 ? describeFailure(u) : String(u)
    return typeof e._tag === "string" && !message.startsWith(e._tag) ? `${e._tag}: ${message}` : message
  }
  return String(u)
}

export class ItemTimeout extends Error {
  readonly _tag = "ItemTimeout"
  constructor(readonly after: Duration.Duration) {
    super(`timed out after ${Duration.format(after)}`)
  }
}

/** An item's reason when it took longer than `after`, as every path reports it: `timed out after 30s`. */
export const itemTimeoutReason = (after: Duration.Duration): string => describeCause(Cause.fail(new ItemTimeout(after))).reason

/** `duration` in nanoseconds, as a number an item's clock compares with (an infinite one: the largest). */
export const limitNanos = (duration: Duration.Duration): number =>
  Number(Option.getOrElse(Duration.toNanos(duration), () => BigInt(Number.MAX_SAFE_INTEGER)))

/**
 * What this thread has spent running items' own work (`timeoutItem`), in nanoseconds: the
 * outermost running slices of their fibers only (a fiber started from within another's slice
 * runs inside it). One meter per thread, as there is one event loop: while any item's
 * synchronous work runs, nothing else on the thread can.
 */
const thread = { open: 0, since: 0, busy: 0 }

/**
 * How an item's time runs: `"here"` (its work runs on this thread, or waits for I/O: the time
 * counts, less what other items' work held the thread meanwhile), `"elsewhere"` (its work runs
 * on another thread: all of the time counts), `"queued"` (it waits its turn for what another
 * item holds: none counts).
 */
type Mode = "here" | "elsewhere" | "queued"

/**
 * An item's clock (`timeoutItem`), kept by supervising the item's fibers: it sees every slice
 * in which they run, on the `Clock` of the item.
 */
class ItemClock extends Supervisor.AbstractSupervisor<void> {
  readonly value = Effect.void
  private open = 0
  private since = 0
  /** Nanoseconds the item's own fibers ran. */
  private own = 0
  private mode: Mode = "here"
  private spentBefore = 0
  private segmentStart: number
  private segmentBusy = thread.busy
  private segmentOwn = 0

  constructor(readonly now: () => number) {
    super()
    this.segmentStart = now()
  }

  override onResume() {
    const t = this.now()
    if (thread.open++ === 0) thread.since = t
    if (this.open++ === 0) this.since = t
  }

  override onSuspend() {
    const t = this.now()
    if (--this.open === 0) this.own += t - this.since
    if (--thread.open === 0) thread.busy += t - thread.since
  }

  private segment(t: number): number {
    switch (this.mode) {
      case "here":
        return (t - this.segmentStart) - ((thread.busy - this.segmentBusy) - (this.own - this.segmentOwn))
      case "elsewhere":
        return t - this.segmentStart
      case "queued":
        return 0
    }
  }

  /** The item's time so far, in nanoseconds. */
  spent(): number {
    return this.spentBefore + this.segment(this.now())
  }

  /** Switches to `mode`; returns the mode it replaced. */
  switchTo(mode: Mode): Mode {
    const t = this.now()
    this.spentBefore += this.segment(t)
    this.segmentStart = t
    this.segmentBusy = thread.busy
    this.segmentOwn = this.own
    const before = this.mode
    this.mode = mode
    return before
  }
}

/** The clock of the item whose work is running (`timeoutItem`), for `runsElsewhere` and `waitsItsTurn`. */
const currentItemClock = FiberRef.unsafeMake<ItemClock | undefined>(undefined)

const inMode = (mode: Mode) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(FiberRef.get(currentItemClock), (clock) =>
    clock === undefined
      ? effect
      : Effect.acquireUseRelease(Effect.sync(() => clock.switchTo(mode)), () => effect, (before) => Effect.sync(() => clock.switchTo(before))))

/**
 * `effect` waits while the item's work runs on another thread (a render thread): all the time it
 * takes counts against the item's deadline, however busy this thread is meanwhile.
 */
export const runsElsewhere: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = inMode("elsewhere")

/**
 * `effect` waits for the item's turn at something other items hold (the one thread for heavy
 * posts): that wait is not the item's work, and does not count against its deadline.
 */
export const waitsItsTurn: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = inMode("queued")

/**
 * `effect`, failing with `ItemTimeout` when the item's own time is over `duration`; interrupted
 * when it is, if it can be.
 *
 * An item's time is what its own work took, not the time since it started: in-process rendering
 * is synchronous, so while one post renders nothing else on the thread runs, and a deadline timer
 * taken as is expired for every post that merely waited meanwhile (reading its file, say) and
 * then failed them, innocent, while the slow post itself, which no timer can interrupt, was
 * stored. So each item's fibers are supervised (`ItemClock`): its time is the time since it
 * started less the time other items' work held the thread meanwhile, all of it while its work
 * runs on another thread (`runsElsewhere`), none while it waits its turn (`waitsItsTurn`).
 *
 * - Work that finishes without suspending (in-process rendering) is checked after the fact: over
 *   the deadline, its result is dropped and the item fails. No timer is made for it: `timeoutFail`
 *   races two forked fibers per call (~60 µs, a tenth of an imported post).
 * - Work that suspends is awaited under the deadline (on the `Clock`, so `TestClock` drives it);
 *   when the timer fires, the item's time is read again, and the timer set anew for what is left
 *   if other items' work took the rest. Over the deadline, the work is interrupted (a render
 *   thread's post with it: RenderPool), and the item fails.
 */
export const timeoutItem = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  duration: Duration.Duration
): Effect.Effect<A, E | ItemTimeout, R> =>
  withItemClock(effect, (fiber, itemClock, restore) => {
    const limit = limitNanos(duration)
    const timedOut = Effect.fail(new ItemTimeout(duration))
    const settled = (exit: Exit.Exit<A, E>) => Exit.isSuccess(exit) && itemClock.spent() > limit ? timedOut : exit
    const done = fiber.unsafePoll()
    if (done !== null) return settled(done)
    const wait: Effect.Effect<A, E | ItemTimeout> = Effect.suspend(() => {
      const left = limit - itemClock.spent()
      if (left <= 0) return timedOut
      return Effect.flatMap(
        Effect.timeoutOption(Fiber.await(fiber), Duration.nanos(BigInt(Math.ceil(left)))),
        Option.match({ onNone: () => wait, onSome: settled })
      )
    })
    return restore(wait).pipe(Effect.ensuring(Fiber.interrupt(fiber)))
  })

/**
 * `effect` counted as items' work on this thread (`timeoutItem`) without a deadline of its own:
 * work for many items at once (NDJSON lines in bulk, which time each line themselves), which
 * other items' deadlines must not be charged with. Awaited, not joined: a join copies the
 * fiber's refs into the caller, its supervisor (this item's clock) among them, and the batch
 * loop that calls this took one more clock per batch, each walked on every later slice.
 */
export const countedAsWork = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  withItemClock(effect, (fiber, _, restore) => {
    const done = fiber.unsafePoll()
    return done !== null ? done : restore(Effect.flatten(Fiber.await(fiber))).pipe(Effect.ensuring(Fiber.interrupt(fiber)))
  })

/**
 * Starts `effect` at once on a fiber of its own that its `ItemClock` supervises from its first
 * slice on (`Effect.supervised` inside would miss the slice it starts in), and hands it to `use`
 * under an uninterruptible mask. The runtime is taken before the mask: the fiber inherits its
 * flags, interruptible.
 */
const withItemClock = <A, E, R, B, E2>(
  effect: Effect.Effect<A, E, R>,
  use: (
    fiber: Fiber.RuntimeFiber<A, E>,
    itemClock: ItemClock,
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>
  ) => Effect.Effect<B, E2>
): Effect.Effect<B, E2, R> =>
  Effect.clockWith((clock) =>
    Effect.flatMap(Effect.runtime<R>(), (runtime) =>
      Effect.uninterruptibleMask((restore) => {
        const itemClock = new ItemClock(() => Number(clock.unsafeCurrentTimeNanos()))
        const fiber = Runtime.runFork(runtime)(effect, {
          immediate: true,
          updateRefs: (refs, fiberId) =>
            FiberRefs.updateManyAs(refs, {
              forkAs: fiberId,
              entries: [
                [FiberRef.currentSupervisor, [[fiberId, FiberRefs.getOrDefault(refs, FiberRef.currentSupervisor).zip(itemClock)]]],
                [currentItemClock, [[fiberId, itemClock]]]
              ]
            })
        })
        return use(fiber, itemClock, restore)
      })))

export const processConcurrently = <I, A, E, R>(
  items: Iterable<I>,
  f: (item: I, index: number) => Effect.Effect<A, E, R>,
  options: ProcessOptions<I>
): Effect.Effect<ProcessReport<I, A>, never, R> =>
  Effect.gen(function*() {
    const input = Array.from(items)
    const timeout = options.itemTimeout === undefined ? undefined : Duration.decode(options.itemTimeout)
    const run = (item: I, index: number): Effect.Effect<A, E | ItemTimeout, R> => {
      const effect = Effect.suspend(() => f(item, index))
      return timeout === undefined
        ? effect
        : timeoutItem(effect, timeout)
    }
    const exits = yield* Effect.forEach(input, (item, index) => Effect.exit(run(item, index)), {
      concurrency: options.concurrency
    })
    const successes: Array<ProcessSuccess<I, A>> = []
    const failures: Array<ProcessFailure<I>> = []
    for (let index = 0; index < exits.length; index++) {
      const exit = exits[index]!
      const item = input[index]!
      if (Exit.isSuccess(exit)) {
        successes.push({ index, item, value: exit.value })
        continue
      }
      const identity = options.identify(item, index)
      const { defect, reason } = describeCause(exit.cause)
      failures.push({ index, item, identity, reason, defect, cause: exit.cause })
      yield* Effect.logWarning(`${identity}: ${reason}`).pipe(
        Effect.annotateLogs({ item: identity, defect }),
        defect ? Effect.annotateLogs("cause", Cause.pretty(exit.cause)) : (e) => e
      )
    }
    return { successes, failures }
  })
