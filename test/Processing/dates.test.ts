import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { parse as parseToml } from "smol-toml"
import { dateFromPath, futureUpdate, parseDateString, parseDateValue } from "../../src/Processing/dates.js"

const iso = (e: Either.Either<DateTime.Utc, string>): string => {
  if (Either.isLeft(e)) assert.fail(e.left)
  return DateTime.formatIso(e.right)
}

describe("parseDateString", () => {
  it("reads offsets written as +hh:mm, +hhmm, -hh:mm and Z", () => {
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00+02:00")), "2024-05-01T08:00:00.000Z")
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00+0200")), "2024-05-01T08:00:00.000Z")
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00-05:30")), "2024-05-01T15:30:00.000Z")
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00Z")), "2024-05-01T10:00:00.000Z")
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00.250Z")), "2024-05-01T10:00:00.250Z")
  })

  it("reads bare dates and offset-less date-times as UTC", () => {
    assert.strictEqual(iso(parseDateString("2024-05-01")), "2024-05-01T00:00:00.000Z")
    assert.strictEqual(iso(parseDateString("2024-05-01 10:30")), "2024-05-01T10:30:00.000Z")
  })

  it("refuses impossible and malformed dates", () => {
    assert.isTrue(Either.isLeft(parseDateString("2024-02-30")))
    assert.isTrue(Either.isLeft(parseDateString("2024-13-01")))
    assert.isTrue(Either.isLeft(parseDateString("2024-05-01T25:00:00Z")))
    assert.isTrue(Either.isLeft(parseDateString("yesterday")))
    assert.isTrue(Either.isLeft(parseDateString("01/05/2024")))
  })
})

describe("parseDateString at the edges", () => {
  it("truncates a fraction to milliseconds (was: .9995 and up rounded to 1000 ms and rejected)", () => {
    assert.strictEqual(iso(parseDateString("2024-12-31T23:59:59.9999Z")), "2024-12-31T23:59:59.999Z")
    assert.strictEqual(iso(parseDateString("2024-12-31T23:59:59.9995+01:00")), "2024-12-31T22:59:59.999Z")
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00.5705Z")), "2024-05-01T10:00:00.570Z")
    assert.strictEqual(iso(parseDateString("2024-05-01T10:00:00.1Z")), "2024-05-01T10:00:00.100Z")
  })

  it("reads years 0000-0099 as written (was: Date.UTC's 1900s)", () => {
    assert.strictEqual(iso(parseDateString("0050-01-01")), "0050-01-01T00:00:00.000Z")
    assert.strictEqual(iso(parseDateString("0099-12-31T23:00:00Z")), "0099-12-31T23:00:00.000Z")
    assert.strictEqual(iso(parseDateString("0000-03-01")), "0000-03-01T00:00:00.000Z")
    assert.isTrue(Either.isLeft(parseDateString("0050-02-29")))
    assert.strictEqual(DateTime.toDateUtc(dateFromPath("0050/01/02/x.md")!).getUTCFullYear(), 50)
  })
})

describe("dates outside years 0000-9999 once the offset is applied", () => {
  it("are refused, saying which way and why; the instants at either end are kept", () => {
    assert.deepStrictEqual(
      parseDateString("0000-01-01T00:30:00+01:00"),
      Either.left(`"0000-01-01T00:30:00+01:00" is before 0000-01-01T00:00:00Z in UTC (dates are kept within years 0000-9999)`)
    )
    assert.deepStrictEqual(
      parseDateString("9999-12-31T23:00:00-05:00"),
      Either.left(`"9999-12-31T23:00:00-05:00" is after 9999-12-31T23:59:59.999Z in UTC (dates are kept within years 0000-9999)`)
    )
    assert.strictEqual(iso(parseDateString("0000-01-01T00:30:00+00:30")), "0000-01-01T00:00:00.000Z")
    assert.strictEqual(iso(parseDateString("9999-12-31T18:59:59.999-05:00")), "9999-12-31T23:59:59.999Z")
    assert.strictEqual(iso(parseDateString("0000-01-01T00:00:00-01:00")), "0000-01-01T01:00:00.000Z")
  })

  it("are refused as TOML offset date-times, JS Dates and DateTimes too", () => {
    const t = parseToml("a = 0000-01-01T00:30:00+01:00\nb = 9999-12-31T23:00:00-05:00")
    assert.match(Either.flip(parseDateValue(t["a"])).pipe(Either.getOrThrow), /is before 0000-01-01T00:00:00Z in UTC/)
    assert.match(Either.flip(parseDateValue(t["b"])).pipe(Either.getOrThrow), /is after 9999-12-31T23:59:59.999Z in UTC/)
    assert.match(Either.flip(parseDateValue(new Date(Date.UTC(10000, 0, 1)))).pipe(Either.getOrThrow), /is after 9999/)
    assert.match(Either.flip(parseDateValue(DateTime.unsafeMake(-62_167_219_200_001))).pipe(Either.getOrThrow), /is before 0000/)
  })
})

