/**
 * Progress of an import on stderr: on a TTY a bar (cli-progress) with done/failed/skipped,
 * posts/s and an ETA from the bytes handled; elsewhere one log line every few seconds, so CI
 * logs and pipes are not flooded.
 */
import cliProgress from "cli-progress"
import { Clock, Duration, Effect, Schedule, type Scope } from "effect"
import type { ImportProgress, ImportTally } from "../Import/ImportSummary.js"

export interface ProgressOptions {
  readonly tty: boolean
  /** Total source bytes when known (enables the bar's percentage and ETA). */
  readonly totalBytes: number | undefined
  readonly write: (line: string) => void
  /** Between log lines without a TTY. */
  readonly interval?: Duration.DurationInput
}

const rate = (p: ImportProgress) => (p.elapsedMs === 0 ? 0 : (p.done / p.elapsedMs) * 1000)

/** One line for logs: "1234 done (1200 stored, 2 failed, 32 skipped), 456.7 posts/s, 12.3 MB". */
export const progressLine = (p: ImportProgress, totalBytes?: number): string => {
  const mb = (p.bytes / (1024 * 1024)).toFixed(1)
  const percent = totalBytes !== undefined && totalBytes > 0 ? ` ${Math.min(100, Math.floor((p.bytes / totalBytes) * 100))}%,` : ""
  return `import progress:${percent} ${p.done} done (${p.stored} stored, ${p.failed} failed, ${p.skipped} skipped), ${rate(p).toFixed(1)} posts/s, ${mb} MB`
}

/** Shows progress until the scope closes (the bar is then stopped and its line finished). */
export const track = (tally: ImportTally, options: ProgressOptions): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const snapshot = Effect.map(Clock.currentTimeMillis, (now) => tally.progress(now))
    if (!options.tty) {
      yield* snapshot.pipe(
        Effect.flatMap((p) => Effect.sync(() => options.write(progressLine(p, options.totalBytes)))),
        Effect.schedule(Schedule.spaced(options.interval ?? Duration.seconds(3))),
        Effect.forkScoped
      )
      return
    }
    const total = options.totalBytes ?? 0
    const bar = new cliProgress.SingleBar({
      format: total > 0
        ? "{bar} {percentage}% | {done} done, {failed} failed, {skipped} skipped | {rate} posts/s | ETA {eta_formatted}"
        : "{done} done, {failed} failed, {skipped} skipped | {rate} posts/s | {duration_formatted}",
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
      stream: process.stderr
    }, cliProgress.Presets.shades_classic)
    const payload = (p: ImportProgress) => ({ done: p.done, failed: p.failed, skipped: p.skipped, rate: rate(p).toFixed(1) })
    yield* Effect.acquireRelease(
      Effect.sync(() => bar.start(Math.max(total, 1), 0, payload(tally.progress(Date.now())))),
      () =>
        Effect.flatMap(snapshot, (p) =>
          Effect.sync(() => {
            bar.update(total > 0 ? Math.min(p.bytes, total) : 0, payload(p))
            bar.stop()
          }))
    )
    yield* snapshot.pipe(
      Effect.flatMap((p) => Effect.sync(() => bar.update(total > 0 ? Math.min(p.bytes, total) : 0, payload(p)))),
      Effect.schedule(Schedule.spaced(Duration.millis(200))),
      Effect.forkScoped
    )
  })
