/**
 * The whole Inkwell HTTP API: one `HttpApi` from which the server routes, validates, answers
 * errors, and generates `/openapi.json` and `/docs`.
 *
 * An app embedding Inkwell can add these groups to its own `HttpApi` instead
 * (see `InkwellHttp.handlersFor` in Server.ts).
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { PostsAdminApi, PostsApi } from "../Posts/Api.js"
import { InternalServerError, NotReady } from "./Errors.js"
import { documentPipeline } from "./PipelineDocument.js"

/** Liveness and readiness, for load balancers and orchestrators. Never authenticated. */
export class SystemApi extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
      .annotate(OpenApi.Summary, "Liveness: the process answers")
  )
  .add(
    HttpApiEndpoint.get("ready", "/ready")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ready") }))
      .addError(NotReady)
      .annotate(OpenApi.Summary, "Readiness: the database answers through the pool")
  )
  .addError(InternalServerError)
{}

export class InkwellApi extends HttpApi.make("inkwell")
  .add(SystemApi)
  .add(PostsApi)
  .add(PostsAdminApi)
  .annotate(OpenApi.Title, "Inkwell")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Description, "A typed blog content service: markdown in, processed posts out.")
  // What the request pipeline answers on every path (405, OPTIONS, 404, its headers): no endpoint declares it.
  .annotate(OpenApi.Transform, documentPipeline)
{}

export { PostsAdminApi, PostsApi }
