/**
 * NDJSON records: a record that does not match PostInput is reported field by field, in the
 * words markdown errors use, never as Schema's tree. A stored post exported as a record
 * (`exportRecord`) imports back to the same post, its resolved Zola internal links included
 * while its body is the exported one.
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Schema } from "effect"
import { makeValidPost, NewPost, Post, PostId } from "../../src/Domain/Post.js"
import { defaultProcessorConfig, MAX_METADATA_DEPTH, processPostSync } from "../../src/Processing/processPost.js"
import { futureUpdate } from "../../src/Processing/dates.js"
import { hashWithLinks, postHref, rewriteInternalLinks } from "../../src/Processing/internalLinks.js"
import {
  decodeOutcomes,
  decodeRecord,
  encodeOutcomes,
  exportRecord,
  processRecordSync,
  processRecordsSync,
  recordBody,
  recordLine
} from "../../src/Processing/records.js"

const reasonFor = (record: unknown) => {
  const line = recordLine("export.ndjson", 4, JSON.stringify(record))!
  const decoded = decodeRecord("export.ndjson", line)
  if (decoded._tag !== "Rejected") return assert.fail(`accepted ${JSON.stringify(record)}`)
  assert.strictEqual(decoded.identity, "export.ndjson:4")
  return decoded.reason
}

describe("decodeRecord", () => {
  it("names the field, what it should be and what it was", () => {
    assert.strictEqual(reasonFor({ title: 42, body: "b" }), "title: expected a string, got 42")
    assert.strictEqual(reasonFor({ body: "b", tags: ["x", 3] }), "tags[1]: expected a string, got 3")
    assert.strictEqual(reasonFor({ body: "b", tags: "x" }), `tags: expected a list of strings, got "x"`)
    assert.strictEqual(reasonFor({ body: "b", metadata: [1] }), "metadata: expected an object, got [1]")
    assert.strictEqual(reasonFor({ title: "no body" }), "body: missing")
  })

  it("lists every bad field, on one line", () => {
    assert.strictEqual(reasonFor({ title: false, body: 5 }), "title: expected a string, got false; body: expected a string, got 5")
  })

  it("a field no record has is named, not dropped with its data (a misspelled date left the post undated)", () => {
    assert.strictEqual(
      reasonFor({ title: "T", body: "b", publishedat: "2024-01-01", date: "2024-01-01" }),
      `unknown fields "publishedat", "date" (a record has title, slug, body, tags, status, publishedAt, updatedAt, authors, summary, aliases, metadata, source, id, createdAt, movedFrom; anything else goes under metadata)`
    )
    assert.match(reasonFor({ title: "T", body: "b", draft: true }), /^unknown field "draft" \(/)
  })

  it("reads a post as Inkwell's API gives it: derived fields ignored, nulls not given, the rest (its id too) is the record", () => {
    const post = {
      id: "0b6f0d5e-0000-4000-8000-000000000000", slug: "hello", title: "Hello", body: "Hi.", tags: ["a"], status: "published",
      authors: ["Ann"], summary: null, publishedAt: "2024-01-01T00:00:00.000Z", updatedAtSource: null, aliases: [], metadata: {},
      source: "api", html: "<p>Hi.</p>", excerpt: "Hi.", wordCount: 1, readingTimeMinutes: 1, toc: [], contentHash: "x",
      createdAt: "2024-01-01T00:00:00.000Z", updatedAt: "2024-01-02T00:00:00.000Z", version: 3
    }
    const decoded = decodeRecord("export.ndjson", recordLine("export.ndjson", 1, JSON.stringify(post))!)
    assert.strictEqual(decoded._tag, "Record", JSON.stringify(decoded))
    if (decoded._tag === "Record") {
      assert.deepStrictEqual([decoded.source, decoded.input.title, decoded.input.publishedAt, decoded.input.summary], ["api", "Hello", "2024-01-01T00:00:00.000Z", undefined])
      // Its `updatedAt` is the store's last write; the source's own date is `updatedAtSource`.
      assert.strictEqual(decoded.input.updatedAt, undefined)
      assert.strictEqual(decoded.createdAt && DateTime.formatIso(decoded.createdAt), "2024-01-01T00:00:00.000Z")
      assert.strictEqual(decoded.id, "0b6f0d5e-0000-4000-8000-000000000000")
    }
    const dated = decodeRecord("export.ndjson", recordLine("export.ndjson", 1, JSON.stringify({ ...post, updatedAtSource: "2023-06-01T00:00:00.000Z" }))!)
    assert.strictEqual(dated._tag === "Record" ? dated.input.updatedAt : dated.reason, "2023-06-01T00:00:00.000Z")
    // A bad one is named as sent, beside every other bad field of the line.
    assert.strictEqual(
      reasonFor({ ...post, title: 5, updatedAtSource: 42, createdAt: "soon", movedFrom: "old" }),
      'title: expected a string, got 5; movedFrom: expected a list of strings, got "old"; createdAt: "soon" is not a date (expected YYYY-MM-DD or RFC 3339 like 2024-05-01T10:00:00+02:00); updatedAtSource: expected a string, got 42'
    )
    // `null` is "not given" for every field but the body.
    assert.strictEqual(reasonFor({ title: "T", body: null }), "body: expected a string, got null")
  })

  it("takes a post JSON's body as stored: a `---` section it begins with is no front matter", () => {
    // A markdown file whose body, after its front matter, begins with a rule and a line like a key.
    const file = stored("---\ntitle: Starts with a rule\n---\n---\nkey: value\n---\nText after a rule.\n")
    assert.strictEqual(file.body, "---\nkey: value\n---\nText after a rule.\n")
    const json = Schema.encodeSync(Post)(file)
    const line = recordLine("request", 1, JSON.stringify(json))!
    const outcome = processRecordSync("request", line, defaultProcessorConfig)
    if (outcome._tag !== "Ready") return assert.fail(outcome.reason)
    assert.deepStrictEqual([outcome.post.body, outcome.post.metadata], [file.body, file.metadata])
    // A record of one's own still carries front matter in its body.
    const own = processRecordSync("request", recordLine("request", 2, JSON.stringify({ title: "T", body: file.body }))!, defaultProcessorConfig)
    assert.deepStrictEqual(own._tag === "Ready" ? [own.post.body, own.post.metadata] : own.reason, ["Text after a rule.\n", { key: "value" }])
  })
})

/** A stored post, as a repository builds it from what processing made of `raw`. */
const stored = (raw: string, source = "/blog/posts/a.md") => {
  const post = Either.getOrThrow(processPostSync({ source, raw }))
  return makeValidPost({
    ...post,
    id: PostId.make("0b6f0d5e-0000-4000-8000-000000000001"),
    createdAt: DateTime.unsafeMake("2024-05-01T00:00:00Z"),
    updatedAt: DateTime.unsafeMake("2024-05-02T00:00:00Z"),
    version: 3
  })
}

