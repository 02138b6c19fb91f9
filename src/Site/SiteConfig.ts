/**
 * What the reader site says about itself: title, description, public base URL, language and
 * time zone, page size and caching. Read from the environment inside `SiteConfig.layerConfig`,
 * so an embedding app can supply its own ConfigProvider or a fixed `SiteConfig.layer(...)`.
 */
import { Config, Context, Data, DateTime, Effect, Either, Layer, Option } from "effect"
import { integer } from "../Config.js"

export interface SiteConfigShape {
  readonly title: string
  readonly description: string
  /** Absolute, without a trailing slash, e.g. `https://blog.example.com` or `https://example.com/blog`. */
  readonly url: string
  /** BCP 47 language of the pages and feeds (`<html lang>`, RSS `<language>`). */
  readonly language: string
  /**
   * IANA time zone (`Europe/Berlin`) the pages' dates are shown in: the day a post was
   * published where its author and readers are. Machine-readable times (`<time datetime>`,
   * feeds, sitemap, HTTP headers) stay exact instants whatever it is.
   */
  readonly timeZone: string
  /** Named in the Atom feed and as the default author; the site title when unset. */
  readonly author: string
  /** Posts per index and tag page. */
  readonly pageSize: number
  /**
   * `Cache-Control: max-age` of pages and feeds, in seconds; less for an answer that lists posts
   * when a scheduled post goes public sooner (Routes.ts, `maxAgeUntil`).
   */
  readonly maxAgeSeconds: number
  /**
   * URLs per sitemap file (1 to 50,000; default 10,000, `Sitemaps.DEFAULT_FILE_SIZE`), fewer when
   * the longest URLs the site may have would pass 50 MB (`Sitemaps.fileSize`). A blog with more
   * URLs than that has a sitemap index at /sitemap.xml. Not read from the environment.
   */
  readonly sitemapSize?: number
}

/** A base URL normalized: http(s) only, no query or fragment, no trailing slash. */
export const normalizeBaseUrl = (value: string): Option.Option<string> => {
  if (!URL.canParse(value)) return Option.none()
  const url = new URL(value)
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    return Option.none()
  }
  return Option.some(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}

/** `SITE_TITLE` (default "Inkwell"). */
export const siteTitle = Config.nonEmptyString("SITE_TITLE").pipe(Config.withDefault("Inkwell"))

/** `SITE_DESCRIPTION` (default "A blog powered by Inkwell"). */
export const siteDescription = Config.string("SITE_DESCRIPTION").pipe(Config.withDefault("A blog powered by Inkwell"))

/** Whether `SITE_URL` was given at all (its default is right only for a server on localhost:3000). */
export const siteUrlGiven = Config.map(Config.option(Config.string("SITE_URL")), Option.isSome)

/**
 * Whether `Intl` takes `tag`: the pattern alone let "en-x" or "en-US-u" through, and every page
 * then failed to render (500) on formatting its dates, while the server had started fine.
 */
const isLanguageTag = (tag: string): boolean => {
  if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) return false
  try {
    return Intl.getCanonicalLocales(tag).length === 1
  } catch {
    return false
  }
}

/**
 * Whether `Intl` formats dates in `zone`: checked at start, as SITE_LANGUAGE is, since an
 * unknown zone would otherwise fail every page with dates (a RangeError, 500) once serving.
 */
const isTimeZone = (zone: string): boolean => Option.isSome(DateTime.zoneMakeNamed(zone))

/**
 * What a valid setting is, for SITE_* and `SiteConfig.layer` alike: settings given in code
 * skipped these, so a language `Intl` refuses answered 500 on every page, and a page size over
 * the repository's cap of 100 left the posts past it unreachable (the next page began after it).
 */
/** Posts per index page: the repository lists at most 100 at once. */
const PAGE_SIZE = { min: 1, max: 100 } as const

export const siteConfigRules = {
  url: {
    message: "must be an absolute http(s) URL without query or fragment, e.g. https://blog.example.com",
    validation: (value: string) => Option.isSome(normalizeBaseUrl(value))
  },
  language: { message: "must be a language tag such as en or pt-BR", validation: isLanguageTag },
  timeZone: { message: "must be an IANA time zone such as Europe/Berlin or UTC", validation: isTimeZone },
  pageSize: {
    message: `must be an integer between ${PAGE_SIZE.min} and ${PAGE_SIZE.max}`,
    validation: (n: number) => Number.isInteger(n) && n >= PAGE_SIZE.min && n <= PAGE_SIZE.max
  },
  maxAgeSeconds: { message: "must be a non-negative integer", validation: (n: number) => Number.isInteger(n) && n >= 0 },
  // Given in code only (no SITE_* variable); unset is the default.
  sitemapSize: {
    message: "must be an integer from 1 to 50000",
    validation: (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 1 && n <= 50_000)
  }
} as const

