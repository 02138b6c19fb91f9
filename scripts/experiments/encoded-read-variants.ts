// The encoded read (ENCODED_BY_SLUG, SQLite json_object) against the same JSON built by string
// concatenation (json_quote) and against no date formatting, over the bench's seeded 10k posts
// (/tmp/inkwell-bench/posts-10000.db: `npm run bench -- http` seeds it). Checks the concatenated
// bytes equal json_object's, then times each statement per read.
//   npx tsx scripts/experiments/encoded-read-variants.ts
import Database from "better-sqlite3"
import { ENCODED_BY_SLUG } from "../../src/Posts/SqlPostRepository.js"
const db = new Database("/tmp/inkwell-bench/posts-10000.db", { readonly: true })
const slugs = db.prepare("select slug from posts").pluck().all() as string[]
const obj = ENCODED_BY_SLUG.match(/json_object\(([\s\S]*?)\) AS BLOB/)![1]!
// split 'key', expr pairs at top-level commas
const parts: string[] = []; let depth = 0, cur = ""
for (const ch of obj) { if (ch === "(") depth++; if (ch === ")") depth--; if (ch === "," && depth === 0) { parts.push(cur.trim()); cur = "" } else cur += ch }
parts.push(cur.trim())
const pieces: string[] = []
for (let i = 0; i < parts.length; i += 2) {
  const key = parts[i]!.slice(1, -1); const expr = parts[i + 1]!
  const value = /^json\(/.test(expr) ? expr : /^(word_count|reading_time_minutes|version)$/.test(expr) ? expr : `json_quote(${expr})`
  pieces.push(`'${i === 0 ? "{" : ","}"${key}":' || ${value}`)
}
const concat = ENCODED_BY_SLUG.replace(/CAST\(json_object\([\s\S]*?\) AS BLOB\)/, `CAST(${pieces.join(" || ")} || '}' AS BLOB)`)
const noDates = ENCODED_BY_SLUG.replace(/strftime\('%Y-%m-%dT%H:%M:%S', (\w+) \/ 1000, 'unixepoch'\) \|\| '\.' \|\| printf\('%03d', \w+ % 1000\) \|\| 'Z'/g, "$1")
const a = db.prepare(ENCODED_BY_SLUG), b = db.prepare(concat)
let diff = 0
for (const s of slugs) { const x = (a.get(s) as any).json as Buffer, y = (b.get(s) as any).json as Buffer; if (!x.equals(y)) diff++ }
console.log("differ", diff, "of", slugs.length)
const variants: Record<string, string> = { encoded: ENCODED_BY_SLUG, concat, noDates }
for (let r = 0; r < 3; r++) for (const [name, sql] of Object.entries(variants)) {
  const st = db.prepare(sql)
  const t = performance.now()
  for (const s of slugs) st.all(s)
  console.log(r, name, ((performance.now() - t) * 1000 / slugs.length).toFixed(1), "µs")
}
