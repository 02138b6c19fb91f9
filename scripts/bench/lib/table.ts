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

export const render = (rows: ReadonlyArray<Row>): string => {
  const header = ["figure", "Inkwell", "baseline", "ratio", "target", "met", "Inkwell min / median / max"]
  const lines = rows.map((r) => [
    r.unit === undefined ? r.figure : `${r.figure} (${r.unit})`,
    fmt(r.inkwell),
    fmt(r.baseline),
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    r.target ?? "",
    r.met === undefined ? "" : typeof r.met === "string" ? r.met : r.met ? "yes" : "NO",
    r.spread ?? ""
  ])
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 || i === 4 ? "---" : "---:")).join("|")}|`,
    ...lines.map((l) => `| ${l.join(" | ")} |`)
  ].join("\n")
}
