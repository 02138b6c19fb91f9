/**
 * What the request pipeline answers outside the `HttpApi`'s endpoints, written into the OpenAPI
 * document (`documentPipeline`, an `OpenApi.Transform` on the whole API): the platform documents
 * the endpoints' own answers only, and the document left out what every path can answer.
 *
 *   - OPTIONS on a path: 204 with `Allow` (`apiFailures`), an operation of each path item, its
 *     `Allow` as the server lists it; any other method the path does not take: 405
 *     `MethodNotAllowed` with the same `Allow` (`components.responses.MethodNotAllowed`, and the
 *     path item's description);
 *   - a path nothing serves: 404 `RouteNotFound` (`failureResponse`);
 *   - the headers `logRequests` adds: `X-Request-Id` on every answer, `WWW-Authenticate` on every
 *     401, `Retry-After` on every 503, and on reads (GET, HEAD) `Vary` and, to a request with a
 *     key, `Cache-Control: private` (a read's 301 sets its own: `no-cache`).
 *
 * From the document's own paths, so an endpoint added to the API is described too.
 */
import { OpenApiJsonSchema } from "@effect/platform"
import { allowedMethodsAt, type ExtraRoute } from "./AllowedMethods.js"
import { MethodNotAllowed, RouteNotFound } from "./Errors.js"
import { CREDENTIAL_HEADERS } from "./Middleware.js"

type Json = Record<string, any>

const OPERATION_METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const

const HEADERS = {
  "X-Request-Id": {
    description: "The request's id, as the log line names it: the client's X-Request-Id when it is a plain token of at most 128 characters, else a new UUID",
    schema: { type: "string" }
  },
  Allow: {
    description: "The methods the path takes: those its operations list, HEAD wherever GET, and OPTIONS",
    schema: { type: "string" }
  },
  "WWW-Authenticate": {
    description: "How to authenticate (RFC 9110 §11.6.1): the API key as a bearer token (X-API-Key works too)",
    schema: { type: "string", const: 'Bearer realm="inkwell"' }
  },
  "Retry-After": {
    description: "Seconds to wait before trying again (RETRY_AFTER, 1 unless set)",
    schema: { type: "integer", minimum: 0 }
  },
  Vary: {
    description: `What a read's answer varies on: ${CREDENTIAL_HEADERS} (a key shows drafts), after accept-encoding ` +
      "on an answer that may be compressed",
    schema: { type: "string" }
  },
  "Cache-Control": {
    description: "On a read: `private` when the request carries a key (X-API-Key or Authorization), so a shared cache never " +
      "hands a draft to anyone else; none otherwise (a 301 says `no-cache`, `private, no-cache` with a key)",
    schema: { type: "string" }
  }
} as const

