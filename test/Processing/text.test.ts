import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { Slug } from "../../src/Domain/Post.js"
import {
  contentHash,
  countWords,
  normalizeForHash,
  readingTimeMinutes,
  slugify,
  truncateText
} from "../../src/Processing/text.js"

const isSlug = (s: string) => Either.isRight(Schema.decodeUnknownEither(Slug)(s))

describe("slugify", () => {
  it("lowercases and dashes ASCII titles", () => {
    assert.strictEqual(slugify("Announcing Rust 1.88.0!"), "announcing-rust-1-88-0")
    assert.strictEqual(slugify("  --Hello,   World--  "), "hello-world")
  })

  it("strips Latin diacritics but keeps ß", () => {
    assert.strictEqual(slugify("Ünïcödé Straße"), "unicode-straße")
    assert.strictEqual(slugify("Crème Brûlée à la Française"), "creme-brulee-a-la-francaise")
  })

  it("keeps letters of other scripts, with their combining marks", () => {
    assert.strictEqual(slugify("你好，世界"), "你好-世界")
    assert.strictEqual(slugify("Привет Мир"), "привет-мир")
    assert.strictEqual(slugify("한국어 제목"), "한국어-제목", "Hangul is recomposed after NFKD")
    assert.strictEqual(slugify("हिन्दी लेख"), "हिन्दी-लेख", "Devanagari vowel signs stay")
    assert.strictEqual(slugify("ｆｕｌｌｗｉｄｔｈ"), "fullwidth")
  })

  it("keeps letters whose compatibility form is a capital (was: dropped, \"ℝust\" gave \"ust\")", () => {
    assert.strictEqual(slugify("ℝust ℍandbook"), "rust-handbook")
    assert.strictEqual(slugify("𝐁𝐨𝐥𝐝 𝐓𝐞𝐱𝐭"), "bold-text")
    assert.strictEqual(slugify("ℌilbert Ⅻ Ⓐ"), "hilbert-xii-a")
    assert.strictEqual(slugify("ϒpsilon"), "υpsilon")
    assert.strictEqual(slugify("ℍ"), "h", "a title of such letters alone has a slug")
  })

  it("always produces a valid Slug, stable across calls", () => {
    for (const title of ["Ünïcödé Straße", "你好，世界", "a".repeat(500), "word ".repeat(100), "İstanbul", "x😀y", "Ǆemal", "ℝust 𝐁𝐨𝐥𝐝 ϒ ϓ"]) {
      const s = slugify(title)
      assert.isTrue(isSlug(s), `${JSON.stringify(s)} from ${title}`)
      assert.strictEqual(slugify(title), s)
    }
  })

  it("cuts long slugs at a dash, at most 200 characters", () => {
    const s = slugify("word ".repeat(100))
    assert.isAtMost(s.length, 200)
    assert.isTrue(s.endsWith("word"))
  })

  it("returns an empty string when nothing is left", () => {
    assert.strictEqual(slugify("!!! — ???"), "")
  })
})

