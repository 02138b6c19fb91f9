/**
 * PostProcessor: markdown with front matter in, a processed post out.
 *
 * TODO(core): implementation.
 */
import { Context, type Effect } from "effect"
import type { InvalidPost } from "../Domain/Errors.js"
import type { NewPost, PostInput, PostSource } from "../Domain/Post.js"

export interface PostProcessorShape {
  /** Parses front matter and body, applies every default, renders and sanitizes. */
  readonly process: (source: PostSource) => Effect.Effect<NewPost, InvalidPost>
  /**
   * From JSON fields a client sent (the body may itself carry front matter; explicit fields win).
   * `source` names the origin in errors ("api", a URL, ...).
   */
  readonly fromInput: (input: PostInput, source: string) => Effect.Effect<NewPost, InvalidPost>
}

export class PostProcessor extends Context.Tag("Inkwell/PostProcessor")<PostProcessor, PostProcessorShape>() {}
