/**
 * The one reading of `If-None-Match` (API, reader site, response cache): `*` alone matches any
 * representation; in a list it is no entity tag and matches nothing, the list's tags still do.
 */
import { assert, describe, it } from "@effect/vitest"
import { matchesIfNoneMatch } from "../../src/Http/IfNoneMatch.js"

const etag = `"v1-abc"`

describe("matchesIfNoneMatch", () => {
  it("a tag of the list, compared weakly, or `*` alone", () => {
    for (const header of [etag, `W/${etag}`, `"x", ${etag}`, ` ${etag} ,"y"`, "*", " * "]) {
      assert.isTrue(matchesIfNoneMatch(header, etag), header)
    }
  })

  it("`*` inside a list, or weak, is no tag: it matches nothing, the list's own tags still do", () => {
    for (const header of [`"nope", *`, `*, "x"`, "W/*", "*, *", `W/"nope", W/*`]) {
      assert.isFalse(matchesIfNoneMatch(header, etag), header)
    }
    assert.isTrue(matchesIfNoneMatch(`*, ${etag}`, etag))
  })

  it("no header, another tag, or a tag without quotes matches nothing", () => {
    for (const header of [undefined, "", `"v1-abcd"`, "v1-abc", `"v1-ABC"`]) {
      assert.isFalse(matchesIfNoneMatch(header, etag), String(header))
    }
  })
})