const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` })

/** `{path}` parameters as the router has them (`:path`), for `allowedMethodsAt`. */
const routerPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ":$1")

/** A request path the template stands for: each parameter a placeholder. */
const samplePath = (path: string): string => path.replace(/\{[^}]+\}/g, "x")

/** `response` with `headers` added (each a reference to `components.headers`), the response's own kept. */
const withHeaders = (response: Json, headers: ReadonlyArray<keyof typeof HEADERS>): Json => {
  if (typeof response["$ref"] === "string") return response
  const added = Object.fromEntries(headers.filter((name) => response["headers"]?.[name] === undefined).map((name) => [name, ref(name)]))
  return { ...response, headers: { ...response["headers"], ...added } }
}

/**
 * The headers `logRequests` adds to an answer of `status` to a `method` request (a read's 301 has a
 * Cache-Control of its own: `withHeaders` keeps a response's own).
 */
const pipelineHeaders = (method: string, status: string): Array<keyof typeof HEADERS> => {
  const headers: Array<keyof typeof HEADERS> = ["X-Request-Id"]
  if (status === "401") headers.push("WWW-Authenticate")
  if (status === "503") headers.push("Retry-After")
  if (method === "get" || method === "head") headers.push("Vary", "Cache-Control")
  return headers
}

/** The 301 of a read at a slug a post left: its Cache-Control, as `movedResponse` sets it. */
const MOVED_CACHE_CONTROL = {
  description: "`no-cache` (`private, no-cache` to a request with a key): where it leads changes with later writes",
  schema: { type: "string", enum: ["no-cache", "private, no-cache"] }
}

const methodNotAllowed = (schema: Json): Json => ({
  description: "A method the path does not take: Allow lists those it does",
  headers: { Allow: ref("Allow"), "X-Request-Id": ref("X-Request-Id") },
  content: { "application/json": { schema } }
})

const routeNotFound = (schema: Json): Json => ({
  description: "A path nothing serves (none of this document's paths, nor /openapi.json or /docs); paths are case-sensitive",
  headers: { "X-Request-Id": ref("X-Request-Id"), Vary: ref("Vary") },
  content: { "application/json": { schema } }
})

const PIPELINE = "Every path answers OPTIONS with 204 and `Allow`, and any method it does not take with 405 " +
  "MethodNotAllowed and the same `Allow`; a path nothing serves is 404 RouteNotFound " +
  "(components.responses). Every answer carries X-Request-Id, every 401 WWW-Authenticate, every 503 " +
  "Retry-After, and a read's Vary (and Cache-Control: private with a key)."

/**
 * The OpenAPI document with what the request pipeline answers on every path (see above). `Allow`
 * is read off the document's paths as the router matches them (`allowedMethodsAt`): at
 * `/posts/import` it lists `/posts/{slug}`'s methods too, as the server does.
 */
export const documentPipeline = (spec: Json): Json => {
  const paths: Json = spec["paths"] ?? {}
  const routes: Array<ExtraRoute> = []
  for (const [path, item] of Object.entries(paths)) {
    for (const method of OPERATION_METHODS) {
      if ((item as Json)[method] !== undefined) routes.push({ method: method.toUpperCase(), path: routerPath(path) })
    }
  }
  const allowedAt = allowedMethodsAt(routes)
  const components: Json = spec["components"] ?? {}
  const schemas: Json = components["schemas"] ?? {}
  const notAllowedSchema = OpenApiJsonSchema.makeWithDefs(MethodNotAllowed, { defs: schemas })
  const notFoundSchema = OpenApiJsonSchema.makeWithDefs(RouteNotFound, { defs: schemas })

  const documented: Json = {}
  for (const [path, item] of Object.entries(paths) as Array<[string, Json]>) {
    const allow = allowedAt(samplePath(path)).join(", ")
    const next: Json = { ...item }
    for (const method of OPERATION_METHODS) {
      const operation: Json | undefined = item[method]
      if (operation === undefined) continue
      const responses = Object.fromEntries(Object.entries(operation["responses"] ?? {}).map(([status, given]) => {
        const response = given as Json
        const own = status === "301" && (method === "get" || method === "head") && typeof response["$ref"] !== "string"
          ? { ...response, headers: { ...response["headers"], "Cache-Control": MOVED_CACHE_CONTROL } }
          : response
        return [status, withHeaders(own, pipelineHeaders(method, status))]
      }))
      next[method] = { ...operation, responses }
    }
    const tags = Object.values(item).find((operation: Json) => Array.isArray(operation?.["tags"]))?.["tags"]
    next["options"] ??= {
      ...(tags === undefined ? {} : { tags }),
      summary: "The methods this path takes",
      description: `204 with Allow: ${allow}. Any other method is 405 MethodNotAllowed with the same Allow.`,
      security: [],
      responses: {
        204: {
          description: "The methods this path takes",
          headers: {
            Allow: { description: HEADERS.Allow.description, schema: { type: "string", const: allow } },
            "X-Request-Id": ref("X-Request-Id")
          }
        }
      }
    }
    next["description"] = [item["description"], `Allow: ${allow}; any other method is 405 MethodNotAllowed (components.responses).`]
      .filter((text) => text !== undefined)
      .join(" ")
    documented[path] = next
  }

  return {
    ...spec,
    info: { ...spec["info"], description: [spec["info"]?.description, PIPELINE].filter((text) => text !== undefined).join("\n\n") },
    paths: documented,
    components: {
      ...components,
      schemas,
      headers: { ...components["headers"], ...HEADERS },
      responses: {
        ...components["responses"],
        MethodNotAllowed: methodNotAllowed(notAllowedSchema),
        RouteNotFound: routeNotFound(notFoundSchema)
      }
    }
  }
}
