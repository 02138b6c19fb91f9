import { assert, describe, it } from "@effect/vitest"
import { Clock, ConfigProvider, DateTime, Duration, Effect, Either, Layer, Option, Schema } from "effect"
import { InvalidPost } from "../../src/Domain/Errors.js"
import { PostInput, type PostSource } from "../../src/Domain/Post.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { ALIAS_MAX_LENGTH, isSectionPage, MAX_METADATA_DEPTH, MAX_TAGS, processInputSync, processPostSync, SOURCE_MAX_BYTES, SOURCE_MAX_LENGTH } from "../../src/Processing/processPost.js"

const config = { wordsPerMinute: 230, excerptLength: 280 }
const TestProcessor = PostProcessor.layer(config)

const process = (raw: string, source = "posts/a.md", relativePath?: string) =>
  Effect.flatMap(PostProcessor, (p) =>
    p.process(relativePath === undefined ? { source, raw } : { source, raw, relativePath })
  ).pipe(Effect.provide(TestProcessor))

const invalid = (raw: string, source = "posts/a.md", relativePath?: string) =>
  Effect.flip(process(raw, source, relativePath))

const iso = (d: DateTime.Utc | null) => (d === null ? null : DateTime.formatIso(d))

/** A synchronous result as the tests compare it: "accepted", or the refusal as the user reads it. */
const refusal = (result: Either.Either<unknown, InvalidPost>) =>
  Either.isRight(result) ? "accepted" : `${result.left.source} ${result.left.field}: ${result.left.reason}`

/** The processed post, failing the test with the refusal if there is one. */
const accepted = <A>(result: Either.Either<A, InvalidPost>): A => {
  if (Either.isLeft(result)) return assert.fail(refusal(result))
  return result.right
}

/** Inputs refused, with the field, the start of the source (its line) and the reason they are refused with. */
const badInputs: ReadonlyArray<[string, string, string, RegExp]> = [
  ["---\ndate: 2024-01-01\n---\nbody", "title", "posts/a.md", /missing title/],
  ["---\ntitle: \"  \"\n---\n", "title", "posts/a.md:2", /empty/],
  ["---\ntitle: true\n---\n", "title", "posts/a.md:2", /must be a string/],
  ["---\ntitle: [a, b]\n---\n", "title", "posts/a.md:2", /must be a string/],
  ["---\ntitle: T\nstatus: archived\n---\n", "status", "posts/a.md:3", /"draft" or "published"/],
  ["---\ntitle: T\ndraft: maybe\n---\n", "draft", "posts/a.md:3", /true or false/],
  ["---\ntitle: T\n\ndate: 2024-02-30\n---\n", "date", "posts/a.md:4", /not a valid calendar date/],
  ["---\ntitle: T\ndate: next tuesday\n---\n", "date", "posts/a.md:3", /not a date/],
  ["---\ntitle: T\nupdated: soon\n---\n", "updated", "posts/a.md:3", /not a date/],
  ["---\ntitle: T\ndate: 0000-01-01T00:30:00+01:00\n---\n", "date", "posts/a.md:3", /^"0000-01-01T00:30:00\+01:00" is before 0000-01-01T00:00:00Z in UTC/],
  ["---\ntitle: T\nupdated: 9999-12-31T23:00:00-05:00\n---\n", "updated", "posts/a.md:3", /^"9999-12-31T23:00:00-05:00" is after 9999-12-31T23:59:59.999Z in UTC/],
  ['+++\ntitle = "T"\ndate = 0000-01-01T00:30:00+01:00\n+++\n', "date", "posts/a.md:3", /is before 0000-01-01T00:00:00Z in UTC/],
  ["---\ntitle: T\ntags: [true, 2]\n---\n", "tags", "posts/a.md:3", /strings/],
  ["---\ntitle: T\nauthors: {a: 1}\n---\n", "authors", "posts/a.md:3", /without a string "name"/],
  ["---\ntitle: T\nauthors: 3\n---\n", "authors", "posts/a.md:3", /a list of them/],
  ["---\ntitle: T\nsummary: 3\n---\n", "summary", "posts/a.md:3", /must be a string/],
  // A U+2028 in a value ends no line: the front matter goes on past a `---` after one, and lines are counted by LF.
  ["---\ntitle: T\nsummary: a\u2028---\ndate: soon\n---\n", "date", "posts/a.md:4", /not a date/],
  ['+++\ntitle = "T"\nsummary = "a\u2028date = 1"\ndate = "soon"\n+++\n', "date", "posts/a.md:4", /not a date/],
  ["---\ntitle: ok\ntags: [a, b\n---\nbody", "frontMatter", "posts/a.md:", /invalid YAML/],
  ['+++\ntitle = "ok"\ntitle = "twice"\n+++\n', "frontMatter", "posts/a.md:3", /invalid TOML/],
  ["---\ntitle: never closed\n\nbody", "frontMatter", "posts/a.md:1", /unterminated/],
  ['{"title": "T",\n "draft": true,\n "draft": false}\nbody', "frontMatter", "posts/a.md:3", /invalid JSON: duplicate key "draft"/],
  ['{"title": "T",\n "draft": tru}\nbody', "frontMatter", "posts/a.md:2", /invalid JSON: unexpected 't' at column 11/]
]