/** What importing `line` (an export's line 1) makes of it. */
const reimport = (line: string) => {
  const outcome = processRecordSync("/backup/posts.ndjson", recordLine("/backup/posts.ndjson", 1, line)!, defaultProcessorConfig)
  if (outcome._tag !== "Ready") return assert.fail(`rejected: ${outcome.reason}`)
  return outcome.post
}

/** Everything a stored post holds but what its store assigns (id, createdAt, updatedAt, version). */
const content = (post: NewPost) => {
  const { id: _i, createdAt: _c, updatedAt: _u, version: _v, ...rest } = post as NewPost & Record<string, unknown>
  return Schema.encodeSync(NewPost)(new NewPost(rest as ConstructorParameters<typeof NewPost>[0], true))
}

describe("exportRecord", () => {
  const full = stored([
    "---",
    "title: Full  ",
    "date: 2024-01-02T03:04:05.678+02:00",
    "updated: 2024-02-03",
    "tags: [rust, web]",
    "categories: [news]",
    "authors: [Ann, Bob]",
    "description: A summary.",
    "aliases: [\"/old/full\", \"2019/full.html\"]",
    "draft: true",
    "extra: {nested: [1, {deep: true}]}",
    "__proto__: {kept: yes}",
    "---",
    "# Full",
    "",
    "Text with \"quotes\", a tab\t, \\u2028 \u2028, and a lone surrogate \ud800.",
    ""
  ].join("\n"))

  it("imports back to the same post: every field, the source, and the content hash it had", () => {
    assert.deepStrictEqual(full.aliases, ["/old/full", "2019/full.html"])
    assert.strictEqual(Object.getOwnPropertyDescriptor(full.metadata, "__proto__")?.value?.kept, "yes")
    const again = reimport(exportRecord(full))
    assert.deepStrictEqual(content(again), content(full))
    assert.strictEqual(again.contentHash, full.contentHash)
  })

  it("an updated date stored before future ones were refused goes out as late as an import takes: the export imports back", () => {
    const storedAt = DateTime.unsafeMake("2026-12-07T10:00:00Z")
    const typo = { ...full, publishedAt: DateTime.unsafeMake("2021-05-04T00:00:00Z"), updatedAtSource: DateTime.unsafeMake("2031-05-05T00:00:00Z"), updatedAt: storedAt }
    const written = DateTime.toUtc(DateTime.unsafeMake(JSON.parse(exportRecord(typo)).updatedAt))
    assert.strictEqual(DateTime.formatIso(written), "2026-12-08T10:00:00.000Z")
    assert.isUndefined(futureUpdate(written, typo.publishedAt, storedAt))
    // A scheduled post may be updated up to its publication; within the leeway, as stored.
    const scheduled = { ...typo, publishedAt: DateTime.unsafeMake("2031-05-01T00:00:00Z") }
    assert.strictEqual(JSON.parse(exportRecord(scheduled)).updatedAt, "2031-05-01T00:00:00.000Z")
    const today = { ...typo, updatedAtSource: DateTime.unsafeMake("2026-12-07T20:00:00Z") }
    assert.strictEqual(JSON.parse(exportRecord(today)).updatedAt, "2026-12-07T20:00:00.000Z")
    assert.strictEqual(JSON.parse(exportRecord(full)).updatedAt, DateTime.formatIso(full.updatedAtSource!))
  })

  it("old slugs ride along as movedFrom, outside the post and its hashes, and through a render thread's wire format", () => {
    const line = exportRecord(full, ["first", "second"])
    assert.deepStrictEqual(JSON.parse(line).movedFrom, ["first", "second"])
    assert.notProperty(JSON.parse(exportRecord(full)), "movedFrom")
    const outcome = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, line)!, defaultProcessorConfig)
    if (outcome._tag !== "Ready") return assert.fail(outcome.reason)
    assert.deepStrictEqual(outcome.movedFrom, ["first", "second"])
    // The exported hash is kept: old slugs are no content.
    assert.strictEqual(outcome.post.contentHash, full.contentHash)
    assert.deepStrictEqual(content(outcome.post), content(reimport(exportRecord(full))))
    const [wired] = decodeOutcomes(encodeOutcomes([outcome]))
    assert.deepStrictEqual(wired?._tag === "Ready" ? wired.movedFrom : undefined, ["first", "second"])
    // In NFC, as slugs are stored and a URL's slug is read.
    const decomposed = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, exportRecord(full, ["cafe\u0301"]))!, defaultProcessorConfig)
    assert.deepStrictEqual(decomposed._tag === "Ready" ? decomposed.movedFrom : decomposed.reason, ["caf\u00e9"])
    for (const [movedFrom, reason] of [
      ["old", `movedFrom: expected a list of strings, got "old"`],
      [["old", 3], "movedFrom: [1]: expected a non-empty string, got 3"],
      [[" "], `movedFrom: [0]: expected a non-empty string, got " "`]
    ] as const) {
      assert.strictEqual(reasonFor({ title: "T", body: "b", movedFrom }), reason)
    }
  })

  it("the post's createdAt rides along, outside the post and its hashes, and through a render thread's wire format", () => {
    const line = exportRecord(full)
    assert.strictEqual(JSON.parse(line).createdAt, "2024-05-01T00:00:00.000Z")
    const outcome = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, line)!, defaultProcessorConfig)
    if (outcome._tag !== "Ready") return assert.fail(outcome.reason)
    assert.strictEqual(outcome.createdAt?.toJSON(), "2024-05-01T00:00:00.000Z")
    // The exported hash is kept: when a post was created is no content.
    assert.strictEqual(outcome.post.contentHash, full.contentHash)
    assert.strictEqual(reimport(JSON.stringify({ ...JSON.parse(line), createdAt: "2001-01-01T00:00:00Z" })).contentHash, full.contentHash)
    const [wired] = decodeOutcomes(encodeOutcomes([outcome]))
    assert.strictEqual(wired?._tag === "Ready" ? wired.createdAt?.toJSON() : undefined, "2024-05-01T00:00:00.000Z")
    // Read as publishedAt is: an offset, or none (UTC); null or absent is not given.
    const createdAt = (value: unknown) => {
      const decoded = decodeRecord("x.ndjson", recordLine("x.ndjson", 1, JSON.stringify({ title: "T", body: "b", createdAt: value }))!)
      return decoded._tag === "Record" ? decoded.createdAt?.toJSON() : assert.fail(decoded.reason)
    }
    assert.strictEqual(createdAt("2020-02-03T04:05:06+02:00"), "2020-02-03T02:05:06.000Z")
    assert.strictEqual(createdAt("2020-02-03"), "2020-02-03T00:00:00.000Z")
    assert.isUndefined(createdAt(null))
    for (const [value, reason] of [
      ["yesterday", `createdAt: "yesterday" is not a date (expected YYYY-MM-DD or RFC 3339 like 2024-05-01T10:00:00+02:00)`],
      ["2024-02-30", `createdAt: "2024-02-30" is not a valid calendar date or time`],
      [1700000000000, "createdAt: expected a string, got 1700000000000"]
    ] as const) {
      assert.strictEqual(reasonFor({ title: "T", body: "b", createdAt: value }), reason)
    }
  })

  it("the post's id rides along, outside the post and its hashes, and through a render thread's wire format", () => {
    const line = exportRecord(full)
    assert.strictEqual(JSON.parse(line).id, "0b6f0d5e-0000-4000-8000-000000000001")
    const outcome = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, line)!, defaultProcessorConfig)
    if (outcome._tag !== "Ready") return assert.fail(outcome.reason)
    assert.strictEqual(outcome.id, "0b6f0d5e-0000-4000-8000-000000000001")
    // The exported hash is kept: which id a post has is no content, nor is its lack (an older export).
    assert.strictEqual(outcome.post.contentHash, full.contentHash)
    const other = { ...JSON.parse(line), id: "0B6F0D5E-0000-4000-8000-0000000000FF" }
    assert.strictEqual(reimport(JSON.stringify(other)).contentHash, full.contentHash)
    assert.strictEqual(reimport(JSON.stringify({ ...JSON.parse(line), id: undefined })).contentHash, full.contentHash)
    const [wired] = decodeOutcomes(encodeOutcomes([outcome]))
    assert.strictEqual(wired?._tag === "Ready" ? wired.id : undefined, "0b6f0d5e-0000-4000-8000-000000000001")
    // A UUID in any case, stored in lowercase as Inkwell writes ids; null or absent is not given.
    const id = (value: unknown) => {
      const decoded = decodeRecord("x.ndjson", recordLine("x.ndjson", 1, JSON.stringify({ title: "T", body: "b", id: value }))!)
      return decoded._tag === "Record" ? decoded.id : assert.fail(decoded.reason)
    }
    assert.strictEqual(id(other.id), "0b6f0d5e-0000-4000-8000-0000000000ff")
    assert.isUndefined(id(null))
    assert.isUndefined(id(undefined))
    for (const [value, reason] of [
      ["42", `id: expected a UUID (8-4-4-4-12 hex digits), got "42"`],
      ["urn:uuid:0b6f0d5e-0000-4000-8000-000000000001", `id: expected a UUID (8-4-4-4-12 hex digits), got "urn:uuid:0b6f0d5e-0000-4000-8000-000000000001"`],
      [42, "id: expected a UUID string, got 42"]
    ] as const) {
      assert.strictEqual(reasonFor({ title: "T", body: "b", id: value }), reason)
    }
    // A stored id that is no UUID (none Inkwell gives) is left out: the line still imports.
    const odd = makeValidPost({ ...full, id: PostId.make("legacy-1") })
    assert.notProperty(JSON.parse(exportRecord(odd)), "id")
    assert.deepStrictEqual(content(reimport(exportRecord(odd))), content(full))
  })

  it("a body the import would read front matter from is shielded, and comes back as it was", () => {
    // Each a body as stored after its file's own front matter.
    for (const body of ["---\nnot: front matter\n---\ntext\n", "+++\na = 1\n+++\n", "{\"a\": 1}\nrest", "{}", "\uFEFFbom", "---\n\nan hr, then text\n", "\n\nleading blank lines\n"]) {
      const post = stored(`---\ntitle: T\n---\n${body}`)
      assert.strictEqual(post.body, body)
      const again = reimport(exportRecord(post))
      assert.deepStrictEqual(content(again), content(post), JSON.stringify(body))
    }
    assert.strictEqual(recordBody("plain text\n---\nmore"), "plain text\n---\nmore")
    assert.strictEqual(recordBody("---\nx: 1\n---\n"), "{}\n---\nx: 1\n---\n")
  })

  it("metadata nested as deep as front matter may nest it imports back (a record's metadata is one level above its keys)", () => {
    const flow = `${"{a: ".repeat(MAX_METADATA_DEPTH)}1${"}".repeat(MAX_METADATA_DEPTH)}`
    const deep = stored(`---\ntitle: T\nseries: ${flow}\n---\ntext\n`)
    assert.deepStrictEqual(content(reimport(exportRecord(deep))), content(deep))
  })

  it("drafts, scheduled posts and posts without a date keep their status and dates", () => {
    for (const front of ["draft: true", "date: 2999-01-01", "status: published"]) {
      const post = stored(`---\ntitle: T\n${front}\n---\ntext\n`)
      assert.deepStrictEqual(content(reimport(exportRecord(post))), content(post), front)
    }
  })

  it("an edited line is hashed as new input: the import updates the post instead of keeping it as unchanged", () => {
    const line = JSON.parse(exportRecord(full)) as Record<string, unknown>
    for (const edit of [{ body: "Fixed a typo." }, { title: "Other" }, { tags: ["rust"] }, { aliases: [] }, { metadata: {} }]) {
      const again = reimport(JSON.stringify({ ...line, ...edit }))
      assert.notStrictEqual(again.contentHash, full.contentHash, JSON.stringify(edit))
      assert.strictEqual(again.contentHash, reimport(JSON.stringify({ ...line, ...edit, contentHash: undefined, recordHash: undefined })).contentHash)
    }
    // The post JSON of the API carries a contentHash without a recordHash: not kept.
    const withoutRecordHash = reimport(JSON.stringify({ ...line, recordHash: undefined }))
    assert.notStrictEqual(withoutRecordHash.contentHash, full.contentHash)
  })

  it("resolved internal links ride along as internalLinks, outside the post and its hashes, taken back only for the body they were resolved for", () => {
    // As a directory import stores it: its links resolved, their slugs in its hash.
    const processed = stored("---\ntitle: Linking\n---\nSee [b](@/b.md#h), [x](https://x.example/) and [again](@/b.md).\n")
    const linking = makeValidPost({
      ...processed,
      html: rewriteInternalLinks(processed.html, (link) => postHref("the-b", link.fragment)),
      contentHash: hashWithLinks(processed.contentHash, [["@/b.md#h", "the-b"], ["@/b.md", "the-b"]])
    })
    assert.include(linking.html, `<a href="./the-b#h">b</a>`)
    const line = JSON.parse(exportRecord(linking)) as Record<string, unknown>
    assert.deepStrictEqual((line["internalLinks"] as { hrefs: unknown }).hrefs, ["./the-b#h", "https://x.example/", "./the-b"])
    assert.notProperty(JSON.parse(exportRecord(full)), "internalLinks", "a page without such a link carries none")

    const outcome = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, JSON.stringify(line))!, defaultProcessorConfig)
    if (outcome._tag !== "Ready") return assert.fail(outcome.reason)
    assert.deepStrictEqual(content(outcome.post), content(linking))
    assert.isUndefined(outcome.linksKept)
    // The slug each carried link leads to, for the import to check where that post was stored; across threads too.
    const carried = [{ href: "@/b.md#h", slug: "the-b" }, { href: "@/b.md", slug: "the-b" }]
    assert.deepStrictEqual(outcome.linksCarried, carried)
    const [carriedWired] = decodeOutcomes(encodeOutcomes([outcome]))
    assert.deepStrictEqual(carriedWired?._tag === "Ready" ? carriedWired.linksCarried : undefined, carried)

    const kept = (edit: Record<string, unknown>) => {
      const again = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, JSON.stringify({ ...line, ...edit }))!, defaultProcessorConfig)
      if (again._tag !== "Ready") return assert.fail(again.reason)
      assert.include(again.post.html, `<a href="@/b.md#h">b</a>`, JSON.stringify(edit))
      // Not the exported hash, which covers the slugs: the file's next import resolves them here.
      assert.notStrictEqual(again.post.contentHash, linking.contentHash, JSON.stringify(edit))
      return again
    }
    // Its body edited (the same links, even): as written, and why.
    const edited = kept({ body: String(line["body"]).replace("See", "Look at") })
    assert.match(edited.linksKept!, /body is not the one its internalLinks were exported for/)
    const [wired] = decodeOutcomes(encodeOutcomes([edited]))
    assert.strictEqual(wired?._tag === "Ready" ? wired.linksKept : undefined, edited.linksKept)
    // Addresses a link is never given, or that do not match the body's links by place: not taken.
    const hrefs = (list: ReadonlyArray<string>) => ({ internalLinks: { ...(line["internalLinks"] as object), hrefs: list } })
    for (const list of [["javascript:alert(1)", "https://x.example/", "./the-b"], ["./the-b#h", "https://evil.example/", "./the-b"], ["./the-b#h", "./the-b"], ["https://x.example/", "./the-b#h", "./the-b"]]) {
      const refused = kept(hrefs(list))
      assert.match(refused.linksKept!, /internalLinks do not match the links of its body/)
      assert.notInclude(refused.post.html, "javascript:")
    }
    // A line exported before lines carried them: as written; the default warning says why.
    assert.isUndefined(kept({ internalLinks: undefined }).linksKept)
    // Another field edited: the links are the body's, taken; the hash is the new input's.
    const retagged = processRecordSync("export.ndjson", recordLine("export.ndjson", 1, JSON.stringify({ ...line, tags: ["new"] }))!, defaultProcessorConfig)
    assert.include(retagged._tag === "Ready" ? retagged.post.html : retagged.reason, `<a href="./the-b#h">b</a>`)

    for (const value of ["x", [], { body: "h" }, { body: "h", hrefs: [1] }, { body: "h", hrefs: [], html: "<a>" }]) {
      assert.match(reasonFor({ title: "T", body: "b", internalLinks: value }), /^internalLinks: expected \{"body": <sha256 of the body>, "hrefs": \[<strings>\]\}/)
    }
  })

  it("a record's aliases are the post's, as front matter aliases are (trimmed, blank ones dropped, each once)", () => {
    const post = reimport(JSON.stringify({ title: "T", body: "b", aliases: [" /old/a ", "", "/old/a", "b.html"] }))
    assert.deepStrictEqual(post.aliases, ["/old/a", "b.html"])
    // The field wins over the body's front matter, as every explicit field does.
    const over = reimport(JSON.stringify({ title: "T", body: "---\naliases: [/fm]\n---\nb", aliases: ["/field"] }))
    assert.deepStrictEqual(over.aliases, ["/field"])
    assert.deepStrictEqual(reimport(JSON.stringify({ title: "T", body: "---\naliases: [/fm]\n---\nb" })).aliases, ["/fm"])
  })
})

