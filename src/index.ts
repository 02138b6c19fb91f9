/**
 * Inkwell as a library: every service is a layer another Effect app can provide or replace.
 * See README.md, "Embedding".
 */

// Domain: schemas and errors
export * from "./Domain/index.js"
export * as AppConfig from "./Config.js"

// Processing
export { BatchNotProcessed, PostProcessor, makePostProcessor, type PostProcessorShape } from "./Processing/PostProcessor.js"
// What a processor's optional `fromLines` takes and answers (NDJSON lines in bulk)
export type { RecordLine, RecordOutcome } from "./Processing/records.js"
export { defaultProcessorConfig, isSectionPage, processInputSync, processPostSync } from "./Processing/processPost.js"
export * from "./Processing/processConcurrently.js"
// Rendering on worker threads (RENDER_*): a PostProcessor an embedder provides in place of the in-process one
export * as RenderPool from "./Workers/RenderPool.js"
// In-process rendering, a post too dense for a capped heap on a thread of its own (IMPORT_RENDER_HEAP_MB): `inkwell import`'s
export * as HeavyPosts from "./Workers/HeavyPosts.js"

// Storage
export { DatabasePool, type DatabasePoolOptions, type DatabasePoolShape, type Dialect, type PoolStats } from "./Database/DatabasePool.js"
export { FairSemaphore } from "./Database/FairSemaphore.js"
export * as Migrations from "./Database/Migrations.js"
export * as PgRequirements from "./Database/PgRequirements.js"
export { ALL_POSTS, ListenFailed, type ListenOptions, PostChange, PostChanges, type PostChangesShape } from "./Database/PostChanges.js"
export * as SqlLive from "./Database/SqlLive.js"
export * as AnnouncingPostRepository from "./Posts/AnnouncingPostRepository.js"
export * as MemoryPostRepository from "./Posts/MemoryPostRepository.js"
export * from "./Posts/PostRepository.js"
export * as SqlPostRepository from "./Posts/SqlPostRepository.js"
export { Posts } from "./Posts/Posts.js"
// Search: the words a query asks every store to find (a repository's own `search` quotes them for its engine)
export { indexedWords, type IndexedWords, searchTerms, type SearchTerms } from "./Posts/internal/search.js"

// Export: stored posts as NDJSON records that the import reads back
export * as ExportOutput from "./Export/ExportOutput.js"
export * as PostExport from "./Export/PostExport.js"
export * as Reprocess from "./Posts/Reprocess.js"

// Remote sources: the HTTP client for feeds, in code as the README shows
export { type FetchedResource, FeedClient, type FeedClientShape, type GetOptions } from "./Clients/FeedClient.js"
export { type FeedClientInput, FeedClientOptions, type FeedClientSettings } from "./Clients/FeedClientOptions.js"
export * from "./Clients/FeedErrors.js"

// HTTP
export { InkwellApi, PostsAdminApi, PostsApi, SystemApi } from "./Http/Api.js"
export { ApiKeys } from "./Http/ApiKeys.js"
export * from "./Http/Errors.js"
export * as HttpConfig from "./Http/HttpConfig.js"
export { ApiKeyAuth, ApiKeyAuthLive, type MiddlewareOptions, requestMiddleware, requestMiddlewareConfig } from "./Http/Middleware.js"
// What the request pipeline answers on every path, for an embedding API's OpenAPI document (an `OpenApi.Transform`)
export { documentPipeline } from "./Http/PipelineDocument.js"
export * as InkwellServer from "./Http/Server.js"
export { Compression, type CompressionOptions } from "./Http/Compression.js"
export { type CacheStats, ResponseCache, type ResponseCacheOptions, type ResponseCacheShape } from "./Http/ResponseCache.js"

// Reader site: its routes (a layer for the server's router) and their settings
export { SiteConfig, SiteConfigFromEnv, SiteConfigInvalid, type SiteConfigShape } from "./Site/SiteConfig.js"
export * as SiteRoutes from "./Site/Routes.js"

// The composed application
export {
  AppLive,
  ChangesLive,
  DatabaseLive,
  LoggerLive,
  postsWith,
  PostsLive,
  RepositoryLive,
  WritingRepositoryLive
} from "./App.js"
