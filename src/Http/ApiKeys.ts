/**
 * ApiKeys: which keys may write, and a constant-time check of a presented key.
 *
 * Keys are hashed once at start; a presented key is hashed and compared against EVERY
 * configured hash with `timingSafeEqual`, so neither the key's length nor which key matched
 * (nor how many leading bytes did) shows in the response time.
 */
import type { Headers } from "@effect/platform"
import { Context, Effect, Layer, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import * as HttpConfig from "./HttpConfig.js"

/** What a request's credentials amount to. */
export type Verdict = "valid" | "invalid" | "missing" | "disabled"

export interface ApiKeysShape {
  /** False when no key is configured: every write is refused. */
  readonly enabled: boolean
  readonly check: (candidate: Redacted.Redacted | undefined) => Verdict
  /** Reads `x-api-key`, then `Authorization: Bearer`. */
  readonly fromHeaders: (headers: Headers.Headers) => Verdict
}

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

const BEARER = /^bearer\s+(.+)$/i

export const make = (keys: ReadonlyArray<Redacted.Redacted>): ApiKeysShape => {
  const hashes = keys.map((key) => sha256(Redacted.value(key)))
  const check = (candidate: Redacted.Redacted | undefined): Verdict => {
    if (hashes.length === 0) return "disabled"
    // A missing header decodes to an empty key: never a match, whatever is configured.
    const value = candidate === undefined ? "" : Redacted.value(candidate)
    if (value.length === 0) return "missing"
    const presented = sha256(value)
    let match = false
    for (const hash of hashes) match = timingSafeEqual(presented, hash) || match
    return match ? "valid" : "invalid"
  }
  const fromHeaders = (headers: Headers.Headers): Verdict => {
    const apiKey = headers["x-api-key"]
    if (apiKey !== undefined && apiKey.length > 0) return check(Redacted.make(apiKey))
    const bearer = BEARER.exec(headers["authorization"] ?? "")
    return check(bearer === null ? undefined : Redacted.make(bearer[1]!.trim()))
  }
  return { enabled: hashes.length > 0, check, fromHeaders }
}

/** Why a request was refused, for the 401 body. Never mentions the key itself. */
export const refusal = (verdict: Exclude<Verdict, "valid">): string => {
  switch (verdict) {
    case "disabled":
      return "writes are disabled: this server has no API key configured (set INKWELL_API_KEYS)"
    case "missing":
      return "an API key is required: send it in the X-API-Key header or as Authorization: Bearer <key>"
    case "invalid":
      return "the API key is not valid"
  }
}

export class ApiKeys extends Context.Tag("Inkwell/ApiKeys")<ApiKeys, ApiKeysShape>() {
  /** Fixed keys, for tests and embedding apps that manage keys themselves. */
  static readonly layer = (keys: ReadonlyArray<string | Redacted.Redacted>): Layer.Layer<ApiKeys> =>
    Layer.succeed(ApiKeys, make(keys.map((key) => (typeof key === "string" ? Redacted.make(key) : key))))

  /** From `INKWELL_API_KEYS`; warns once at start when no key is set. */
  static readonly layerConfig = Layer.effect(
    ApiKeys,
    Effect.gen(function* () {
      const keys = yield* HttpConfig.apiKeys
      if (keys.length === 0) {
        yield* Effect.logWarning(
          "INKWELL_API_KEYS is not set: the API is read-only and every write will be refused with 401"
        )
      }
      return make(keys)
    })
  )
}
