import { assert, describe, it } from "@effect/vitest"
import { itemNames } from "../../src/Sources/SourceItem.js"

const id = "0f8fad5b-d9cb-469f-a165-70867728950e"

describe("itemNames", () => {
  it("an Inkwell feed's item carries the name the API beside that feed gave its post: its directory's, a tag's feed's too", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ["https://a.example/rss.xml", `https://a.example/posts#${id}`],
      ["https://a.example/feed.json", `https://a.example/posts#${id}`],
      ["https://a.example/tags/rust/atom.xml", `https://a.example/posts#${id}`],
      ["https://a.example/blog/tags/rust/rss.xml", `https://a.example/blog/posts#${id}`],
      ["https://a.example/bob/feed.json", `https://a.example/bob/posts#${id}`],
      // Not an Inkwell's feed address, or not an id an Inkwell writes: no API name guessed.
      ["https://a.example/feed", undefined],
      ["https://a.example/rss.xml?page=2", undefined],
      ["ftp://a.example/rss.xml", undefined]
    ]
    for (const [feed, api] of cases) {
      assert.deepStrictEqual(itemNames(feed).former(`urn:uuid:${id}`), api === undefined ? undefined : [api], feed)
    }
    assert.strictEqual(itemNames("https://a.example/rss.xml").former(id), undefined)
    assert.strictEqual(itemNames("https://a.example/rss.xml").former(`urn:uuid:${id.toUpperCase()}`), undefined)
  })
})
