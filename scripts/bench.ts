/**
 * `npm run bench [-- <part>...] [--duration 10] [--reps 3] [--out notes/BENCHMARKS-perf.md]`
 *
 * Runs every part under scripts/bench/ (http, render, import, upload), or the ones named, and prints one
 * table: figure, Inkwell, baseline (measured in the same run), ratio, target. Every ratio is
 * against a baseline measured interleaved with Inkwell on the same machine, because absolute
 * figures on a shared machine drift from run to run. With --out, appends the table, the
 * command, date, Node version and nproc to that file.
 */
import { appendFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import * as Http from "./bench/http.js"
import * as Import from "./bench/import.js"
import * as Render from "./bench/render.js"
import * as Upload from "./bench/upload.js"
import { render, type Row } from "./bench/lib/table.js"

const PARTS = {
  http: (argv: ReadonlyArray<string>) => Http.run(Http.defaults(argv)),
  render: (argv: ReadonlyArray<string>) => Render.run(Render.defaults(argv)),
  import: (argv: ReadonlyArray<string>) => Import.run(Import.defaults(argv)),
  upload: (argv: ReadonlyArray<string>) => Upload.run(Upload.defaults(argv))
} as const

const main = async (argv: ReadonlyArray<string>) => {
  const named = argv.filter((a, i) => !a.startsWith("--") && (i === 0 || !argv[i - 1]!.startsWith("--"))) as Array<keyof typeof PARTS>
  const unknown = named.filter((p) => !(p in PARTS))
  if (unknown.length > 0) throw new Error(`unknown part(s): ${unknown.join(", ")}; known: ${Object.keys(PARTS).join(", ")}`)
  const parts = named.length === 0 ? (Object.keys(PARTS) as Array<keyof typeof PARTS>) : named
  const header = `npm run bench -- ${argv.join(" ")}  |  ${new Date().toISOString()}  |  node ${process.version}  |  nproc ${availableParallelism()}`
  console.error(header)
  const rows: Array<Row> = []
  for (const part of parts) {
    console.error(`== ${part}`)
    rows.push(...(await PARTS[part](argv)).map((row) => ({ ...row, figure: `${part}: ${row.figure}` })))
  }
  const table = render(rows)
  console.log(table)
  const i = argv.indexOf("--out")
  if (i !== -1) appendFileSync(argv[i + 1]!, `\n### ${header}\n\n${table}\n`)
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
