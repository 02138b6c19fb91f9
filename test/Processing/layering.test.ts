/**
 * Processing is pure: markdown, front matter and records in, posts out. It reads no database
 * module, even by way of another, so it runs (and is tested) where no driver is loaded.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../../src")

/** Every module of src that `file` imports, directly or by way of another (relative imports only). */
const importsOf = (file: string, seen = new Set<string>()): Set<string> => {
  for (const [, specifier] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
    const target = resolve(dirname(file), specifier!.replace(/\.js$/, ".ts"))
    if (seen.has(target)) continue
    seen.add(target)
    importsOf(target, seen)
  }
  return seen
}

describe("layering", () => {
  it("no module of src/Processing imports src/Database, even by way of another (was: processConcurrently did, for describeFailure)", () => {
    const dir = join(src, "Processing")
    const offending = readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts"))
      .flatMap((name) =>
        [...importsOf(join(dir, name))]
          .filter((target) => relative(src, target).startsWith("Database"))
          .map((target) => `${name} -> ${relative(src, target)}`)
      )
    assert.deepStrictEqual(offending, [])
  })
})
