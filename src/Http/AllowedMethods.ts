/**
 * The methods an `HttpApi` serves at a path, read off its groups' endpoints: what a 405's and an
 * OPTIONS's `Allow` lists. Derived, so an endpoint added to the API is in every `Allow` it
 * belongs to.
 */
import type { HttpApi } from "@effect/platform"

type Segment =
  | { readonly _tag: "Static"; readonly text: string }
  | { readonly _tag: "Param"; readonly optional: boolean }
  | { readonly _tag: "Within"; readonly pattern: RegExp }
  | { readonly _tag: "Rest" }

interface Route {
  readonly method: string
  readonly segments: ReadonlyArray<Segment>
}

/**
 * A route served beside the API's endpoints, on the same router (`/openapi.json` and `/docs`,
 * which `HttpApiBuilder` mounts outside the API definition): its path as the router takes it.
 */
export interface ExtraRoute {
  readonly method: string
  readonly path: string
}

/** The order `Allow` lists methods in. */
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

const rank = (method: string): number => {
  const at = METHOD_ORDER.indexOf(method)
  return at === -1 ? METHOD_ORDER.length : at
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * A segment with parameters inside it (`sitemap-posts-:n.xml`), as the router matches it: each
 * parameter runs to the next `-` or `.` of the pattern and takes any text, even none.
 */
const withinOf = (text: string): Segment => ({
  _tag: "Within",
  pattern: new RegExp(`^${text.split(/(:[^-.]*)/).map((part) => (part.startsWith(":") ? "(.*?)" : escapeRegExp(part))).join("")}$`)
})

const segmentOf = (text: string): Segment =>
  text === "*"
    ? { _tag: "Rest" }
    : text.startsWith(":")
    ? { _tag: "Param", optional: text.endsWith("?") }
    : text.includes(":")
    ? withinOf(text)
    // Compared as written: the router is case-sensitive (Server.routerConfig).
    : { _tag: "Static", text }

/** Split as the router reads a path: empty segments (a trailing or doubled slash) do not count. */
const split = (path: string): Array<string> => path.split("/").filter((segment) => segment !== "")

const matches = (segments: ReadonlyArray<Segment>, path: ReadonlyArray<string>): boolean => {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    if (segment._tag === "Rest") return true
    const given = path[i]
    if (given === undefined) return segment._tag === "Param" && segment.optional && i === segments.length - 1
    if (segment._tag === "Static" && segment.text !== given) return false
    if (segment._tag === "Within" && !segment.pattern.test(given)) return false
  }
  return segments.length === path.length
}

/**
 * For a request path (percent-encoded, without its query), the methods some endpoint of `api`
 * (or one of `extra`) takes there, HEAD implied by GET, and OPTIONS, which every served path
 * answers (`apiFailures`); empty when nothing serves the path, or when it does not
 * percent-decode. `*` (the target of `OPTIONS *`, the server as a whole) has every method some
 * route takes. Runs only after the router found no route, so it is a plain scan.
 */
export const allowedMethodsOf = (
  api: HttpApi.HttpApi.Any,
  extra: ReadonlyArray<ExtraRoute> = []
): ((path: string) => ReadonlyArray<string>) => {
  const endpoints: Array<ExtraRoute> = []
  for (const group of Object.values((api as HttpApi.HttpApi.AnyWithProps).groups)) {
    for (const endpoint of Object.values(group.endpoints)) endpoints.push({ method: endpoint.method, path: endpoint.path })
  }
  return allowedMethodsAt([...endpoints, ...extra])
}

/**
 * `allowedMethodsOf` for routes given as the router has them, with no `HttpApi`: the reader
 * site's, read off its own router (Site/Routes.ts).
 */
export const allowedMethodsAt = (given: ReadonlyArray<ExtraRoute>): ((path: string) => ReadonlyArray<string>) => {
  const routes: Array<Route> = given.map((route) => ({ method: route.method, segments: split(route.path).map(segmentOf) }))
  return (path) => {
    if (path === "*") return sorted(new Set(routes.flatMap((route) => (route.method === "GET" ? ["GET", "HEAD"] : [route.method]))))
    let decoded: Array<string>
    try {
      // Segment by segment, as the router decodes parameters: an encoded `/` stays inside its segment.
      decoded = split(path).map(decodeURIComponent)
    } catch {
      return []
    }
    const methods = new Set<string>()
    for (const route of routes) {
      if (!matches(route.segments, decoded)) continue
      methods.add(route.method)
      if (route.method === "GET") methods.add("HEAD")
    }
    return sorted(methods)
  }
}

/** `methods` in `Allow`'s order, with OPTIONS, which every served path answers; none when nothing is served. */
const sorted = (methods: Set<string>): ReadonlyArray<string> =>
  methods.size === 0 ? [] : Array.from(methods.add("OPTIONS")).sort((a, b) => rank(a) - rank(b))
