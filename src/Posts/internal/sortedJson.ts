import { Schema } from "effect"
import { NewPost, type Post } from "../../Domain/Post.js"

/**
 * `value` as JSON with every object's keys in order: two posts compared by their JSON are the same
 * whatever order their objects' keys came in (PostgreSQL's jsonb keeps metadata's keys in an
 * order of its own).
 */
const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

/** A post's content and what processing derives from it, but for the hash: what makes two posts the same post. */
const encodeContent = Schema.encodeSync(Schema.Struct(NewPost.fields).pipe(Schema.omit("contentHash")))

/** `a` and `b` are the same post but maybe for their content hash (an update, a reprocess). */
export const sameContent = (a: NewPost | Post, b: NewPost | Post): boolean =>
  sortedJson(encodeContent(a)) === sortedJson(encodeContent(b))