describe("PostProcessor.process", () => {
  it.effect("processes a YAML post with every field", () =>
    Effect.gen(function*() {
      const post = yield* process(
        [
          "---",
          "title: Hello World",
          "date: 2024-05-01T10:00:00+02:00",
          "lastmod: 2024-06-01",
          "tags: [rust, effect]",
          "categories: news",
          "author: Ada",
          "description: An author summary.",
          "aliases: [/old/hello]",
          "custom: 42",
          "---",
          "First paragraph here.",
          "",
          "## Part one",
          ""
        ].join("\n")
      )
      assert.strictEqual(post.title, "Hello World")
      assert.strictEqual(post.slug, "hello-world")
      assert.strictEqual(iso(post.publishedAt), "2024-05-01T08:00:00.000Z")
      assert.strictEqual(iso(post.updatedAtSource), "2024-06-01T00:00:00.000Z")
      assert.deepStrictEqual(post.tags, ["rust", "effect", "news"])
      assert.deepStrictEqual(post.authors, ["Ada"])
      assert.strictEqual(post.summary, "An author summary.")
      assert.strictEqual(post.excerpt, "An author summary.")
      assert.deepStrictEqual(post.aliases, ["/old/hello"])
      assert.deepStrictEqual(post.metadata, { custom: 42 })
      assert.strictEqual(post.status, "published")
      assert.strictEqual(post.body, "First paragraph here.\n\n## Part one\n")
      assert.strictEqual(post.source, "posts/a.md")
      assert.deepStrictEqual(post.toc.map((t) => t.id), ["part-one"])
      assert.strictEqual(post.wordCount, 5)
      assert.strictEqual(post.readingTimeMinutes, 1)
    }))

  it.effect("processes a Zola TOML post: path gives slug and date, taxonomies give tags, extra is kept", () =>
    Effect.gen(function*() {
      const post = yield* process(
        [
          "+++",
          'path = "inside-rust/2021/08/03/GATs-stabilization-push"',
          'title = "The push for GATs stabilization"',
          'authors = ["Jack Huey"]',
          'aliases = ["2021/08/03/GATs.html"]',
          "[taxonomies]",
          'tags = ["traits"]',
          'categories = ["lang"]',
          'series = ["gats"]',
          "[extra]",
          'team = "the Traits Working Group"',
          "+++",
          "Body."
        ].join("\n")
      )
      assert.strictEqual(post.slug, "inside-rust-2021-08-03-gats-stabilization-push")
      assert.strictEqual(iso(post.publishedAt), "2021-08-03T00:00:00.000Z")
      assert.deepStrictEqual(post.tags, ["traits", "lang"])
      assert.deepStrictEqual(post.authors, ["Jack Huey"])
      // The path is the post's old address: an alias too (the site redirects it), and still metadata.
      assert.deepStrictEqual(post.aliases, ["2021/08/03/GATs.html", "inside-rust/2021/08/03/GATs-stabilization-push"])
      assert.deepStrictEqual(post.metadata, {
        path: "inside-rust/2021/08/03/GATs-stabilization-push",
        taxonomies: { series: ["gats"] },
        extra: { team: "the Traits Working Group" }
      })
    }))

  it("Zola's path is an alias only where it is another address: not twice, not the post's own page, not past an alias's length", () => {
    const aliasesOf = (frontMatter: string) =>
      Either.getOrThrow(processPostSync({ source: "a.md", raw: `+++\ntitle = "T"\n${frontMatter}\n+++\nText` })).aliases
    // Keyed as the site looks aliases up: slashes around it do not make another address; case does.
    assert.deepStrictEqual(aliasesOf('path = "/2019/09/30/Post/"\naliases = ["2019/09/30/Post"]'), ["2019/09/30/Post"])
    assert.deepStrictEqual(aliasesOf('path = "2019/09/30/Post"\naliases = ["/2019/09/30/post/"]'), ["/2019/09/30/post/", "2019/09/30/Post"])
    assert.deepStrictEqual(aliasesOf('path = "p/my-post"\nslug = "my-post"'), [])
    assert.deepStrictEqual(aliasesOf('path = "/"'), [])
    // A path too long for an alias still names the slug, as it did, and is no alias.
    const long = `a/${"x".repeat(ALIAS_MAX_LENGTH)}`
    assert.deepStrictEqual(aliasesOf(`path = "${long}"`), [])
    assert.deepStrictEqual(aliasesOf(`path = "${long.slice(2)}"`), [long.slice(2)])
    // A client's explicit aliases are the whole list: the body's front matter path does not add to them.
    const body = '+++\npath = "2019/09/30/Post"\n+++\nText'
    assert.deepStrictEqual(Either.getOrThrow(processInputSync(new PostInput({ title: "T", body, aliases: ["/old"] }), "api")).aliases, ["/old"])
    assert.deepStrictEqual(Either.getOrThrow(processInputSync(new PostInput({ title: "T", body }), "api")).aliases, ["2019/09/30/Post"])
  })

  it.effect("reads TOML dates and keeps unknown TOML dates as ISO strings in metadata", () =>
    Effect.gen(function*() {
      const post = yield* process('+++\ntitle = "T"\ndate = 2024-05-01T10:00:00+02:00\nupdated = 2024-06-02\nreviewed = 2024-07-01\n+++\n')
      assert.strictEqual(iso(post.publishedAt), "2024-05-01T08:00:00.000Z")
      assert.strictEqual(iso(post.updatedAtSource), "2024-06-02T00:00:00.000Z")
      assert.deepStrictEqual(post.metadata, { reviewed: "2024-07-01" })
    }))

  it.effect("keeps TOML dates and times in metadata as TOML writes them: a local time, an offset, a fraction only when there is one", () =>
    Effect.gen(function*() {
      const post = yield* process([
        "+++",
        'title = "T"',
        "starts = 07:32:00",
        "precise = 07:32:00.25",
        "when = 1979-05-27T07:32:00-08:00",
        "utc = 1979-05-27 07:32:00Z",
        "local = 1979-05-27T07:32:00",
        "day = 1979-05-27",
        "[extra]",
        "times = [00:00:01, 1979-05-27T00:32:00.999+07:00]",
        "+++",
        ""
      ].join("\n"))
      assert.deepStrictEqual(post.metadata, {
        starts: "07:32:00",
        precise: "07:32:00.250",
        when: "1979-05-27T07:32:00-08:00",
        utc: "1979-05-27T07:32:00Z",
        local: "1979-05-27T07:32:00",
        day: "1979-05-27",
        extra: { times: ["00:00:01", "1979-05-27T00:32:00.999+07:00"] }
      })
    }))

  it.effect("keeps YAML sets, ordered maps and binary in metadata as JSON can: members, pairs, base64", () =>
    Effect.gen(function*() {
      const post = yield* process([
        "---",
        "title: T",
        "platforms: !!set {linux, macos}",
        "logo: !!binary aGVsbG8=",
        "steps: !!omap [{first: 1}, {second: [2, !!set {x}]}]",
        "nested: {empty: !!set {}, bytes: [!!binary AAE=]}",
        "---",
        ""
      ].join("\n"))
      assert.deepStrictEqual(post.metadata, {
        platforms: ["linux", "macos"],
        logo: "aGVsbG8=",
        steps: { first: 1, second: [2, ["x"]] },
        nested: { empty: [], bytes: ["AAE="] }
      })
      assert.strictEqual(JSON.stringify(Object.keys(post.metadata["steps"] as object)), '["first","second"]')
    }))

  it.effect("processes JSON front matter", () =>
    Effect.gen(function*() {
      const post = yield* process('{ "title": "JSON post", "draft": true, "pubDate": "2024-01-02" }\nBody')
      assert.strictEqual(post.title, "JSON post")
      assert.strictEqual(post.status, "draft")
      assert.strictEqual(iso(post.publishedAt), "2024-01-02T00:00:00.000Z")
    }))

  it.effect("accepts every date key and offset form", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[string, string]> = [
        ["date: 2024-05-01", "2024-05-01T00:00:00.000Z"],
        ["publishDate: 2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"],
        ['published_at: "2024-05-01T10:00:00+0130"', "2024-05-01T08:30:00.000Z"],
        ["pubDate: 2024-05-01T10:00:00-02:00", "2024-05-01T12:00:00.000Z"]
      ]
      for (const [line, expected] of cases) {
        const post = yield* process(`---\ntitle: T\n${line}\n---\n`)
        assert.strictEqual(iso(post.publishedAt), expected, line)
      }
    }))

  it.effect("takes the date from a YYYY-MM-DD- file name or a YYYY/MM/DD/ path, front matter first", () =>
    Effect.gen(function*() {
      const fromName = yield* process("---\ntitle: T\n---\n", "posts/2023-11-05-hello.md")
      assert.strictEqual(iso(fromName.publishedAt), "2023-11-05T00:00:00.000Z")
      const fromPath = yield* process("---\ntitle: T\n---\n", "/abs/root/2022/03/04/x/index.md", "2022/03/04/x/index.md")
      assert.strictEqual(iso(fromPath.publishedAt), "2022-03-04T00:00:00.000Z")
      const explicit = yield* process("---\ntitle: T\ndate: 2020-01-01\n---\n", "posts/2023-11-05-hello.md")
      assert.strictEqual(iso(explicit.publishedAt), "2020-01-01T00:00:00.000Z")
      const none = yield* process("---\ntitle: T\n---\n", "posts/hello.md")
      assert.isNull(none.publishedAt)
    }))

  it.effect("falls back to the directory name of index.md when the title has no slug characters", () =>
    Effect.gen(function*() {
      const post = yield* process("---\ntitle: \"🎉\"\n---\n", "content/party-time/index.md", "party-time/index.md")
      assert.strictEqual(post.slug, "party-time")
      assert.strictEqual(post.title, "🎉")
    }))

  it.effect("validates an explicit slug and keeps a valid one as is", () =>
    Effect.gen(function*() {
      const post = yield* process("---\ntitle: T\nslug: mein-straße-2\n---\n")
      assert.strictEqual(post.slug, "mein-straße-2")
      const e = yield* invalid("---\ntitle: T\nslug: Not A Slug\n---\n")
      assert.strictEqual(e.field, "slug")
      assert.strictEqual(e.source, "posts/a.md:3")
    }))

  it.effect("derives Unicode slugs from titles", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* process("---\ntitle: Ünïcödé Straße\n---\n")).slug, "unicode-straße")
      assert.strictEqual((yield* process("---\ntitle: 你好，世界\n---\n")).slug, "你好-世界")
    }))

  it.effect("maps draft and status", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* process("---\ntitle: T\ndraft: true\n---\n")).status, "draft")
      assert.strictEqual((yield* process("---\ntitle: T\ndraft: false\n---\n")).status, "published")
      assert.strictEqual((yield* process("---\ntitle: T\nstatus: Draft\n---\n")).status, "draft")
      assert.strictEqual((yield* process("---\ntitle: T\nstatus: published\ndraft: true\n---\n")).status, "published")
    }))

  it.effect("rejects bad input with the source, the line and the field", () =>
    Effect.gen(function*() {
      for (const [raw, field, source, reason] of badInputs) {
        const e = yield* invalid(raw)
        assert.instanceOf(e, InvalidPost)
        assert.strictEqual(e.field, field, raw)
        assert.isTrue(e.source.startsWith(source), `${e.source} should start with ${source}`)
        assert.match(e.reason, reason, raw)
      }
    }))

  it.effect("reads a file of bare CR line endings (old Mac) as one of LF: front matter, body, and the lines refusals name", () =>
    Effect.gen(function*() {
      const post = yield* process("---\rtitle: CR only\rtags: [a, b]\r---\r# Heading\rBody.\r")
      assert.strictEqual(post.title, "CR only")
      assert.deepStrictEqual(post.tags, ["a", "b"])
      assert.include(post.html, "<h1")
      assert.include(post.html, "<p>Body.</p>")
      assert.strictEqual((yield* process('+++\rtitle = "T"\rdraft = true\r+++\rText')).status, "draft")
      assert.strictEqual((yield* process('{\r"title": "J"\r}\rText')).title, "J")
      for (const [raw, field, source, reason] of badInputs) {
        const lf = yield* invalid(raw)
        const cr = yield* invalid(raw.replace(/\n/g, "\r"))
        assert.strictEqual(cr.field, field, raw)
        assert.isTrue(cr.source.startsWith(source), `${cr.source} should start with ${source}`)
        // The same line as with LF, and the same reason (a column included).
        assert.strictEqual(cr.source, lf.source, raw)
        assert.strictEqual(cr.reason, lf.reason, raw)
        assert.match(cr.reason, reason, raw)
      }
    }))

  it.effect("rejects section index pages", () =>
    Effect.gen(function*() {
      const e = yield* invalid('+++\ntitle = "Blog"\n+++\n', "content/_index.md")
      assert.strictEqual(e.field, "file")
      assert.match(e.reason, /section index page/)
      assert.isTrue(isSectionPage("inside-rust/_index.md"))
      assert.isFalse(isSectionPage("posts/index.md"))
    }))

  it.effect("builds the excerpt from the first paragraphs, cut on a word boundary", () =>
    Effect.gen(function*() {
      const para = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(8)
      const post = yield* process(`---\ntitle: T\n---\n# Heading words\n\n\`\`\`\ncode words\n\`\`\`\n\n${para}\n\nSecond paragraph.`)
      assert.isTrue(post.excerpt.startsWith("Lorem ipsum"))
      assert.isTrue(post.excerpt.endsWith("…"))
      assert.isAtMost(Array.from(post.excerpt).length, 280)
      assert.notInclude(post.excerpt, "Heading")
      assert.notInclude(post.excerpt, "code words")
      assert.match(post.excerpt, /[a-z]…$/, "ends after a whole word")
      const short = yield* process("---\ntitle: T\n---\nOne.\n\nTwo.")
      assert.strictEqual(short.excerpt, "One. Two.")
    }))

  it.effect("keeps list items apart in the excerpt (was: \"are: David Wood Jack Huey Niko Matsakis They will join\")", () =>
    Effect.gen(function*() {
      const post = yield* process(
        "---\ntitle: T\n---\nThe new Project Directors are:\n\n* [David Wood](https://x.test/dw)\n* Jack Huey\n* Niko Matsakis\n\nThey will join the board.\n\n1. First\n2. Second (the last)\n"
      )
      assert.strictEqual(post.excerpt, "The new Project Directors are: David Wood, Jack Huey, Niko Matsakis. They will join the board. First, Second (the last).")
      // Paragraphs and items that end a sentence or a clause, in any script, read on after a space.
      const prose = yield* process("---\ntitle: T\n---\nOne, \"quoted.\"\n\n这是第一句。\n\nWhy?\n\nA list:\n\n- an item\n- Another (it ends.)\n- Fruits:\n  - apple\n  - pear\n\n- 第二项。\n\nAfter.")
      assert.strictEqual(prose.excerpt, "One, \"quoted.\" 这是第一句。 Why? A list: an item, Another (it ends.) Fruits: apple, pear, 第二项。 After.")
    }))

  it.effect("joins paragraphs that are no list items as written, punctuated or not (was: \"; \" after each without punctuation)", () =>
    Effect.gen(function*() {
      const post = yield* process("---\ntitle: T\n---\nRelease notes\n\nThis release brings three things\n\nFirst of all, speed.\n")
      assert.strictEqual(post.excerpt, "Release notes This release brings three things First of all, speed.")
      // A hard break reads as a space, as any line break does.
      const chat = yield* process("---\ntitle: T\n---\nshepmaster  \nStart of the conversation\\\nand more\n")
      assert.strictEqual(chat.excerpt, "shepmaster Start of the conversation and more")
    }))

  it.effect("excludes code blocks from the word count and reads CJK per character", () =>
    Effect.gen(function*() {
      const withCode = yield* process("---\ntitle: T\n---\none two three\n\n```\nmany words in a code block\n```\n\n    indented code here\n")
      assert.strictEqual(withCode.wordCount, 3)
      const chinese = "这是一个很长的中文句子，用来测试阅读时间的计算是否正确。".repeat(40)
      const zh = yield* process(`---\ntitle: 中文\n---\n${chinese}`)
      assert.isAbove(zh.wordCount, 900)
      assert.isAtLeast(zh.readingTimeMinutes, 4, "a long Chinese post must not read as one minute")
    }))

  it.effect("reads Thai in words, not in phrases between spaces", () =>
    Effect.gen(function*() {
      // About 17 words a sentence, one space in it: counted by spaces, 2 words a sentence.
      const thai = "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์ ผู้คนในประเทศไทยใช้ภาษานี้ในชีวิตประจำวัน\n\n".repeat(40)
      const th = yield* process(`---\ntitle: ภาษาไทย\n---\n${thai}`)
      assert.isAbove(th.wordCount, 500)
      assert.isAtLeast(th.readingTimeMinutes, 3, "a long Thai post must not read as one minute")
    }))

  it.effect("uses wordsPerMinute and excerptLength from the layer", () =>
    Effect.gen(function*() {
      const p = yield* PostProcessor
      const post = yield* p.process({ source: "x.md", raw: `---\ntitle: T\n---\n${"word ".repeat(100)}` })
      assert.strictEqual(post.readingTimeMinutes, 10)
      assert.isAtMost(Array.from(post.excerpt).length, 20)
    }).pipe(Effect.provide(PostProcessor.layer({ wordsPerMinute: 10, excerptLength: 20 }))))

  it.effect("reads its settings from configuration with layerConfig", () =>
    Effect.gen(function*() {
      const p = yield* PostProcessor
      const post = yield* p.process({ source: "x.md", raw: `---\ntitle: T\n---\n${"word ".repeat(100)}` })
      assert.strictEqual(post.readingTimeMinutes, 2)
    }).pipe(
      Effect.provide(
        PostProcessor.layerConfig.pipe(
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["WORDS_PER_MINUTE", "50"]]))))
        )
      )
    ))

  it.effect("gives identical hashes to identical (normalized) input and different ones otherwise", () =>
    Effect.gen(function*() {
      const a = yield* process("---\ntitle: T\n---\nBody\n")
      const b = yield* process("---\r\ntitle: T   \r\n---\r\nBody\r\n\r\n", "other/path.md")
      const c = yield* process("---\ntitle: T\n---\nBody changed\n")
      assert.strictEqual(a.contentHash, b.contentHash)
      assert.notStrictEqual(a.contentHash, c.contentHash)
    }))

  it.effect("never throws on hostile input", () =>
    Effect.gen(function*() {
      const inputs = ["", "---", "+++", "{", "{\"", "---\n---", "\u0000\uFFFF\uD800", "---\n&a [*a]\n---\n", "---\n? [a]\n: b\n---\n"]
      for (const raw of inputs) {
        const result = yield* Effect.either(process(raw))
        assert.isTrue(Either.isLeft(result), JSON.stringify(raw))
      }
    }))
})

