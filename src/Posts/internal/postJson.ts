/**
 * Inkwell's own post JSON (`GET /posts/:slug`) as a create or update body, so the README's round
 * trip (read a post, edit it, send it back) works as sent. Without this, the post's JSON was
 * refused for its store fields (`source`, `updatedAtSource`: unknown fields, 400), and with them
 * dropped, its `updatedAt`, the store's last write, became the author's "updated" date.
 *
 * Told by its `updatedAtSource` key, as the NDJSON import tells it (records.ts): the fields the
 * store derives or keeps (`id`, `html`, `createdAt`, `updatedAt`...) are ignored, but for
 * `version` on an update (the version being replaced), and `updatedAtSource` is the author's
 * updated date (PostInput's `updatedAt`). Any other body is read as before, unknown fields
 * refused: a typo still names itself.
 */
import { ParseResult, Schema } from "effect"
import { PostInput } from "../../Domain/Post.js"
import { recordBody } from "../../Processing/records.js"
import { PostJson } from "../Api.js"

/** Whether a JSON body is a post's JSON rather than input fields: input has no `updatedAtSource`. */
const isPostJson = (body: unknown): body is { readonly updatedAtSource: unknown } =>
  typeof body === "object" && body !== null && !Array.isArray(body) && "updatedAtSource" in body

/**
 * A post's JSON as read: the OpenAPI document's `PostJson` as JSON (its input fields PostInput's,
 * its store fields ignored whatever they hold but `version`, and no others), so what the document
 * shows is what is read.
 */
export const PostJsonFields = PostJson.from

const { updatedAt: _updatedAt, ...inputFields } = PostInput.fields

/**
 * `json`'s input: its store fields dropped (but `version`, when `withVersion`), `updatedAtSource`
 * as `updatedAt`, and its body shielded as an export's is (`recordBody`): a post's body is what
 * followed its front matter, and one beginning with a `---` section of its own lost it to the
 * metadata when read as a body that may carry front matter.
 */
const inputOf = (json: typeof PostJsonFields.Type, withVersion: boolean): Record<string, unknown> => {
  const input: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(json)) {
    if (key in inputFields) input[key] = value
  }
  input["body"] = recordBody(json.body)
  if (json.updatedAtSource !== null) input["updatedAt"] = json.updatedAtSource
  if (withVersion && json.version !== undefined) input["version"] = json.version
  return input
}

/**
 * `fields`, or a post's JSON read as them (`isPostJson`). `withVersion`: `fields` takes the
 * post JSON's `version` (an update's expected version); otherwise it is ignored with the rest.
 */
export const orPostJson = <A, I>(fields: Schema.Schema<A, I>, withVersion: boolean): Schema.Schema<A, unknown> =>
  Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(fields), {
    strict: true,
    decode: (body, options) =>
      isPostJson(body)
        ? ParseResult.flatMap(
          ParseResult.decodeUnknown(PostJsonFields)(body, options),
          (json) => ParseResult.decodeUnknown(fields)(inputOf(json, withVersion), options)
        )
        : ParseResult.decodeUnknown(fields)(body, options),
    encode: (value, options) => ParseResult.encode(fields)(value, options)
  })
