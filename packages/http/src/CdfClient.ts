/**
 * The CDF client: sends a request to `{baseUrl}/api/v1/projects/{project}` with the token, the CDF headers
 * and a gzip-compressed JSON body, retries it as its safety class allows, and turns every answer into a
 * decoded value or a typed error of `@effect-cdf/core`.
 *
 * It needs an `HttpClient.HttpClient` (for example `FetchHttpClient.layer` or `NodeHttpClient.layerUndici`)
 * and an `Auth`; it bundles neither.
 *
 * @example
 * ```ts
 * import { Auth, CdfClient, CdfRequest } from "@effect-cdf/http"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer, Redacted, Schema } from "effect"
 *
 * const Limits = Schema.Struct({ timeoutMinutes: Schema.Number })
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* CdfClient.CdfClient
 *   return yield* client.execute({
 *     operation: "cdf.Functions.limits",
 *     method: "GET",
 *     path: CdfRequest.path`/functions/limits`,
 *     safety: "safe",
 *     schema: Limits
 *   })
 * })
 *
 * const live = CdfClient.layer({ cluster: "westeurope-1", project: "my-project", appName: "my-app" }).pipe(
 *   Layer.provide(Auth.layerToken(Redacted.make("token"))),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * program.pipe(Effect.provide(live))
 * ```
 *
 * @since 0.1.0
 */
import { Items, Scrub } from "@effect-cdf/core"
import {
  type ApiError,
  type AuthenticationFailed,
  type CallOutcomeUnknown,
  DecodeError,
  decodeError,
  InvalidInput,
  type RequestDescription,
  type TransportError,
  type UntrustedUrl
} from "@effect-cdf/core/Errors"
import { HttpClient } from "@effect/platform"
import { Chunk, Config, ConfigError, Context, Effect, Either, identity, Layer, Option, Schema, Stream } from "effect"
import * as Auth from "./Auth.js"
import * as CdfConfig from "./CdfConfig.js"
import type * as CdfRequest from "./CdfRequest.js"
import * as Chunking from "./Chunking.js"
import { preload as preloadGzip } from "./internal/gzip.js"
import { leanOf } from "./internal/lean.js"
import { prepare, type Prepared } from "./internal/request.js"
import { bytesOf, send, type Shared, textOf } from "./internal/send.js"
import { guarded, utf8 } from "./internal/transport.js"
import * as Retry from "./Retry.js"

/** The client of the CDF API. */
export class CdfClient extends Context.Tag("@effect-cdf/http/CdfClient")<CdfClient, CdfClient.Service>() {}

/** The types of the `CdfClient` service. */
export declare namespace CdfClient {
  /** Every error a request can end with. */
  export type Error =
    | ApiError
    | TransportError
    | DecodeError
    | CallOutcomeUnknown
    | AuthenticationFailed
    | UntrustedUrl
    | InvalidInput

  /** What a client offers. */
  export interface Service {
    /** The resolved configuration. */
    readonly config: CdfConfig.CdfConfig
    /**
     * Sends a request and decodes its 2xx JSON body with `request.schema`. Any other status is a typed
     * `ApiError` (from either error envelope form); see the module docs for retries.
     */
    readonly execute: <A, I>(request: CdfRequest.JsonRequest<A, I>) => Effect.Effect<A, Error>
    /** As `execute`, with the attempts made and the total wait between them. */
    readonly executeWithMetadata: <A, I>(
      request: CdfRequest.JsonRequest<A, I>
    ) => Effect.Effect<CdfRequest.WithMetadata<A>, Error>
    /**
     * Sends a request and returns a 2xx answer as it is: status, headers (for a `202` + `Location`) and
     * bytes. Any other status is a typed `ApiError`.
     */
    readonly executeRaw: (request: CdfRequest.Request) => Effect.Effect<CdfRequest.RawResponse, Error>
    /**
     * Every item of a cursor-paginated list, page by page: `nextCursor` goes back as `cursor` with every other
     * parameter unchanged, in the body (POST) or the query (GET).
     */
    readonly paginate: <A, I>(request: CdfRequest.PageRequest<A, I>) => Stream.Stream<A, Error>
    /** Runs `f` over chunks of at most `size` items, `concurrency` at a time (default 4); results in order. */
    readonly chunked: typeof Chunking.chunked
  }
}