describe("PostProcessor.fromInput", () => {
  const fromInput = (input: ConstructorParameters<typeof PostInput>[0], source = "api") =>
    Effect.flatMap(PostProcessor, (p) => p.fromInput(new PostInput(input), source)).pipe(Effect.provide(TestProcessor))

  it.effect("uses explicit fields over the body's front matter", () =>
    Effect.gen(function*() {
      const post = yield* fromInput({
        title: "Explicit",
        body: "---\ntitle: From FM\ntags: [fm]\nauthor: FM Author\nextra_key: 1\n---\nHello",
        tags: ["api"],
        status: "draft",
        publishedAt: "2024-05-01T10:00:00+0200",
        metadata: { client: "cli" }
      })
      assert.strictEqual(post.title, "Explicit")
      assert.strictEqual(post.slug, "explicit")
      assert.deepStrictEqual(post.tags, ["api"])
      assert.deepStrictEqual(post.authors, ["FM Author"])
      assert.strictEqual(post.status, "draft")
      assert.strictEqual(iso(post.publishedAt), "2024-05-01T08:00:00.000Z")
      assert.deepStrictEqual(post.metadata, { extra_key: 1, client: "cli" })
      assert.strictEqual(post.body, "Hello")
      assert.strictEqual(post.source, "api")
    }))

  it.effect("takes the title from front matter when not given", () =>
    Effect.gen(function*() {
      const post = yield* fromInput({ body: "---\ntitle: From FM\n---\nHello" })
      assert.strictEqual(post.title, "From FM")
    }))

  it.effect("validates explicit status, dates and slug, naming the source", () =>
    Effect.gen(function*() {
      const bad = [
        [{ title: "T", body: "x", publishedAt: "01/02/2024" }, "publishedAt"],
        [{ title: "T", body: "x", updatedAt: "nope" }, "updatedAt"],
        [{ title: "T", body: "x", slug: "Bad Slug" }, "slug"],
        [{ body: "no title" }, "title"]
      ] as const
      for (const [input, field] of bad) {
        const e = yield* Effect.flip(fromInput(input, "https://client.example/posts"))
        assert.strictEqual(e.field, field)
        assert.strictEqual(e.source, "https://client.example/posts")
      }
      // A status other than those two is refused by PostInput itself (the API's 400 naming it);
      // processing still refuses one in a PostInput built unchecked.
      assert.throws(() => new PostInput({ title: "T", body: "x", status: "archived" }), /expected "draft" or "published", got "archived"/)
      const unchecked = new PostInput({ title: "T", body: "x", status: "archived" }, true)
      const e = yield* Effect.flip(
        Effect.flatMap(PostProcessor, (p) => p.fromInput(unchecked, "https://client.example/posts")).pipe(Effect.provide(TestProcessor))
      )
      assert.strictEqual(e.field, "status")
    }))

  it.effect("hashes a body-only input like the same text from a file, and explicit fields into the hash", () =>
    Effect.gen(function*() {
      const raw = "---\ntitle: T\n---\nBody\n"
      const fromApi = yield* fromInput({ body: raw })
      const fromFile = yield* process(raw)
      assert.strictEqual(fromApi.contentHash, fromFile.contentHash)
      const withTags1 = yield* fromInput({ body: raw, tags: ["a"] })
      const withTags2 = yield* fromInput({ body: raw, tags: ["b"] })
      assert.notStrictEqual(withTags1.contentHash, withTags2.contentHash)
      assert.strictEqual((yield* fromInput({ body: raw, tags: ["a"] })).contentHash, withTags1.contentHash)
    }))
})

