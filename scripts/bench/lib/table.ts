/** The suite's one table: figure, Inkwell, baseline, ratio, target (and whether it is met). */
export interface Row {
  readonly figure: string
  /** Median over the repetitions. */
  readonly inkwell: number
  readonly baseline?: number | undefined
  /** Median of the per-repetition ratios (interleaved runs), when a baseline exists. */
  readonly ratio?: number | undefined
  readonly target?: string | undefined
  /** Whether the target is met; a string when the figure has several targets. */
  readonly met?: boolean | string | undefined
  /** min/median/max of the Inkwell figure over the repetitions. */
  readonly spread?: string | undefined
  readonly unit?: string | undefined
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const fmt = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? "" : Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x < 10 ? 2 : 1)

export const spreadOf = (xs: ReadonlyArray<number>) =>
  `${fmt(Math.min(...xs))} / ${fmt(median(xs))} / ${fmt(Math.max(...xs))}`

/** Each Inkwell repetition against the baseline repetition run beside it. */
export const ratiosBy = (mine: ReadonlyArray<number>, base: ReadonlyArray<number>): ReadonlyArray<number> =>
  mine.map((m, i) => m / base[i]!)

/** The baseline moved by more than this between repetitions: the machine, not the code. */
const UNSTEADY = 1.3

/**
 * Whether `ratios` meet `target` (at least, or at most with `atMost`), said with care when the
 * baseline was unsteady: a median of per-repetition ratios against a throttled baseline once printed
 * "yes" for two targets the CPU per request showed unmet (BENCHMARKS.md, session 18). When the
 * baseline's repetitions differ by more than 30% and the repetitions disagree on the verdict, the
 * verdict is "unsure", with the baseline's range, instead of a yes or no.
 */
export const verdict = (
  ratios: ReadonlyArray<number>,
  base: ReadonlyArray<number>,
  target: number,
  atMost = false
): boolean | string => {
  const meets = (r: number) => (atMost ? r <= target : r >= target)
  const met = meets(median(ratios))
  const unsteady = Math.max(...base) > UNSTEADY * Math.min(...base)
  const disagree = ratios.some(meets) && !ratios.every(meets)
  return unsteady && disagree ? `unsure (baseline unsteady: ${fmt(Math.min(...base))}–${fmt(Math.max(...base))})` : met
}

/** A verdict as the table's "met" column prints it (several are joined by ", "). */
export const metText = (met: boolean | string): string => (typeof met === "string" ? met : met ? "yes" : "NO")

/** The per-repetition ratios, in run order, for the spread column. */
export const byRepetition = (ratios: ReadonlyArray<number>) =>
  `by repetition ${ratios.map((r) => `${r.toFixed(2)}×`).join(" / ")}`

export const render = (rows: ReadonlyArray<Row>): string => {
  const header = ["figure", "Inkwell", "baseline", "ratio", "target", "met", "Inkwell min / median / max"]
  const lines = rows.map((r) => [
    r.unit === undefined ? r.figure : `${r.figure} (${r.unit})`,
    fmt(r.inkwell),
    fmt(r.baseline),
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    r.target ?? "",
    r.met === undefined ? "" : metText(r.met),
    r.spread ?? ""
  ])
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 || i === 4 ? "---" : "---:")).join("|")}|`,
    ...lines.map((l) => `| ${l.join(" | ")} |`)
  ].join("\n")
}
