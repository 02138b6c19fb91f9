/**
 * `SettlingResponse` as `npm start` runs it: tsx compiles it with esbuild's `keepNames`, which
 * names a declared class by redefining its `name` (`__name`). V8 then never optimized the
 * constructor, nor Node's `parserOnIncoming` that calls it for every request (each try aborted,
 * "dependency change"): the class must come out of that build unnamed.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { transform } from "esbuild"

const source = fileURLToPath(new URL("../../src/Http/SettlingResponse.ts", import.meta.url))

describe("SettlingResponse under esbuild keepNames", () => {
  it("has no name set on the class by the build", async () => {
    const { code } = await transform(readFileSync(source, "utf8"), { loader: "ts", format: "esm", keepNames: true })
    // Every `__name(...)` call's first argument: functions may be named, the class may not.
    const named = Array.from(code.matchAll(/__name\(\s*([^,]+?)\s*,/g), (match) => match[1]!)
    assert.isTrue(code.includes("extends ServerResponse"))
    assert.notInclude(named, "this", "a static block naming a class")
    assert.notInclude(named, "SettlingResponse")
    for (const target of named) assert.isFalse(/^class\b/.test(target), `a class named by ${target}`)
  })
})