describe("processPostSync", () => {
  it("is usable without an Effect runtime", () => {
    const source: PostSource = { source: "a.md", raw: "---\ntitle: Sync\n---\nText" }
    const result = processPostSync(source)
    assert.isTrue(Either.isRight(result))
    const bad = processInputSync(new PostInput({ body: "x" }), "api")
    assert.isTrue(Either.isLeft(bad))
  })
})

describe("tags", () => {
  it("refuses a tag whose page no URL can reach (. and ..), naming it; dots inside a tag are fine", () => {
    for (const tag of [".", ".."]) {
      const result = processPostSync({ source: "a.md", raw: `---\ntitle: T\ntags: [rust, "${tag}"]\n---\nText` })
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left.field, "tags")
        assert.include(result.left.reason, `tag "${tag}" cannot have a page of its own`)
      }
      assert.isTrue(Either.isLeft(processInputSync(new PostInput({ title: "T", body: "x", tags: [tag] }), "api")))
    }
    const fine = processPostSync({ source: "a.md", raw: "---\ntitle: T\ntags: [\".net\", \"...\", \"v1.0\"]\n---\nText" })
    assert.deepStrictEqual(Either.map(fine, (post) => post.tags), Either.right([".net", "...", "v1.0"]))
  })
})

describe("explicit slugs", () => {
  it("are kept in NFC: the same word typed with a combining accent is the same slug", () => {
    const nfd = "cafe\u0301-au-lait"
    const fromInput = processInputSync(new PostInput({ title: "T", slug: nfd, body: "x" }), "api")
    const fromFile = processPostSync({ source: "a.md", raw: `---\ntitle: T\nslug: ${nfd}\n---\nText` })
    for (const result of [fromInput, fromFile]) {
      assert.deepStrictEqual(Either.map(result, (post): string => post.slug), Either.right("café-au-lait"))
    }
  })
})