/** A client over the given configuration, token source and HTTP client. */
export const makeWith = (
  config: CdfConfig.CdfConfig,
  auth: Auth.Auth.Service,
  http: HttpClient.HttpClient
): Effect.Effect<CdfClient.Service> =>
  Effect.gen(function*() {
    const budget = yield* Retry.makeBudget(config.retry.budget)
    // zlib (on Node) is ready before the first request needs it
    yield* preloadGzip
    const shared: Shared = { config, auth, http, budget }
    const projectPath = new URL(config.projectUrl).pathname
    const guard = leanOf(http) === undefined ? guarded : identity

    // One span per request, named for the operation, without a stack trace; attempts get spans of their
    // own only when there was more than one (see internal/send.ts).
    const traced = <A, E>(
      request: CdfRequest.Request,
      f: (prepared: Prepared) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | InvalidInput | UntrustedUrl> =>
      prepare(config, projectPath, request).pipe(
        Effect.flatMap(f),
        guard,
        Effect.withSpan(request.operation, {
          kind: "client",
          captureStackTrace: false,
          attributes: {
            "http.request.method": request.method,
            "url.template": request.url !== undefined
              ? "{url}"
              : typeof request.path === "string"
              ? request.path
              : request.path.template,
            "cdf.safety": request.safety
          }
        })
      )

    const executeRaw = (request: CdfRequest.Request) =>
      traced(request, (prepared) =>
        Effect.map(
          send(shared, prepared, request.safety, request.deadline, "bytes"),
          (received): CdfRequest.RawResponse => ({
            status: received.status,
            headers: received.headers,
            body: bytesOf(received),
            requestId: received.headers["x-request-id"],
            attempts: received.attempts,
            retryDelayMillis: received.retryDelayMillis
          })
        ))

    const executeWithMetadata = <A, I>(request: CdfRequest.JsonRequest<A, I>) => {
      const subject = `${request.operation} response`
      return traced(request, (prepared) =>
        Effect.flatMap(send(shared, prepared, request.safety, request.deadline, "text"), (received) =>
          Effect.map(
            decodeText(request.schema, textOf(received), {
              subject,
              request: prepared.description,
              requestId: received.headers["x-request-id"],
              secrets: prepared.secrets
            }),
            (value): CdfRequest.WithMetadata<A> => ({
              value,
              attempts: received.attempts,
              retryDelayMillis: received.retryDelayMillis
            })
          )))
    }

    const execute = <A, I>(request: CdfRequest.JsonRequest<A, I>) =>
      Effect.map(executeWithMetadata(request), (result) =>
        result.value)

    const paginate = <A, I>(request: CdfRequest.PageRequest<A, I>): Stream.Stream<A, CdfClient.Error> => {
      const { cursorIn, item, ...rest } = request
      const page = Items.ItemsWithCursor(item)
      const where = cursorIn ?? (request.method === "GET" ? "query" : "body")
      const body: unknown = request.body
      const fetchPage = (cursor: Option.Option<string>) => {
        if (Option.isNone(cursor)) {
          return execute({ ...rest, schema: page })
        }
        if (where === "query") {
          return execute({ ...rest, query: { ...rest.query, cursor: cursor.value }, schema: page })
        }
        if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
          return Effect.fail(
            new InvalidInput({
              subject: "paginated request",
              issue: "the body must be a JSON object to carry a cursor"
            })
          )
        }
        return execute({ ...rest, bytes: undefined, body: { ...body, cursor: cursor.value }, schema: page })
      }
      // Every cursor seen is remembered (a few bytes per page), so a cursor that cycles (a, b, a, ...) ends the
      // listing with a typed error instead of paginating forever.
      return Stream.suspend(() => {
        const seen = new Set<string>()
        return Stream.paginateChunkEffect(Option.none<string>(), (cursor) =>
          Effect.flatMap(fetchPage(cursor), (result) => {
            const next = Option.fromNullable(result.nextCursor)
            if (Option.isSome(cursor)) {
              seen.add(cursor.value)
            }
            if (Option.isSome(next) && seen.has(next.value)) {
              return Effect.fail(
                new DecodeError({
                  subject: `${request.operation} page`,
                  issue: Option.isSome(cursor) && next.value === cursor.value
                    ? "nextCursor did not advance"
                    : `nextCursor repeats an earlier cursor after ${seen.size} pages: the listing cycles`,
                  sample: "<cursor>"
                })
              )
            }
            return Effect.succeed(
              [Chunk.fromIterable(result.items), Option.map(next, Option.some)] as const
            )
          }))
      })
    }

    return {
      config,
      execute,
      executeWithMetadata,
      executeRaw,
      paginate,
      chunked: Chunking.chunked
    } satisfies CdfClient.Service
  })

interface DecodeContext {
  readonly subject: string
  readonly request?: RequestDescription | undefined
  readonly requestId?: string | undefined
}