describe("a record's bad slug", () => {
  it("is said plainly, naming its line, the value once", () => {
    const outcome = processRecordSync("export.ndjson", recordLine("export.ndjson", 7, JSON.stringify({ title: "T", slug: "Bad Slug!", body: "x" }))!, defaultProcessorConfig)
    assert.deepStrictEqual(
      outcome._tag === "Rejected" ? `${outcome.identity} ${outcome.reason}` : "accepted",
      "export.ndjson:7 slug: \"Bad Slug!\" is not a valid slug: a slug is lowercase letters and digits joined by single dashes"
    )
  })
})

describe("a record's text", () => {
  const outcomeOf = (record: unknown) => {
    const outcome = processRecordSync("export.ndjson", recordLine("export.ndjson", 3, JSON.stringify(record))!, defaultProcessorConfig)
    return outcome._tag === "Rejected" ? `${outcome.identity} ${outcome.reason}` : outcome
  }
  it("a NUL in a field is refused naming it; in the body it is stored as U+FFFD; a lone surrogate as U+FFFD", () => {
    assert.strictEqual(outcomeOf({ title: "a\u0000", body: "x" }), "export.ndjson:3 title: contains a NUL character (U+0000)")
    assert.strictEqual(outcomeOf({ title: "T", body: "x", metadata: { k: "\u0000" } }), "export.ndjson:3 metadata.k: contains a NUL character (U+0000)")
    assert.strictEqual(outcomeOf({ title: "T", body: "x", source: "s\u0000" }), "export.ndjson:3 source: contains a NUL character (U+0000)")
    const ready = outcomeOf({ title: "x\uD800y", slug: "s", body: "a\u0000b" })
    if (typeof ready === "string") return assert.fail(ready)
    assert.deepStrictEqual([ready.post.title, ready.post.body], ["x\uFFFDy", "a\uFFFDb"])
  })
  it("old slugs (movedFrom) with a NUL, or longer than a slug, are refused (PostgreSQL's text and btree would refuse the batch)", () => {
    assert.strictEqual(outcomeOf({ title: "T", slug: "s", body: "x", movedFrom: ["ok", "a\u0000"] }), "export.ndjson:3 movedFrom: [1]: contains a NUL character (U+0000)")
    assert.strictEqual(outcomeOf({ title: "T", slug: "s", body: "x", movedFrom: ["b".repeat(3000)] }), "export.ndjson:3 movedFrom: [0]: longer than 200 characters (3000)")
  })
})