describe("aliases", () => {
  it("are kept in NFC, as the site reads a request's path: one written with a combining accent is stored composed, and once", () => {
    const nfd = "/cafe\u0301/menu.html"
    const nfc = "/caf\u00e9/menu.html"
    const fromInput = processInputSync(new PostInput({ title: "T", body: "x", aliases: [nfd, nfc, " /nai\u0308ve "] }), "api")
    const fromFile = processPostSync({ source: "a.md", raw: `---\ntitle: T\naliases: ["${nfd}", "${nfc}", "/nai\u0308ve"]\n---\nText` })
    for (const result of [fromInput, fromFile]) {
      assert.deepStrictEqual(Either.map(result, (post) => post.aliases), Either.right([nfc, "/na\u00efve"]))
    }
    // Zola's path too, and it is no other address than the alias it spells differently.
    const zola = processPostSync({ source: "a.md", raw: `+++\ntitle = "T"\npath = "cafe\u0301/menu.html"\naliases = ["/caf\u00e9/menu.html/"]\n+++\nText` })
    assert.deepStrictEqual(Either.map(zola, (post) => post.aliases), Either.right(["/caf\u00e9/menu.html/"]))
    const zolaOnly = processPostSync({ source: "a.md", raw: `+++\ntitle = "T"\npath = "cafe\u0301/carte"\n+++\nText` })
    assert.deepStrictEqual(Either.map(zolaOnly, (post) => post.aliases), Either.right(["caf\u00e9/carte"]))
  })
})

describe("derived slugs", () => {
  it("a title of letters whose compatibility form is a capital has its slug (was: \"cannot derive a slug\")", () => {
    const result = processInputSync(new PostInput({ title: "ℍ", body: "x" }), "api")
    assert.deepStrictEqual(Either.map(result, (post): string => post.slug), Either.right("h"))
  })
})

describe("metadata nesting", () => {
  const nested = (levels: number): unknown => {
    let value: unknown = "leaf"
    for (let i = 0; i < levels; i++) value = { a: value }
    return value
  }
  it("refuses metadata nested past MAX_METADATA_DEPTH as a metadata problem, not a stack overflow of the body", () => {
    const deep = processInputSync(new PostInput({ title: "T", body: "x", metadata: { deep: nested(5000) } }), "api")
    assert.isTrue(Either.isLeft(deep))
    if (Either.isLeft(deep)) {
      assert.deepStrictEqual([deep.left.field, deep.left.reason], ["metadata", `metadata is nested deeper than ${MAX_METADATA_DEPTH} levels`])
    }
    const flow = `${"{a: ".repeat(100)}1${"}".repeat(100)}`
    const front = processPostSync({ source: "a.md", raw: `---\ntitle: T\nseries: ${flow}\n---\nText` })
    assert.isTrue(Either.isLeft(front))
    if (Either.isLeft(front)) {
      assert.deepStrictEqual([front.left.source, front.left.field], ["a.md:3", "metadata"])
      assert.include(front.left.reason, `front matter "series" is nested deeper than ${MAX_METADATA_DEPTH} levels`)
    }
    // As deep as allowed: stored as given.
    const fine = processInputSync(new PostInput({ title: "T", body: "x", metadata: { ok: nested(MAX_METADATA_DEPTH - 1) } }), "api")
    assert.isTrue(Either.isRight(fine))
  })
})

describe("excerpt of an HTML-only body", () => {
  it("takes the text of the sanitized HTML when there are no markdown paragraphs", () => {
    const result = processInputSync(
      new PostInput({ title: "From a feed", body: "<div><p>Caf&eacute; &amp; <b>bold</b> text.</p><script>alert(1)</script></div>" }),
      "https://example.com/feed#1"
    )
    if (Either.isLeft(result)) throw new Error(result.left.message)
    assert.strictEqual(result.right.excerpt, "Café & bold text.")
  })
})

describe("metadata keys named __proto__", () => {
  /** Own enumerable keys, as JSON sees them; `__proto__` set by assignment would be none of them. */
  const keysOf = (value: unknown) => Object.keys(value as object)
  const own = (value: unknown, key: string): unknown => Object.getOwnPropertyDescriptor(value, key)?.value
  const metadataOf = (result: Either.Either<{ readonly metadata: unknown }, InvalidPost>) =>
    accepted(result).metadata as Record<string, unknown>
  const unpolluted = (metadata: Record<string, unknown>) => {
    assert.isUndefined(({} as Record<string, unknown>)["polluted"], "Object.prototype was polluted")
    // The object's own prototype was not swapped for the value either.
    assert.isUndefined(metadata["polluted"])
    assert.strictEqual(Object.getPrototypeOf(metadata), Object.prototype)
  }

  it("front matter (YAML, TOML, JSON): kept as an ordinary key, at the top and nested", () => {
    const sources = {
      yaml: "---\ntitle: T\n__proto__:\n  polluted: 1\nextra:\n  __proto__: 2\n---\nText\n",
      toml: "+++\ntitle = \"T\"\n[__proto__]\npolluted = 1\n[extra]\n__proto__ = 2\n+++\nText\n",
      json: '{"title": "T", "__proto__": {"polluted": 1}, "extra": {"__proto__": 2}}\nText\n'
    }
    for (const [format, raw] of Object.entries(sources)) {
      const metadata = metadataOf(processPostSync({ source: `a.${format}.md`, raw }))
      assert.deepStrictEqual(keysOf(metadata), ["__proto__", "extra"], format)
      assert.deepStrictEqual(JSON.parse(JSON.stringify(own(metadata, "__proto__"))), { polluted: 1 }, format)
      assert.deepStrictEqual(keysOf(metadata["extra"]), ["__proto__"], format)
      assert.strictEqual(own(metadata["extra"], "__proto__"), 2, format)
      assert.strictEqual(JSON.stringify(metadata), '{"__proto__":{"polluted":1},"extra":{"__proto__":2}}', format)
      unpolluted(metadata)
    }
  })

  it("a JSON post's metadata, and its front matter's merged under it: kept, the explicit one winning", () => {
    const input = Schema.decodeUnknownSync(PostInput)(
      JSON.parse('{"title": "T", "body": "---\\n__proto__: from-front-matter\\n---\\nText", "metadata": {"__proto__": {"polluted": 1}, "n": {"__proto__": [1]}}}')
    )
    assert.deepStrictEqual(keysOf(input.metadata), ["__proto__", "n"], "decoding PostInput kept it")
    const metadata = metadataOf(processInputSync(input, "api"))
    assert.strictEqual(JSON.stringify(metadata), '{"__proto__":{"polluted":1},"n":{"__proto__":[1]}}')
    unpolluted(metadata)
  })
})

describe("integers past 2^53 in front matter", () => {
  const metadataOf = (raw: string) => accepted(processPostSync({ source: "posts/big.md", raw }, config)).metadata
  it("TOML keeps them exact as strings (was: the whole post refused), safe ones numbers", () => {
    assert.deepStrictEqual(
      metadataOf("+++\ntitle = \"Big\"\nbig = 9007199254740993\nsmall = 42\nlist = [1, -9223372036854775808]\n+++\nText.\n"),
      { big: "9007199254740993", small: 42, list: [1, "-9223372036854775808"] }
    )
  })
  it("YAML keeps them exact as strings (was: silently rounded), safe ones numbers", () => {
    assert.deepStrictEqual(
      metadataOf("---\ntitle: Big\nbig: 9007199254740993\nsmall: 42\nfloat: 1.5\nnested: { id: 12345678901234567890 }\n---\nText.\n"),
      { big: "9007199254740993", small: 42, float: 1.5, nested: { id: "12345678901234567890" } }
    )
  })
  it("an integer where a string belongs is still named a number", () => {
    const result = processPostSync({ source: "posts/big.md", raw: "---\ntitle: T\nslug: 12\n---\nText.\n" }, config)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "front matter \"slug\" must be a string, not a number")
  })
})