describe("parseDateValue", () => {
  it("reads TOML offset date-times, local date-times and local dates", () => {
    const t = parseToml("a = 2024-05-01T10:00:00+02:00\nb = 2024-05-01T10:00:00\nc = 2024-05-01\nd = 10:00:00")
    assert.strictEqual(iso(parseDateValue(t["a"])), "2024-05-01T08:00:00.000Z")
    assert.strictEqual(iso(parseDateValue(t["b"])), "2024-05-01T10:00:00.000Z")
    assert.strictEqual(iso(parseDateValue(t["c"])), "2024-05-01T00:00:00.000Z")
    assert.isTrue(Either.isLeft(parseDateValue(t["d"])), "a time alone is not a date")
  })

  it("reads JS Dates (YAML timestamps) and refuses other types", () => {
    assert.strictEqual(iso(parseDateValue(new Date("2024-05-01T00:00:00Z"))), "2024-05-01T00:00:00.000Z")
    assert.isTrue(Either.isLeft(parseDateValue(new Date("nope"))))
    assert.isTrue(Either.isLeft(parseDateValue(20240501)))
    assert.isTrue(Either.isLeft(parseDateValue(true)))
  })
})

describe("dateFromPath", () => {
  const at = (p: string) => {
    const d = dateFromPath(p)
    return d === undefined ? undefined : DateTime.formatIsoDate(d)
  }
  it("reads a YYYY-MM-DD- file name prefix", () => {
    assert.strictEqual(at("_posts/2023-11-05-hello-world.md"), "2023-11-05")
  })
  it("reads YYYY/MM/DD/ directories", () => {
    assert.strictEqual(at("blog/2021/08/03/GATs/index.md"), "2021-08-03")
    assert.strictEqual(at("inside-rust/2020/01/23/cargo-audit"), "2020-01-23")
  })
  it("ignores paths without a date, and impossible dates", () => {
    assert.isUndefined(at("posts/hello.md"))
    assert.isUndefined(at("2023-02-31-nope.md"))
    assert.isUndefined(at("v1/2023/1/5/x.md"))
  })
})

describe("futureUpdate", () => {
  const now = DateTime.unsafeMake("2025-06-01T12:00:00Z")
  const utc = (iso: string) => DateTime.unsafeMake(iso)

  it("takes an update up to a day after the time of the write (today east of UTC, clocks that differ), and none given", () => {
    assert.isUndefined(futureUpdate(null, null, now))
    assert.isUndefined(futureUpdate(utc("2021-05-05T00:00:00Z"), utc("2021-05-01T00:00:00Z"), now))
    // "updated: 2025-06-02" written in Tokyo at 21:00 UTC, 06:00 there.
    assert.isUndefined(futureUpdate(utc("2025-06-02T00:00:00Z"), null, utc("2025-06-01T21:00:00Z")))
    assert.isUndefined(futureUpdate(utc("2025-06-02T12:00:00Z"), null, now))
  })

  it("refuses a later one, naming the date and the time of the write", () => {
    const reason = futureUpdate(utc("2031-05-05T00:00:00Z"), utc("2021-05-01T00:00:00Z"), now)
    assert.strictEqual(
      reason,
      "2031-05-05T00:00:00.000Z is in the future: after the time of this write, 2025-06-01T12:00:00.000Z " +
        "(by more than the 1d allowed for time zones and clocks); an update is dated when it is made (a mistyped year?)"
    )
    assert.isString(futureUpdate(utc("2025-06-02T12:00:00.001Z"), null, now))
  })

  it("a scheduled post may be updated up to its publication, not after", () => {
    const published = utc("2025-07-01T00:00:00Z")
    assert.isUndefined(futureUpdate(published, published, now))
    assert.include(futureUpdate(utc("2025-07-02T00:00:00Z"), published, now)!, "and after the post's publication, 2025-07-01T00:00:00.000Z")
  })
})
