/**
 * Shared layers for import tests: the real processor, a migrated SQLite database (in memory or
 * in a scoped temp file) behind the real pool and SQL repository, and Node's file system.
 */
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { DatabasePool } from "../../src/Database/DatabasePool.js"
import * as Migrations from "../../src/Database/Migrations.js"
import * as SqlLive from "../../src/Database/SqlLive.js"
import { PostProcessor } from "../../src/Processing/PostProcessor.js"
import { defaultProcessorConfig } from "../../src/Processing/processPost.js"
import * as SqlPostRepository from "../../src/Posts/SqlPostRepository.js"

export const ProcessorTest = PostProcessor.layer(defaultProcessorConfig)

/** Repository + pool + migrated SqlClient (kept visible) for a DATABASE_URL. */
export const sqliteStack = (url: string) =>
  SqlPostRepository.layer.pipe(
    Layer.provideMerge(DatabasePool.layer({ maxConnections: 4, acquireTimeout: "10 seconds" })),
    Layer.provideMerge(Migrations.layer.pipe(Layer.provideMerge(SqlLive.layer(url))))
  )

/** Everything an import needs, on a fresh in-memory database. */
export const memoryImportLayer = Layer.mergeAll(sqliteStack("sqlite::memory:"), ProcessorTest, NodeContext.layer)

/** A scoped temp directory, removed when the test ends. */
export const tempDir = (prefix = "inkwell-import-") =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix }))

/** Writes files (relative path → content) under `dir`, creating parent directories. */
export const writeFiles = (dir: string, files: Record<string, string | Uint8Array>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    for (const [name, content] of Object.entries(files)) {
      const full = path.join(dir, name)
      yield* fs.makeDirectory(path.dirname(full), { recursive: true })
      if (typeof content === "string") yield* fs.writeFileString(full, content)
      else yield* fs.writeFile(full, content)
    }
  })

/** A small valid markdown post with TOML front matter. */
export const markdownPost = (title: string, body = "Some text.\n\n## A heading\n\n- a\n- b\n") =>
  `+++\ntitle = ${JSON.stringify(title)}\ndate = 2024-01-02\n+++\n\n${body}`