describe("error wording", () => {
  it("a bad slug is said plainly, its value once (was: Schema's tree characters, a long value twice)", () => {
    const long = "a".repeat(300)
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: "---\ntitle: T\nslug: Bad Slug!\n---\nText" })),
      "a.md:3 slug: \"Bad Slug!\" is not a valid slug: a slug is lowercase letters and digits joined by single dashes"
    )
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: `---\ntitle: T\nslug: ${long}\n---\nText` })),
      `a.md:3 slug: "${"a".repeat(60)}…" is not a valid slug: longer than 200 characters (300)`
    )
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", slug: "Bad Slug!", body: "x" }), "api")),
      "api slug: \"Bad Slug!\" is not a valid slug: a slug is lowercase letters and digits joined by single dashes"
    )
  })
  it("at most MAX_TAGS tags, counted by key, named with the field (was: 11,000 tags a 500 on SQLite, 22,000 a 503 on PostgreSQL)", () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`)
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x", tags: tags(MAX_TAGS + 1) }), "api")),
      `api tags: ${MAX_TAGS + 1} tags: a post has at most ${MAX_TAGS}`
    )
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: `---\ntitle: T\ntags: [${tags(22000).join(", ")}]\n---\nText` })),
      `a.md:3 tags: 22000 tags: a post has at most ${MAX_TAGS}`
    )
    const kept = processInputSync(new PostInput({ title: "T", body: "x", tags: [...tags(MAX_TAGS), ...tags(MAX_TAGS).map((t) => t.toUpperCase())] }), "api")
    assert.strictEqual(Either.getOrThrow(kept).tags.length, MAX_TAGS, "spellings of one key are one tag")
  })
  it("a tag too long, or . or .., is named with its key's line (was: no line)", () => {
    const long = "t".repeat(101)
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: `---\ntitle: T\ndate: 2024-01-01\ntags: [ok, ${long}]\n---\nText` })),
      `a.md:4 tags: tag "${"t".repeat(60)}…" is longer than 100 characters`
    )
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: "---\ntitle: T\ntags: [ok]\ncategories: [\"..\"]\n---\nText" })),
      "a.md:4 categories: tag \"..\" cannot have a page of its own (its URL would be another page's)"
    )
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: "+++\ntitle = \"T\"\n\n[taxonomies]\ntags = [\".\"]\n+++\nText" })),
      "a.md:4 taxonomies.tags: tag \".\" cannot have a page of its own (its URL would be another page's)"
    )
  })
})

describe("a refusal names the front matter key as the author wrote it (was: the post field it feeds, `updatedAt`, `publishedAt`, `summary`...)", () => {
  const bad = (raw: string) => refusal(processPostSync({ source: "a.md", raw }))
  const NOT_A_DATE = "is not a date (expected YYYY-MM-DD or RFC 3339 like 2024-05-01T10:00:00+02:00)"

  it("every spelling of the updated and the published date, in YAML, TOML and JSON, at the key's line", () => {
    for (const key of ["updated", "lastmod", "lastMod", "updated_at", "updatedAt", "modified"]) {
      assert.strictEqual(bad(`---\ntitle: T\ndate: 2024-01-01\n${key}: not-a-date\n---\nText`), `a.md:4 ${key}: "not-a-date" ${NOT_A_DATE}`)
      assert.strictEqual(bad(`+++\ntitle = "T"\n${key} = "not-a-date"\n+++\nText`), `a.md:3 ${key}: "not-a-date" ${NOT_A_DATE}`)
    }
    for (const key of ["date", "publishDate", "publishdate", "published_at", "publishedAt", "pubDate", "published"]) {
      assert.strictEqual(bad(`---\ntitle: T\n\n${key}: 2024-02-30\n---\nText`), `a.md:4 ${key}: "2024-02-30" is not a valid calendar date or time`)
      assert.strictEqual(bad(`{"title": "T",\n "${key}": "someday"}\nText`), `a.md:2 ${key}: "someday" ${NOT_A_DATE}`)
    }
    assert.strictEqual(
      bad("+++\ntitle = \"T\"\nlastmod = 07:32:00\n+++\nText"),
      "a.md:3 lastmod: a time of day without a date is not a date"
    )
    assert.strictEqual(
      bad("---\ntitle: T\npubDate: 0000-01-01T00:30:00+01:00\n---\nText"),
      "a.md:3 pubDate: \"0000-01-01T00:30:00+01:00\" is before 0000-01-01T00:00:00Z in UTC (dates are kept within years 0000-9999)"
    )
    // The first key given is the one read, and the one named; a null one is not given.
    assert.strictEqual(bad("---\ntitle: T\nupdated:\nmodified: soon\n---\nText"), `a.md:4 modified: "soon" ${NOT_A_DATE}`)
  })

  it("in a JSON post's body too; an explicit field is named as sent", () => {
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "---\nlastmod: soon\n---\nText" }), "api")),
      `api:2 lastmod: "soon" ${NOT_A_DATE}`
    )
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "---\npubDate: soon\n---\nText" }), "api")),
      `api:2 pubDate: "soon" ${NOT_A_DATE}`
    )
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x", updatedAt: "soon" }), "api")),
      `api updatedAt: "soon" ${NOT_A_DATE}`
    )
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x", publishedAt: "soon" }), "api")),
      `api publishedAt: "soon" ${NOT_A_DATE}`
    )
  })

  it("the summary's, tags', authors' and status' other keys", () => {
    for (const key of ["summary", "description", "excerpt"]) {
      assert.strictEqual(bad(`---\ntitle: T\n${key}: [a]\n---\nText`), `a.md:3 ${key}: front matter "${key}" must be a string, not an array`)
    }
    assert.strictEqual(bad("---\ntitle: T\ncategories: [true]\n---\nText"), `a.md:3 categories: front matter "categories" must list strings, found a boolean`)
    assert.strictEqual(
      bad("+++\ntitle = \"T\"\n\n[taxonomies]\ncategories = [{a = 1}]\n+++\nText"),
      `a.md:4 taxonomies.categories: front matter "taxonomies" must list strings, found a table`
    )
    assert.strictEqual(bad("---\ntitle: T\ntaxonomies: rust\n---\nText"), `a.md:3 taxonomies: front matter "taxonomies" must be a table, not a string`)
    assert.strictEqual(bad("---\ntitle: T\ncategories: \"a\\u0001b\"\n---\nText"), "a.md:3 categories: contains a control character (U+0001)")
    assert.strictEqual(bad("---\ntitle: T\nauthor: 3\n---\nText"), `a.md:3 author: front matter "author" must be a string, a table with a "name", or a list of them, not a number`)
    assert.strictEqual(bad("---\ntitle: T\nauthor: \"Ada\\u0007\"\n---\nText"), "a.md:3 author: contains a control character (U+0007)")
    assert.strictEqual(
      bad("+++\ntitle = \"T\"\n\n[extra]\nauthor = 3\n+++\nText"),
      `a.md:4 extra.author: front matter "extra.author" must be a string, a table with a "name", or a list of them, not a number`
    )
    assert.strictEqual(bad("---\ntitle: T\ndraft: maybe\n---\nText"), `a.md:3 draft: front matter "draft" must be true or false (or yes, no, on, off), not "maybe"`)
    // Fields an API client sends are named as sent.
    assert.strictEqual(refusal(processInputSync(new PostInput({ title: "T", body: "x", tags: ["a\u0001"] }), "api")), "api tags: contains a control character (U+0001)")
    assert.strictEqual(refusal(processInputSync(new PostInput({ title: "T", body: "x", authors: ["a\u0001"] }), "api")), "api authors: contains a control character (U+0001)")
  })
})

describe("text every store keeps alike", () => {
  it("a NUL in a body is stored as U+FFFD, as CommonMark reads it (was: kept, which PostgreSQL refuses)", () => {
    const post = accepted(processInputSync(new PostInput({ title: "T", body: "a\u0000b\n\n---\n\nc\u0000" }), "api"))
    assert.strictEqual(post.body, "a\uFFFDb\n\n---\n\nc\uFFFD")
    assert.notInclude(post.html, "\u0000")
  })

  it("a title, tag or author is one line: breaks and tabs are a space, other control characters refused by field and line", () => {
    const post = accepted(processPostSync({
      source: "a.md",
      raw: "---\ntitle: |\n  Two\n  lines\ntags: [\"web\\tdev\", \"a\\n\\n b\"]\nauthor: \"Ada\\r\\nLovelace\"\n---\nText"
    }))
    assert.deepStrictEqual([post.title, post.tags, post.authors], ["Two lines", ["web dev", "a b"], ["Ada Lovelace"]])
    // A no-break space is spacing as written, not a break.
    assert.strictEqual(accepted(processInputSync(new PostInput({ title: "Bonjour\u00A0!", body: "x" }), "api")).title, "Bonjour\u00A0!")
    assert.strictEqual(refusal(processPostSync({ source: "a.md", raw: "---\ntitle: T\ntags: [ok, \"x\\u0002\"]\n---\nText" })), "a.md:3 tags: contains a control character (U+0002)")
    assert.strictEqual(refusal(processPostSync({ source: "a.md", raw: "---\ntitle: \"a\\u007Fb\"\n---\nText" })), "a.md:2 title: contains a control character (U+007F)")
    assert.strictEqual(refusal(processInputSync(new PostInput({ title: "T", body: "x", authors: ["A\u0086"] }), "api")), "api authors: contains a control character (U+0086)")
  })

  it("NEL (U+0085) is a line break in a title, tag or author: a space, as \\n is (was: refused as a control character)", () => {
    const post = accepted(processInputSync(new PostInput({ title: "Two\u0085lines", body: "x", tags: ["web\u0085 dev"], authors: ["Ada\u0085Lovelace"] }), "api"))
    assert.deepStrictEqual([post.title, post.tags, post.authors], ["Two lines", ["web dev"], ["Ada Lovelace"]])
  })

  it("a title is at most 1,000 characters (PostgreSQL could not index a title of a megabyte): longer fails, named", () => {
    assert.strictEqual(accepted(processInputSync(new PostInput({ title: "x".repeat(1000), body: "x" }), "api")).title.length, 1000)
    assert.match(refusal(processPostSync({ source: "a.md", raw: `---\ntitle: ${"x".repeat(1001)}\n---\nText` })), /^a\.md:2 title: "x+…?.*" is longer than 1000 characters \(1001\)$/)
  })

  it("a title's characters are code points, as a slug's and a tag's (was: an emoji counted twice, 600 of them refused as 1200)", () => {
    assert.strictEqual(accepted(processInputSync(new PostInput({ title: "😀".repeat(1000), slug: "s", body: "x" }), "api")).title, "😀".repeat(1000))
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "😀".repeat(1001), slug: "s", body: "x" }), "api")),
      `api title: "${"😀".repeat(60)}…" is longer than 1000 characters (1001)`
    )
  })

  it("a NUL in a front matter or record field is refused, naming the field and its line", () => {
    assert.strictEqual(refusal(processPostSync({ source: "a.md", raw: "---\ntitle: \"a\\0b\"\n---\nText" })), "a.md:2 title: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(processPostSync({ source: "a.md", raw: "---\ntitle: T\ntags: [ok, \"x\\0\"]\n---\nText" })), "a.md:3 tags[1]: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(processPostSync({ source: "a.md", raw: "+++\ntitle = \"T\"\n[extra]\nnote = \"x\\u0000\"\n+++\nText" })), "a.md:3 extra.note: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(processPostSync({ source: "a.md", raw: "{\"title\": \"T\", \"k\\u0000\": 1}\nText" })), "a.md k\\u0000: contains a NUL character (U+0000)")
    const input = (fields: Partial<PostInput>) => processInputSync(new PostInput({ title: "T", body: "x", ...fields }), "api")
    assert.strictEqual(refusal(input({ title: "a\u0000" })), "api title: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(input({ aliases: ["/ok", "/x\u0000"] })), "api aliases[1]: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(input({ authors: ["A\u0000"] })), "api authors[0]: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(input({ summary: "\u0000" })), "api summary: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(input({ metadata: { a: { b: ["\u0000"] } } })), "api metadata.a.b[0]: contains a NUL character (U+0000)")
    assert.strictEqual(refusal(processInputSync(new PostInput({ title: "T", body: "x" }), "feed\u0000")), "feed\u0000 source: contains a NUL character (U+0000)")
  })

  it("a lone surrogate is stored as U+FFFD wherever it is (was: read back differently per store)", () => {
    const post = accepted(processInputSync(new PostInput({
      title: "x\uD800y",
      body: "b\uDC00",
      tags: ["t\uD800"],
      aliases: ["/a\uDBFF"],
      metadata: { ["k\uD800"]: "v\uDFFF", emoji: "🎉" }
    }), "api"))
    assert.deepStrictEqual(
      [post.title, post.body, post.tags, post.aliases, post.metadata],
      ["x\uFFFDy", "b\uFFFD", ["t\uFFFD"], ["/a\uFFFD"], { "k\uFFFD": "v\uFFFD", emoji: "🎉" }]
    )
  })
})

describe("indexed text has a length limit, in every store", () => {
  it(`an alias longer than ${ALIAS_MAX_LENGTH} characters is refused, with its line (was: PostgreSQL's btree refused the batch)`, () => {
    const long = `/${"é".repeat(ALIAS_MAX_LENGTH)}`
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: `---\ntitle: T\naliases: ["${long}"]\n---\nText` })),
      `a.md:3 aliases: alias "/${"é".repeat(59)}…" is longer than ${ALIAS_MAX_LENGTH} characters (${ALIAS_MAX_LENGTH + 1})`
    )
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x", aliases: [long] }), "api")),
      `api aliases: alias "/${"é".repeat(59)}…" is longer than ${ALIAS_MAX_LENGTH} characters (${ALIAS_MAX_LENGTH + 1})`
    )
    assert.strictEqual(refusal(processInputSync(new PostInput({ title: "T", body: "x", aliases: [long.slice(1)] }), "api")), "accepted")
  })
  it("an alias's and a source's characters are code points (was: an emoji counted twice)", () => {
    const input = new PostInput({ title: "T", body: "x", aliases: [`/${"😀".repeat(ALIAS_MAX_LENGTH - 1)}`] })
    assert.strictEqual(refusal(processInputSync(input, `${"😀".repeat(SOURCE_MAX_BYTES / 4)}`)), "accepted")
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x", aliases: [`/${"😀".repeat(ALIAS_MAX_LENGTH)}`] }), "api")),
      `api aliases: alias "/${"😀".repeat(59)}…" is longer than ${ALIAS_MAX_LENGTH} characters (${ALIAS_MAX_LENGTH + 1})`
    )
  })
  it(`a source of at most ${SOURCE_MAX_LENGTH} characters but over ${SOURCE_MAX_BYTES} UTF-8 bytes is refused (PostgreSQL's btree takes ~2,700)`, () => {
    const source = "😀".repeat(SOURCE_MAX_BYTES / 4 + 1)
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x" }), source)),
      `${source} source: "${"😀".repeat(60)}…" is longer than ${SOURCE_MAX_BYTES} bytes in UTF-8 (${SOURCE_MAX_BYTES + 4})`
    )
  })
  it(`a source longer than ${SOURCE_MAX_LENGTH} characters is refused`, () => {
    const source = "s".repeat(SOURCE_MAX_LENGTH + 1)
    assert.strictEqual(
      refusal(processInputSync(new PostInput({ title: "T", body: "x" }), source)),
      `${source} source: "${"s".repeat(60)}…" is longer than ${SOURCE_MAX_LENGTH} characters (${SOURCE_MAX_LENGTH + 1})`
    )
  })
})

