/**
 * Zola's internal links (`[text](@/blog/post.md#anchor)`) in a markdown directory import. The
 * path is the target's file, relative to the content directory: the directory the import walks
 * (for a file named on its own, the directory it is in). A post is rendered with them as written
 * (Processing/internalLinks.ts); then, still in the concurrent stage, each target file is read for
 * its slug (its front matter only, `slugOfSourceSync`, once per run however many links name it:
 * `Resolver`) and the link becomes `./<slug>#anchor`, the target's page beside the post's.
 *
 * Resolved from the file rather than from what the run stores, so a post may link to one later in
 * the walk (the Rust blog's do: `outreachy-2026-may.md` comes after `inside-rust/`), without a
 * pass over the tree before the run or a second write of the post after it. What the file alone
 * cannot say (its post failed, was a duplicate, or was stored under a suffixed slug) the writer
 * checks once the run has stored its posts (ImportPipeline `checkLinks`), and warns.
 *
 * A link that cannot be resolved (no such file, outside the directory, a section page, no slug)
 * is kept as written and reported as a warning naming the file, the line and the link.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import * as NodePath from "node:path"
import { NewPost } from "../Domain/Post.js"
import {
  hashWithLinks,
  internalLinks,
  type LinkReport,
  linkLines,
  postHref,
  type ResolvedLink,
  rewriteInternalLinks
} from "../Processing/internalLinks.js"
import { slugOfSourceSync } from "../Processing/processPost.js"
import { isMarkdownPath, readText } from "./FileSource.js"

/** A markdown file of the import, as the walk found it. */
export interface LinkingFile {
  /** Its identity in the run (its normalized path): what a warning names. */
  readonly identity: string
  readonly path: string
  /** Relative to the walked directory, with `/` separators. */
  readonly relativePath: string
}

/** What a target file gave: its identity and slug, or why none. */
type Target = Either.Either<{ readonly identity: string; readonly slug: string }, string>

/** Targets remembered per run: links to one post (an index, a series' first part) read it once. */
const CACHE_SIZE = 10_000

export interface Resolver {
  /**
   * `post` (rendered from `raw`, the whole file) with its internal links resolved, its content
   * hash covering the slugs they were resolved to (`hashWithLinks`), and what was found;
   * `links` is `undefined` for a post without internal links (returned as it is). Never fails.
   */
  readonly resolve: (
    file: LinkingFile,
    raw: string,
    post: NewPost,
    limits: { readonly chunkSize: number; readonly maxPostBytes: number }
  ) => Effect.Effect<{ readonly post: NewPost; readonly links: LinkReport | undefined }, never, FileSystem.FileSystem>
}

/** The directory `file` was walked from: its path without its relative path. */
const contentRoot = (file: LinkingFile): string | undefined => {
  const path = file.path.replaceAll("\\", "/")
  if (file.relativePath === "" || !path.endsWith(file.relativePath)) return undefined
  return NodePath.resolve(file.path.slice(0, file.path.length - file.relativePath.length) || ".")
}

const within = (root: string, path: string): string | undefined => {
  const relative = NodePath.relative(root, path)
  return relative === "" || relative === ".." || relative.startsWith(`..${NodePath.sep}`) || NodePath.isAbsolute(relative)
    ? undefined
    : relative.split(NodePath.sep).join("/")
}

/** A resolver with its own cache of targets: one per run, as files change between runs. */
export const makeResolver = (): Resolver => {
  const cache = new Map<string, Target>()

  const target = (
    root: string,
    path: string,
    limits: { readonly chunkSize: number; readonly maxPostBytes: number }
  ): Effect.Effect<Target, never, FileSystem.FileSystem> => {
    if (!isMarkdownPath(path)) return Effect.succeed(Either.left(`${path} is no markdown file (.md, .markdown)`))
    const joined = NodePath.join(root, path)
    const relative = within(root, joined)
    if (relative === undefined) return Effect.succeed(Either.left(`${path} is outside the import's directory ${root}`))
    const known = cache.get(joined)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const read = yield* Effect.either(readText(joined, { chunkSize: limits.chunkSize, maxBytes: limits.maxPostBytes }))
      if (Either.isLeft(read)) {
        const error = read.left
        return Either.left(
          error._tag === "FileReadError"
            ? error.reason === "no such file or directory" ? `no file ${path} in ${root}` : `${joined}: ${error.reason}`
            : `${joined}: invalid UTF-8 at byte offset ${error.offset}`
        )
      }
      // The walk reads a file by its path in the tree, and one reached through a link from
      // outside the tree by the link's: the identity the run stores it under.
      const real = yield* Effect.orElseSucceed(fs.realPath(joined), () => joined)
      const identity = NodePath.normalize(within(root, real) === undefined ? joined : real)
      return Either.match(slugOfSourceSync({ source: identity, raw: read.right.text, relativePath: relative }), {
        onLeft: (invalid): Target => Either.left(`${path} gives no post (${invalid.field}: ${invalid.reason})`),
        onRight: (slug): Target => Either.right({ identity, slug })
      })
    }).pipe(Effect.tap((found) =>
      Effect.sync(() => {
        if (cache.size >= CACHE_SIZE) cache.clear()
        cache.set(joined, found)
      })
    ))
  }

  return {
    resolve: (file, raw, post, limits) =>
      Effect.gen(function*() {
        const links = internalLinks(post.html)
        if (links.length === 0) return { post, links: undefined }
        const root = contentRoot(file)
        const targets = new Map<string, Target>()
        for (const link of links) {
          if (targets.has(link.path)) continue
          targets.set(link.path, root === undefined ? Either.left("the import's directory is not known") : yield* target(root, link.path, limits))
        }
        const lines = linkLines(raw, links)
        const resolved: Array<ResolvedLink> = []
        const unresolved: Array<{ readonly source: string; readonly reason: string }> = []
        links.forEach((link, i) => {
          const at = lines[i] === undefined ? file.identity : `${file.identity}:${lines[i]}`
          Either.match(targets.get(link.path)!, {
            onLeft: (why) => unresolved.push({ source: at, reason: `link ${JSON.stringify(link.href)} kept as written: ${why}` }),
            onRight: ({ identity, slug }) => resolved.push({ at, href: link.href, target: identity, slug })
          })
        })
        if (resolved.length === 0) return { post, links: { resolved, unresolved } }
        const html = rewriteInternalLinks(post.html, (link) => {
          const found = targets.get(link.path)
          return found !== undefined && Either.isRight(found) ? postHref(found.right.slug, link.fragment) : undefined
        })
        const contentHash = hashWithLinks(post.contentHash, resolved.map((link) => [link.href, link.slug] as const))
        return { post: new NewPost({ ...post, html, contentHash }, true), links: { resolved, unresolved } }
      })
  }
}