/**
 * JSON text decoded with `schema`, as `HttpClientResponse.schemaBodyJson` does (`JSON.parse`, then
 * `Schema.decodeUnknown`), except that an empty body decodes as `undefined`. A failure is a `DecodeError`
 * whose issue and sample have the request's secrets cut out.
 */
const decodeText = <A, I>(
  schema: Schema.Schema<A, I, never>,
  text: string,
  context: DecodeContext & { readonly secrets?: () => ReadonlyArray<string> }
): Effect.Effect<A, DecodeError> => {
  // the request's secrets, computed only when a failure is built; core's decodeError cuts them out of
  // the issue, the sample and the request id
  const withSecrets = () => ({
    request: context.request,
    requestId: context.requestId,
    secrets: context.secrets === undefined ? [] : context.secrets()
  })
  let json: unknown = undefined
  if (text.length > 0) {
    try {
      json = JSON.parse(text)
    } catch {
      // an empty body decodes as `undefined`, even with white space
      if (text.trim().length === 0) {
        return Effect.mapError(
          Schema.decodeUnknown(schema)(undefined),
          (error) => decodeError(context.subject, error, undefined, withSecrets())
        )
      }
      const { requestId, secrets } = withSecrets()
      const plausibleId = Scrub.requestId(requestId, secrets)
      return Effect.fail(
        new DecodeError({
          subject: context.subject,
          issue: "the body is not JSON",
          sample: Scrub.sample(text, 240, secrets),
          ...(context.request === undefined ? {} : { request: context.request }),
          ...(plausibleId === undefined ? {} : { requestId: plausibleId })
        })
      )
    }
  }
  // A synchronous schema (nearly all) decodes a valid body without an effect. Anything else (an invalid body,
  // a schema with asynchronous parts) is decoded again as an effect, which reports it as before.
  const decoded = Schema.decodeUnknownEither(schema)(json)
  if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
  return Effect.mapError(
    Schema.decodeUnknown(schema)(json),
    (error) => decodeError(context.subject, error, json, withSecrets())
  )
}

/**
 * Decodes a JSON body with `schema`: an empty body decodes as `undefined`, and a failure is a `DecodeError`
 * with a short, redacted sample.
 */
export const decodeBody = <A, I>(
  schema: Schema.Schema<A, I, never>,
  body: Uint8Array,
  context: DecodeContext
): Effect.Effect<A, DecodeError> => decodeText(schema, utf8(body), context)

const resolveOrDie = (options: CdfConfig.Options) =>
  Either.match(CdfConfig.resolve(options), {
    onLeft: ({ issue, setting }) => Effect.die(new InvalidInput({ subject: `CdfClient option ${setting}`, issue })),
    onRight: Effect.succeed
  })

/** A client from options; invalid options are a defect (a programming mistake), named in the message. */
export const make = (
  options: CdfConfig.Options
): Effect.Effect<CdfClient.Service, never, Auth.Auth | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const config = yield* resolveOrDie(options)
    const auth = yield* Auth.Auth
    const http = yield* HttpClient.HttpClient
    return yield* makeWith(config, auth, http)
  })

/** The client as a layer. */
export const layer = (options: CdfConfig.Options): Layer.Layer<CdfClient, never, Auth.Auth | HttpClient.HttpClient> =>
  Layer.effect(CdfClient, make(options))

/** The client from a `Config` of options (by default `CdfConfig.fromEnv`). */
export const layerConfig = (
  config: Config.Config<CdfConfig.Options> = CdfConfig.fromEnv
): Layer.Layer<CdfClient, ConfigError.ConfigError, Auth.Auth | HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.flatMap(config, (options) =>
      Either.match(CdfConfig.resolve(options), {
        onLeft: ({ issue, setting }) => Effect.fail(ConfigError.InvalidData([setting], `${setting} ${issue}`)),
        onRight: () => Effect.succeed(layer(options))
      }))
  )

/**
 * Client and auth both from the environment (`COGNITE_BASE_URL` or `COGNITE_CLUSTER`, `COGNITE_PROJECT`,
 * `COGNITE_TOKEN` or the client-credentials variables); only the `HttpClient` is left to provide. Every
 * missing or malformed variable is named in one error.
 */
export const layerFromEnv: Layer.Layer<CdfClient | Auth.Auth, ConfigError.ConfigError, HttpClient.HttpClient> = Layer
  .unwrapEffect(
    Effect.map(
      Config.all([CdfConfig.fromEnv, Auth.fromEnv]),
      ([options, auth]) => layer(options).pipe(Layer.provideMerge(Auth.layerFromSettings(auth, options.baseUrl ?? "")))
    )
  )