describe("front matter as Jekyll, Hugo and Zola write it", () => {
  const yaml = (...lines: ReadonlyArray<string>) =>
    accepted(processPostSync({ source: "a.md", raw: ["---", "title: T", ...lines, "---", "Text"].join("\n") }))

  it("a YAML string of tags or categories without a comma is words, as Jekyll reads it (was: one tag)", () => {
    assert.deepStrictEqual(yaml("categories: rust async", "tags: \"web  Effect\"").tags, ["web", "Effect", "rust", "async"])
    // A comma still separates (a tag may hold spaces then), and a list's items are kept whole.
    assert.deepStrictEqual(yaml("tags: machine learning, rust").tags, ["machine learning", "rust"])
    assert.deepStrictEqual(yaml("tags: [machine learning]", "categories: [\"web dev\"]").tags, ["machine learning", "web dev"])
    // Hugo (TOML, JSON) takes a string as one term: only YAML, which Jekyll writes, splits words.
    const toml = accepted(processPostSync({ source: "a.md", raw: "+++\ntitle = \"T\"\ntags = \"machine learning\"\n+++\nText" }))
    assert.deepStrictEqual(toml.tags, ["machine learning"])
    const json = accepted(processPostSync({ source: "a.md", raw: "{\"title\": \"T\", \"categories\": \"web dev\"}\nText" }))
    assert.deepStrictEqual(json.tags, ["web dev"])
  })

  it("an author given as a table is its name, alone or in a list (was: refused)", () => {
    assert.deepStrictEqual(yaml("author: {name: Ada, email: ada@example.com}").authors, ["Ada"])
    assert.deepStrictEqual(yaml("authors:", "  - name: Ada", "    url: https://ada.example", "  - Grace").authors, ["Ada", "Grace"])
    const toml = accepted(processPostSync({ source: "a.md", raw: "+++\ntitle = \"T\"\n[[authors]]\nname = \"Ada\"\n+++\nText" }))
    assert.deepStrictEqual(toml.authors, ["Ada"])
    const bad = (line: string) => refusal(processPostSync({ source: "a.md", raw: `---\ntitle: T\n${line}\n---\nText` }))
    assert.strictEqual(bad("authors: [{email: ada@example.com}]"), `a.md:3 authors: front matter "authors": a table without a string "name" (it has none)`)
    assert.strictEqual(bad("author: {name: 42}"), `a.md:3 author: front matter "author": a table without a string "name" (its "name" is a number)`)
    // Tags are not people: a table there is still refused.
    assert.strictEqual(bad("tags: [{name: rust}]"), `a.md:3 tags: front matter "tags" must list strings, found a table`)
  })

  it("draft: yes, no, on, off, in any case, as Jekyll's YAML 1.1 reads them (was: refused as strings)", () => {
    for (const word of ["yes", "Yes", "ON", "on", "true", "True"]) assert.strictEqual(yaml(`draft: ${word}`).status, "draft", word)
    for (const word of ["no", "NO", "off", "Off", "false", "\"false\""]) assert.strictEqual(yaml(`draft: ${word}`).status, "published", word)
    const bad = refusal(processPostSync({ source: "a.md", raw: "---\ntitle: T\ndraft: y\n---\nText" }))
    assert.strictEqual(bad, `a.md:3 draft: front matter "draft" must be true or false (or yes, no, on, off), not "y"`)
  })

  it("a number title is its text as written; number tags are their text (was: refused)", () => {
    const post = accepted(processPostSync({ source: "a.md", raw: "---\ntitle: 1984\ntags: [2024, rust]\ncategories: 12345678901234567890\n---\nText" }))
    assert.strictEqual(post.title, "1984")
    assert.strictEqual(post.slug, "1984")
    assert.deepStrictEqual(post.tags, ["2024", "rust", "12345678901234567890"])
    const title = (raw: string) => accepted(processPostSync({ source: "a.md", raw })).title
    // As written, not as parsed (1.5): the key's line shows it.
    assert.strictEqual(title("---\ntitle: 1.50 # the price\n---\nText"), "1.50")
    assert.strictEqual(title("---\ntitle: 1e3\n---\nText"), "1e3")
    assert.strictEqual(title("+++\ntitle = 1.50\n+++\nText"), "1.50")
    assert.strictEqual(title("{\"title\": 2.10, \"x\": 1}\nText"), "2.10")
    // Not on the key's line: the parsed number's text.
    assert.strictEqual(title("---\ntitle:\n  2.50\n---\nText"), "2.5")
    // A boolean is still no title.
    assert.strictEqual(
      refusal(processPostSync({ source: "a.md", raw: "---\ntitle: true\n---\nText" })),
      `a.md:2 title: front matter "title" must be a string, not a boolean`
    )
  })

  it("a post's tags are one per tag key (case), in the first spelling given (was: [Rust, rust] kept both)", () => {
    assert.deepStrictEqual(yaml("tags: [Rust, rust, Effect]", "categories: RUST effect web").tags, ["Rust", "Effect", "web"])
    const fromApi = accepted(processInputSync(new PostInput({ title: "T", body: "x", tags: ["Ärger", "ärger", "ÄRGER", "b"] }), "api"))
    assert.deepStrictEqual(fromApi.tags, ["Ärger", "b"])
  })
})