describe("a record with a deeply nested or a long value", () => {
  const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
  const lineOf = (number: number, text: string) => recordLine("in.ndjson", number, text)!

  it("fails its line alone, naming the field, the value shown briefly (was: a stack overflow that stopped the whole import)", () => {
    const outcomes = processRecordsSync("in.ndjson", [
      lineOf(1, JSON.stringify({ title: "Good one", body: "x" })),
      lineOf(2, `{"title":"bad","body":"x","tags":${deep(10_000)}}`),
      lineOf(3, JSON.stringify({ title: "Good two", body: "x" }))
    ], defaultProcessorConfig)
    assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready", "Rejected", "Ready"])
    const bad = outcomes[1]!
    assert.strictEqual(bad._tag === "Rejected" && bad.identity, "in.ndjson:2")
    assert.strictEqual(bad._tag === "Rejected" && bad.reason, `tags[0]: expected a string, got ${"[".repeat(99)}…`)
  })

  it("every field's value is shown briefly: a 900 KB string, a deep movedFrom, createdAt or updatedAtSource", () => {
    const reasonOf = (text: string) => {
      const outcome = processRecordSync("in.ndjson", lineOf(1, text), defaultProcessorConfig)
      return outcome._tag === "Rejected" ? outcome.reason : assert.fail("accepted")
    }
    const long = reasonOf(JSON.stringify({ title: ["x".repeat(900_000)], body: "x", status: "y".repeat(900_000) }))
    assert.isAtMost(long.length, 300, long.slice(0, 300))
    assert.match(long, /^title: expected a string, got \["x+…; status: expected "draft" or "published", got "y+…"$/)
    // 100 characters shown: `{"a":` and 94 brackets, cut.
    const shown = `got \\{"a":\\[{94}…$`
    assert.match(reasonOf(`{"title":"t","body":"x","movedFrom":{"a":${deep(10_000)}}}`), new RegExp(`^movedFrom: expected a list of strings, ${shown}`))
    assert.match(reasonOf(`{"title":"t","body":"x","createdAt":{"a":${deep(10_000)}}}`), new RegExp(`^createdAt: expected a string, ${shown}`))
    assert.match(
      reasonOf(`{"title":"t","body":"x","updatedAtSource":{"a":${deep(10_000)}}}`),
      new RegExp(`^updatedAtSource: expected a string, ${shown}`)
    )
    assert.match(reasonOf(`{"title":"t","body":"x","movedFrom":[${deep(10_000)}]}`), /^movedFrom: \[0\]: expected a non-empty string, got \[{99}…$/)
  })

  it("what a line's decoding throws fails that line, not its batch", () => {
    const good = lineOf(1, JSON.stringify({ title: "Good", body: "x" }))
    // Read once to be parsed, then thrown on, as the decoding of a deep value threw past the parse.
    let reads = 0
    const throwing = Object.defineProperty({ ...good, identity: "in.ndjson:2" }, "text", {
      get: (): string => {
        if (reads++ === 0) return good.text
        throw new RangeError("Maximum call stack size exceeded")
      }
    })
    const outcomes = processRecordsSync("in.ndjson", [good, throwing, good], defaultProcessorConfig)
    assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready", "Rejected", "Ready"])
    assert.deepStrictEqual(outcomes[1], {
      _tag: "Rejected",
      identity: "in.ndjson:2",
      reason: "defect: Maximum call stack size exceeded",
      skipped: false,
      bytes: good.bytes
    })
  })
})

describe("a record with a key given twice", () => {
  const outcomeOf = (text: string) => {
    const outcome = processRecordSync("in.ndjson", recordLine("in.ndjson", 5, text)!, defaultProcessorConfig)
    return outcome._tag === "Rejected" ? `${outcome.identity} ${outcome.reason}` : outcome._tag
  }

  it("fails its line, naming the key, as the API refuses it (was: the last one taken: a draft published)", () => {
    assert.strictEqual(
      outcomeOf(`{"title":"T","body":"x","status":"draft","status":"published"}`),
      "in.ndjson:5 status: this key is in the record more than once; give each field once"
    )
    // However it is spelled, and at any depth.
    assert.strictEqual(
      outcomeOf(`{"title":"T","body":"x","st\\u0061tus":"draft", "status" : "published"}`),
      "in.ndjson:5 status: this key is in the record more than once; give each field once"
    )
    assert.strictEqual(
      outcomeOf(`{"title":"T","body":"x","metadata":{"a":[1,{"k":1,"k":2}]}}`),
      "in.ndjson:5 metadata.a[1].k: this key is in the record more than once; give each field once"
    )
  })

  it("a body or value that quotes JSON with a key twice is no key twice", () => {
    assert.strictEqual(outcomeOf(JSON.stringify({ title: "T", body: '```json\n{"a": 1, "a": 2}\n```', tags: ['"a":'] })), "Ready")
    assert.strictEqual(outcomeOf(JSON.stringify({ title: "T", body: "x", metadata: { a: { a: 1 }, b: [{ a: 2 }] } })), "Ready")
  })
})
