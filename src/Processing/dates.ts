/**
 * Date parsing for front matter and file paths. Pure: no clock, no time zone of the host.
 * A date without an offset is taken as UTC so that the same file gives the same instant everywhere.
 */
import { DateTime, Duration, Either } from "effect"

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(?:([Zz]|UTC)|([+-])(\d{2}):?(\d{2}))?)?$/

/**
 * `parseDateString`'s syntax as a JSON Schema `pattern` (spaces around included, as it trims them),
 * for documents that declare a date it reads; the calendar and the offset's range are checked beyond it.
 */
export const DATE_PATTERN = `^\\s*(?:${RFC3339.source.slice(1, -1)})\\s*$`

const utc = (ms: number): DateTime.Utc => DateTime.unsafeMake(ms)

/** Calendar-checks the parts: `Date.UTC` silently rolls 2024-02-31 into March, which we refuse. */
const fromParts = (
  y: number,
  mo: number,
  d: number,
  h = 0,
  mi = 0,
  s = 0,
  ms = 0
): number | undefined => {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined
  // Not `Date.UTC(y, ...)`: it reads years 0-99 as 1900-1999 ("0050-01-01" was 1950).
  const check = new Date(0)
  check.setUTCFullYear(y, mo - 1, d)
  check.setUTCHours(h, mi, Math.min(s, 59), ms)
  const t = check.getTime()
  return check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d ? t : undefined
}

/** The first and last instants a date may be: years 0000-9999 in UTC, as ISO 8601 writes them plainly. */
const FIRST_INSTANT = -62_167_219_200_000 // 0000-01-01T00:00:00.000Z
const LAST_INSTANT = 253_402_300_799_999 // 9999-12-31T23:59:59.999Z

/**
 * Why the instant `ms` is no date to keep, or undefined when it is one: outside years 0000-9999
 * in UTC. The year written is checked before its offset is applied, and the offset may move it
 * out ("0000-01-01T00:30:00+01:00" is in year -1), where feeds wrote `-000001-12-31T23:30:00Z`
 * and `+010000-...`, and HTTP dates a year 10000, which no reader or client takes.
 */
export const outOfRange = (ms: number): string | undefined =>
  ms < FIRST_INSTANT
    ? "is before 0000-01-01T00:00:00Z in UTC (dates are kept within years 0000-9999)"
    : ms > LAST_INSTANT
    ? "is after 9999-12-31T23:59:59.999Z in UTC (dates are kept within years 0000-9999)"
    : undefined

/** `utc(ms)`, or why not when out of range, naming `what` (the input as written). */
const inRange = (ms: number, what: string): Either.Either<DateTime.Utc, string> => {
  const problem = outOfRange(ms)
  return problem === undefined ? Either.right(utc(ms)) : Either.left(`${what} ${problem}`)
}

/** Whether `year`-`month`-`day` is a day of the calendar (2024-02-30 is not). */
export const isCalendarDate = (year: number, month: number, day: number): boolean => fromParts(year, month, day) !== undefined

/** Parses an RFC 3339 date-time (`Z`, `+hh:mm` or `+hhmm` offset, or none = UTC) or a bare `YYYY-MM-DD`. */
export const parseDateString = (input: string): Either.Either<DateTime.Utc, string> => {
  const m = RFC3339.exec(input.trim())
  if (m === null) {
    return Either.left(`"${input}" is not a date (expected YYYY-MM-DD or RFC 3339 like 2024-05-01T10:00:00+02:00)`)
  }
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m
  // Truncated, not rounded: .9995 rounded to 1000 ms, which rolled 23:59:59 over into a rejection.
  const ms = frac === undefined ? 0 : Number(frac.slice(1, 4).padEnd(3, "0"))
  const t = fromParts(Number(y), Number(mo), Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), ms)
  if (t === undefined) return Either.left(`"${input}" is not a valid calendar date or time`)
  if (sign === undefined) return Either.right(utc(t))
  const offsetH = Number(oh)
  const offsetM = Number(om)
  if (offsetH > 23 || offsetM > 59) return Either.left(`"${input}" has an invalid UTC offset`)
  const offsetMs = (offsetH * 60 + offsetM) * 60_000 * (sign === "-" ? -1 : 1)
  return inRange(t - offsetMs, `"${input}"`)
}

/**
 * Any date value a front matter parser can hand us: strings, JS `Date`s (YAML timestamps), and
 * smol-toml's `TomlDate` (a `Date` subclass; local dates and date-times read as UTC).
 */