describe("PostProcessor.fromLines (in-process)", () => {
  /** A clock that reads `millis` in turn: the times around each line's processing. */
  const readsInTurn = (millis: Array<number>): Clock.Clock => {
    const next = () => BigInt(millis.shift() ?? Number.NaN) * 1_000_000n
    return {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => Number(next() / 1_000_000n),
      currentTimeMillis: Effect.sync(() => Number(next() / 1_000_000n)),
      unsafeCurrentTimeNanos: next,
      currentTimeNanos: Effect.sync(next),
      sleep: () => Effect.never
    }
  }
  const line = (n: number) => {
    const text = JSON.stringify({ title: `Post ${n}`, body: `Body ${n}.` })
    return { identity: `in.ndjson:${n}`, number: n, text, bytes: text.length + 1 }
  }

  it.effect("a line that took longer than the deadline fails alone, once done (was: the deadline was ignored)", () =>
    Effect.gen(function*() {
      const processor = yield* PostProcessor
      // Line 2 held the thread for 6 seconds; lines 1 and 3 for 10 ms each.
      const outcomes = yield* processor.fromLines!("in.ndjson", [line(1), line(2), line(3)], Option.some(Duration.seconds(5))).pipe(
        Effect.withClock(readsInTurn([0, 10, 6010, 6020]))
      )
      assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Ready", "Rejected", "Ready"])
      const timedOut = outcomes[1]!
      assert.isTrue(timedOut._tag === "Rejected" && timedOut.identity === "in.ndjson:2" && timedOut.reason === "timed out after 5s" && !timedOut.skipped)
      // Without a deadline, nothing is timed.
      const untimed = yield* processor.fromLines!("in.ndjson", [line(1), line(2)], Option.none()).pipe(Effect.withClock(readsInTurn([])))
      assert.deepStrictEqual(untimed.map((o) => o._tag), ["Ready", "Ready"])
    }).pipe(Effect.provide(TestProcessor)))
})