/** `SITE_URL`: the public base URL every absolute link is resolved against (default http://localhost:3000). */
export const siteUrl = Config.string("SITE_URL").pipe(
  Config.validate(siteConfigRules.url),
  Config.withDefault("http://localhost:3000"),
  Config.map((value) => Option.getOrThrow(normalizeBaseUrl(value)))
)

/** `SITE_LANGUAGE` (default "en"). */
export const siteLanguage = Config.string("SITE_LANGUAGE").pipe(
  Config.validate(siteConfigRules.language),
  Config.withDefault("en")
)

/** `SITE_TIME_ZONE`: the IANA time zone pages show dates in (default "UTC"). */
export const siteTimeZone = Config.string("SITE_TIME_ZONE").pipe(
  Config.validate(siteConfigRules.timeZone),
  Config.withDefault("UTC")
)

/** `SITE_AUTHOR` (default: the site title). */
export const siteAuthor = Config.string("SITE_AUTHOR").pipe(Config.option)

/** `SITE_PAGE_SIZE`: posts per index page (default 10, at most 100). */
export const sitePageSize = integer("SITE_PAGE_SIZE", PAGE_SIZE).pipe(
  Config.withDefault(10)
)

/** `SITE_CACHE_MAX_AGE`: seconds browsers and proxies may reuse a page before revalidating (default 60). */
export const siteCacheMaxAge = integer("SITE_CACHE_MAX_AGE", { min: 0 }).pipe(
  Config.withDefault(60)
)

export const SiteConfigFromEnv: Config.Config<SiteConfigShape> = Config.all({
  title: siteTitle,
  description: siteDescription,
  url: siteUrl,
  language: siteLanguage,
  timeZone: siteTimeZone,
  author: siteAuthor,
  pageSize: sitePageSize,
  maxAgeSeconds: siteCacheMaxAge
}).pipe(Config.map(({ author, ...rest }) => ({ ...rest, author: Option.getOrElse(author, () => rest.title) })))

export const defaults: SiteConfigShape = {
  title: "Inkwell",
  description: "A blog powered by Inkwell",
  url: "http://localhost:3000",
  language: "en",
  timeZone: "UTC",
  author: "Inkwell",
  pageSize: 10,
  maxAgeSeconds: 60
}

/** Settings given in code (`SiteConfig.layer`) that SITE_* would have refused: each field, what it was and what it must be. */
export class SiteConfigInvalid extends Data.TaggedError("SiteConfigInvalid")<{
  readonly problems: ReadonlyArray<{ readonly field: keyof typeof siteConfigRules; readonly value: unknown; readonly message: string }>
}> {
  override get message() {
    return `invalid site settings: ${this.problems.map((p) => `${p.field} ${JSON.stringify(p.value)} ${p.message}`).join("; ")}`
  }
}

/** `config` checked by `siteConfigRules`, every problem at once, its `url` normalized. */
export const validateSiteConfig = (config: SiteConfigShape): Either.Either<SiteConfigShape, SiteConfigInvalid> => {
  const problems = (Object.keys(siteConfigRules) as Array<keyof typeof siteConfigRules>).flatMap((field) => {
    const rule: { readonly message: string; readonly validation: (value: never) => boolean } = siteConfigRules[field]
    const value = config[field]
    return rule.validation(value as never) ? [] : [{ field, value, message: rule.message }]
  })
  return problems.length > 0
    ? Either.left(new SiteConfigInvalid({ problems }))
    : Either.right({ ...config, url: Option.getOrThrow(normalizeBaseUrl(config.url)) })
}

export class SiteConfig extends Context.Tag("Inkwell/SiteConfig")<SiteConfig, SiteConfigShape>() {
  /**
   * Fixed settings over the defaults, for tests and embedding apps, checked as SITE_* are
   * (`SiteConfigInvalid` names each one refused); `url` is normalized, and `author` defaults to
   * the title, as with SITE_AUTHOR.
   */
  static readonly layer = (config: Partial<SiteConfigShape> = {}): Layer.Layer<SiteConfig, SiteConfigInvalid> =>
    Layer.effect(SiteConfig, Effect.suspend(() => validateSiteConfig({ ...defaults, author: config.title ?? defaults.author, ...config })))

  /**
   * From SITE_TITLE, SITE_DESCRIPTION, SITE_URL, SITE_LANGUAGE, SITE_TIME_ZONE, SITE_AUTHOR,
   * SITE_PAGE_SIZE, SITE_CACHE_MAX_AGE.
   */
  static readonly layerConfig = Layer.effect(SiteConfig, SiteConfigFromEnv)
}