describe("countWords", () => {
  it("counts whitespace-separated words with letters or digits", () => {
    assert.strictEqual(countWords("Hello, world — this is 1 test."), 6)
    assert.strictEqual(countWords(""), 0)
  })

  it("counts each CJK character as a word", () => {
    assert.strictEqual(countWords("你好世界"), 4)
    assert.strictEqual(countWords("こんにちはカタカナ"), 9)
    assert.strictEqual(countWords("Rust 语言 is great"), 5)
  })

  it("counts Korean by spaces, as Korean is written (was: every Hangul syllable a word)", () => {
    assert.strictEqual(countWords("한국어는 띄어쓰기를 합니다"), 3)
    assert.strictEqual(countWords("한국어"), 1)
    assert.strictEqual(countWords("Rust는 안전한 언어입니다."), 3)
    // Hanja inside Korean text still count one a character.
    assert.strictEqual(countWords("大韓民國 헌법"), 5)
    // Jamo (U+1100) and compatibility jamo (U+3131) are Hangul too.
    assert.strictEqual(countWords("\u1100\u1161 \u3131\u314f"), 2)
  })

  /** What ICU's dictionaries make of `text` read whole: the count the windows must come to. */
  const segmenterWords = (text: string): number =>
    Array.from(new Intl.Segmenter("th", { granularity: "word" }).segment(text)).filter((s) => s.isWordLike).length

  it("splits Thai, Lao, Khmer and Myanmar into words, written without spaces between them (was: one word a phrase)", () => {
    assert.strictEqual(countWords("ภาษาไทย"), 2)
    const thai = "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์ ผู้คนในประเทศไทยใช้ภาษานี้ในชีวิตประจำวัน"
    assert.strictEqual(countWords(thai), segmenterWords(thai))
    assert.isAtLeast(countWords(thai), 12, "two phrases of a dozen words or more")
    for (const text of ["ພາສາລາວເປັນພາສາທີ່ສວຍງາມ", "ភាសាខ្មែរជាភាសាផ្លូវការនៃប្រទេសកម្ពុជា", "မြန်မာဘာသာစကားသည်ရုံးသုံးဘာသာစကားဖြစ်သည်"]) {
      assert.isAtLeast(countWords(text), 4, text)
      assert.strictEqual(countWords(text), segmenterWords(text), text)
    }
    // Thai punctuation and the currency sign are no words; other text beside them counts as before.
    assert.strictEqual(countWords("ราคา ๑๐๐ ฿ ๆ"), segmenterWords("ราคา ๑๐๐ ฿ ๆ"))
    assert.strictEqual(countWords("Rust เป็นภาษาโปรแกรม, 2024"), 2 + segmenterWords("เป็นภาษาโปรแกรม"))
    assert.strictEqual(countWords("Rustภาษา"), 1 + segmenterWords("ภาษา"))
  })

  it("counts a long run of those scripts in windows, as many words as reading it whole", () => {
    const phrases = ["ภาษาไทยเป็นภาษาที่มีวรรณยุกต์", "ผู้คนในประเทศไทยใช้ภาษานี้ในชีวิตประจำวัน", "การเขียนโปรแกรมด้วยภาษารัสต์ช่วยให้ซอฟต์แวร์ปลอดภัย"]
    // 10,000 characters and more without a space (Thai, Khmer), and Thai with a space between phrases.
    const run = Array.from({ length: 300 }, (_, i) => phrases[(i * 7) % 3]).join("")
    const spaced = Array.from({ length: 300 }, (_, i) => phrases[(i * 7) % 3]).join(" ")
    const khmer = "ភាសាខ្មែរជាភាសាផ្លូវការនៃប្រទេសកម្ពុជា".repeat(300)
    const lao = "ພາສາລາວເປັນພາສາທີ່ສວຍງາມແລະເປັນພາສາລາດຊະການຂອງປະເທດລາວ".repeat(300)
    for (const text of [run, spaced, khmer, lao]) {
      const whole = segmenterWords(text)
      assert.isAbove(whole, 1500)
      assert.strictEqual(countWords(text), whole)
    }
  })

  it("counts a run of a few hundred thousand characters in linear time (was: the segmenter's, growing with its square)", () => {
    const run = "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์ผู้คนในประเทศไทยใช้ภาษานี้ในชีวิตประจำวัน".repeat(4000)
    const began = performance.now()
    const words = countWords(run)
    const took = performance.now() - began
    // About 70 ms here, read in windows; read whole, about 4 s (and a 5 MiB post, minutes).
    assert.isBelow(took, 2000, `${run.length} characters took ${took.toFixed(0)} ms`)
    assert.strictEqual(words, 17 * 4000)
  })
})

describe("readingTimeMinutes", () => {
  it("rounds up and is at least one minute", () => {
    assert.strictEqual(readingTimeMinutes(0, 230), 1)
    assert.strictEqual(readingTimeMinutes(230, 230), 1)
    assert.strictEqual(readingTimeMinutes(231, 230), 2)
  })
})

describe("truncateText", () => {
  it("returns short text unchanged, whitespace collapsed", () => {
    assert.strictEqual(truncateText("a  short\n text", 280), "a short text")
  })

  it("cuts on a word boundary with an ellipsis, within the limit", () => {
    const out = truncateText("The quick brown fox jumps over the lazy dog", 20)
    assert.strictEqual(out, "The quick brown fox…")
    assert.isAtMost(Array.from(out).length, 20)
    assert.strictEqual(truncateText("alpha beta, gamma delta", 13), "alpha beta…")
  })

  it("cuts text without spaces at the character limit", () => {
    const out = truncateText("你".repeat(50), 10)
    assert.strictEqual(out, "你".repeat(9) + "…")
  })

  it("never splits a surrogate pair", () => {
    const out = truncateText("😀".repeat(30), 10)
    assert.strictEqual(out, "😀".repeat(9) + "…")
  })

  it("never splits a grapheme cluster: family emoji, flags, combining marks (was: cut at a code point)", () => {
    const family = "👨\u200D👩\u200D👧"
    assert.strictEqual(truncateText(family.repeat(10), 12), family.repeat(2) + "…")
    assert.strictEqual(truncateText("🇩🇪".repeat(10), 10), "🇩🇪".repeat(4) + "…")
    assert.strictEqual(truncateText("e\u0301".repeat(20), 10), "e\u0301".repeat(4) + "…")
    // Korean in decomposed jamo: a syllable is one cluster of three code points.
    assert.strictEqual(truncateText("\u1112\u1161\u11AB".repeat(10), 8), "\u1112\u1161\u11AB".repeat(2) + "…")
    // A flag right after the last space past the half: cut at the space, as before.
    assert.strictEqual(truncateText("word word 🇩🇪🇫🇷", 12), "word word…")
    // One cluster longer than the limit is cut all the same, within the limit.
    const long = truncateText("a" + "\u0301".repeat(50), 10)
    assert.strictEqual(Array.from(long).length, 10)
  })
})