export const parseDateValue = (value: unknown): Either.Either<DateTime.Utc, string> => {
  if (typeof value === "string") return parseDateString(value)
  if (value instanceof Date) {
    const isTimeOnly = (value as { isTime?: () => boolean }).isTime
    if (typeof isTimeOnly === "function" && isTimeOnly.call(value)) {
      return Either.left("a time of day without a date is not a date")
    }
    const t = value.getTime()
    // A TOML offset date-time or YAML timestamp moves out of range as a string does.
    return Number.isNaN(t) ? Either.left("invalid date") : inRange(t, JSON.stringify(value.toISOString()))
  }
  if (DateTime.isDateTime(value)) return inRange(DateTime.toEpochMillis(value), JSON.stringify(DateTime.formatIso(value)))
  return Either.left(`expected a date string, got ${value === null ? "null" : typeof value === "bigint" ? "number" : typeof value}`)
}

const FILE_PREFIX = /^(\d{4})-(\d{2})-(\d{2})-/
const PATH_DATE = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})(?:\/|$)/

/**
 * A date encoded in a path: a `YYYY-MM-DD-` file-name prefix (Jekyll) or `YYYY/MM/DD/`
 * directories (Zola `path`, permalink-style trees). Impossible dates are ignored, not errors:
 * a path is not a claim the author made about the date.
 */
export const dateFromPath = (path: string): DateTime.Utc | undefined => {
  const normalized = path.replace(/\\/g, "/")
  const base = normalized.slice(normalized.lastIndexOf("/") + 1)
  const m = FILE_PREFIX.exec(base) ?? PATH_DATE.exec(normalized)
  if (m === null) return undefined
  const t = fromParts(Number(m[1]), Number(m[2]), Number(m[3]))
  return t === undefined ? undefined : utc(t)
}

/**
 * How far past the time of its write a post's `updated` date may be. A day, not the minutes two
 * machines' clocks differ by: a date written as a day (`updated: 2025-06-01`, kept as that day's
 * midnight UTC) or a time written without an offset (read as UTC) is ahead of the instant it was
 * written at by up to 14 hours east of UTC (UTC+14), so an hour refused "today" all morning in
 * Tokyo. Past a day it is a date that has not come anywhere (a typo: 2031 for 2021), which put
 * that date in the post's page, every feed's date, the sitemap and Last-Modified, and held a
 * feed's date there.
 */
export const UPDATED_LEEWAY = Duration.days(1)

/** The latest `updated` a post published at `published` may carry when written at `now` (`futureUpdate`). */
export const latestUpdate = (published: DateTime.Utc | null, now: DateTime.Utc): DateTime.Utc => {
  const latest = DateTime.addDuration(now, UPDATED_LEEWAY)
  return published === null ? latest : DateTime.max(latest, published)
}

/**
 * The `updated` date of a post stored at `storedAt` as a later write takes it: as stored, unless
 * later than any write takes (a row stored before such dates were refused: a typo, 2031 for
 * 2021); then as late as a write at `storedAt` allowed. Any later write takes that too, so an
 * export of the post (`exportRecord`) and another Inkwell's import of it (`InkwellApi`) keep it,
 * where as stored it failed every such import (a blog moved elsewhere lost it).
 */
export const takenUpdate = (updated: DateTime.Utc, published: DateTime.Utc | null, storedAt: DateTime.Utc): DateTime.Utc =>
  DateTime.min(updated, latestUpdate(published, storedAt))

/**
 * Why `updated` is no date for a post written at `now`, or undefined when it is one: later than
 * `now` by more than UPDATED_LEEWAY, an update dated after it was written. A post published later
 * than that (scheduled) may be updated up to its publication: an author dating a post to come
 * often gives `updated` the same date, and neither is shown to readers before then. Pure: the
 * writers read the clock (`Posts`, `ImportPipeline`), so every processor (a render thread, an
 * embedding app's) is held to it alike.
 */
export const futureUpdate = (
  updated: DateTime.Utc | null,
  published: DateTime.Utc | null,
  now: DateTime.Utc
): string | undefined => {
  if (updated === null || DateTime.lessThanOrEqualTo(updated, latestUpdate(published, now))) return undefined
  const scheduled = published !== null && DateTime.toEpochMillis(published) > DateTime.toEpochMillis(now)
  return `${DateTime.formatIso(updated)} is in the future: after the time of this write, ${DateTime.formatIso(now)} ` +
    `(by more than the ${Duration.format(UPDATED_LEEWAY)} allowed for time zones and clocks)` +
    (scheduled ? `, and after the post's publication, ${DateTime.formatIso(published)}` : "") +
    "; an update is dated when it is made (a mistyped year?)"
}