describe("contentHash", () => {
  it("is a sha256 hex digest, stable across calls", () => {
    const h = contentHash("+++\ntitle = \"x\"\n+++\nbody\n")
    assert.match(h, /^[0-9a-f]{64}$/)
    assert.strictEqual(contentHash("+++\ntitle = \"x\"\n+++\nbody\n"), h)
  })

  it("ignores line endings, trailing whitespace that renders nothing, a BOM and Unicode normalization form", () => {
    const base = contentHash("title: Café\nline one\nline two")
    assert.strictEqual(contentHash("\uFEFFtitle: Café\r\nline one \t\r\nline two  \r\n\r\n"), base)
    assert.strictEqual(contentHash("title: Cafe\u0301\nline one\nline two"), base)
    assert.strictEqual(normalizeForHash("a \t\r\nb\n\n"), "a\nb")
    // Two spaces before a blank line, at the end, or on a line of spaces only: no line break.
    assert.strictEqual(contentHash("a  \n\nb  \n   \nc  "), contentHash("a\n\nb\n\nc"))
  })

  it("sees a hard line break's trailing spaces (they render <br>), however many", () => {
    const hard = contentHash("line one  \nline two")
    assert.notStrictEqual(hard, contentHash("line one\nline two"))
    assert.notStrictEqual(hard, contentHash("line one \nline two"))
    assert.strictEqual(contentHash("line one    \r\nline two"), hard)
    assert.strictEqual(contentHash("line one\t  \nline two"), hard)
    // A tab last is no break, as markdown-it reads it.
    assert.strictEqual(contentHash("line one  \t\nline two"), contentHash("line one\nline two"))
    assert.notStrictEqual(contentHash("- item  \n  more"), contentHash("- item\n  more"))
  })

  it("keeps trailing whitespace after code in a fenced block; empties lines of whitespace only there", () => {
    for (const [open, close] of [["```rust", "```"], ["~~~~", "~~~~"], ["- ```", "  ```"], ["> ```", "> ```"]]) {
      const code = (line: string, blank = "") => `Intro\n\n${open}\n${line}\n${blank}\nfn main() {}\n${close}\nAfter  \n`
      assert.notStrictEqual(contentHash(code("let x = 1; ")), contentHash(code("let x = 1;")), open)
      assert.notStrictEqual(contentHash(code("let x = 1;   ")), contentHash(code("let x = 1;  ")), open)
      assert.strictEqual(contentHash(code("let x = 1;", "    ")), contentHash(code("let x = 1;")), open)
    }
    // After the closing fence, text again: one trailing space is trimmed.
    assert.strictEqual(contentHash("```\nx\n```\ntext \nmore"), contentHash("```\nx\n```\ntext\nmore"))
    // ```` ```x``` ```` is inline code, no fence: the next line is text.
    assert.strictEqual(contentHash("```x```\ntext \nmore"), contentHash("```x```\ntext\nmore"))
  })

  it("trims front matter lines whole: two spaces there are no line break", () => {
    for (const [open, close] of [["---", "---"], ["+++", "+++"], ["{", "}"]]) {
      const fm = (pad: string) =>
        open === "{" ? `{\n"title": "a",${pad}\n"date": "b"${pad}\n}${pad}\nbody` : `${open}\ntitle: a${pad}\ndate: b${pad}\n${close}${pad}\nbody`
      assert.strictEqual(contentHash(fm("  ")), contentHash(fm("")), open)
    }
  })

  it("changes when the content changes", () => {
    assert.notStrictEqual(contentHash("line one"), contentHash("line  one"))
    assert.notStrictEqual(contentHash("a\nb"), contentHash("a\n\nb"))
  })
})
