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
import { ErrorEnvelope, Items } from "@effect-cdf/core"
import {
  type ApiError,
  apiError,
  AuthenticationFailed,
  CallOutcomeUnknown,
  DecodeError,
  decodeError,
  InvalidInput,
  redactSample,
  RequestDescription,
  TransportError,
  UntrustedUrl
} from "@effect-cdf/core/Errors"
import { HttpClient, HttpClientRequest, HttpTraceContext } from "@effect/platform"
import type { Headers } from "@effect/platform"
import {
  Chunk,
  Clock,
  Config,
  ConfigError,
  Context,
  Duration,
  Effect,
  Either,
  FiberRef,
  Layer,
  Option,
  Random,
  Redacted,
  Schema,
  Stream
} from "effect"
import { Auth } from "./Auth.js"
import * as AuthModule from "./Auth.js"
import * as CdfConfig from "./CdfConfig.js"
import type * as CdfRequest from "./CdfRequest.js"
import { isPath } from "./CdfRequest.js"
import * as Chunking from "./Chunking.js"
import { classify, type Failure, guarded, gzip, scrub, secretValues, utf8 } from "./internal/transport.js"
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

const RETRY_STATUSES = new Set([502, 503, 504])

interface Prepared {
  readonly request: HttpClientRequest.HttpClientRequest
  /** Sent without credentials (a signed upload URL). */
  readonly anonymous: boolean
  readonly description: RequestDescription
  readonly template: string
  /** Secrets the request carries (nonces, client secrets in the body; tokens are added as they are used). */
  readonly secrets: Array<string>
}

interface Received {
  readonly _tag: "Response"
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: Uint8Array
}

type Outcome = Received | Failure

const invalid = (subject: string, issue: string) => Effect.fail(new InvalidInput({ subject, issue }))

const appendQuery = (
  request: HttpClientRequest.HttpClientRequest,
  query: Readonly<Record<string, CdfRequest.QueryValue>> | undefined
) => {
  if (query === undefined) return request
  const params: Array<readonly [string, string]> = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    const values: ReadonlyArray<string | number | boolean> = Array.isArray(value) ? value : [value]
    for (const v of values) params.push([key, String(v)])
  }
  return HttpClientRequest.appendUrlParams(request, params)
}

const jsonText = (body: unknown): Either.Either<string, string> => {
  try {
    const text = JSON.stringify(body)
    return text === undefined ? Either.left("the body is not JSON") : Either.right(text)
  } catch (error) {
    return Either.left(`the body cannot be written as JSON (${error instanceof Error ? error.name : "error"})`)
  }
}

/** A client over the given configuration, token source and HTTP client. */
export const makeWith = (
  config: CdfConfig.CdfConfig,
  auth: AuthModule.Auth.Service,
  http: HttpClient.HttpClient
): Effect.Effect<CdfClient.Service> =>
  Effect.gen(function*() {
    const policy = config.retry
    const budget = yield* Retry.makeBudget(policy.budget)
    const projectPath = new URL(config.projectUrl).pathname
    const attemptTimeoutMillis = Duration.toMillis(config.attemptTimeout)

    const resolveTarget = (
      request: CdfRequest.Request
    ): Effect.Effect<{ url: URL; template: string }, InvalidInput | UntrustedUrl> => {
      if (request.url !== undefined) {
        let url: URL
        try {
          url = new URL(request.url, `${config.baseUrl}/`)
        } catch {
          return invalid("url", "not a URL")
        }
        const secure = url.protocol === "https:" ||
          (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname))
        if (url.origin !== config.origin && !(request.anonymous === true && secure)) {
          return Effect.fail(new UntrustedUrl({ origin: url.origin, expectedOrigin: config.origin }))
        }
        if (url.username !== "" || url.password !== "") return invalid("url", "a URL may not carry credentials")
        return Effect.succeed({ url, template: url.pathname })
      }
      const target = request.path
      let value: string
      let template: string
      if (isPath(target)) {
        if (target.invalid !== undefined) return invalid("path", target.invalid)
        value = target.value
        template = target.template
      } else {
        if (!target.startsWith("/")) return invalid("path", "a path starts with / and is relative to the project")
        if (/[?#]/.test(target)) return invalid("path", "put query parameters in `query`")
        value = target
        template = target
      }
      let url: URL
      try {
        url = new URL(config.projectUrl + value)
      } catch {
        return invalid("path", "not a valid path")
      }
      // Dot segments (even percent-encoded ones) are resolved by the URL parser: refuse what leaves the project.
      if (
        url.origin !== config.origin || (url.pathname !== projectPath && !url.pathname.startsWith(projectPath + "/"))
      ) {
        return invalid("path", "the path leaves the project")
      }
      return Effect.succeed({ url, template })
    }

    const prepare = (request: CdfRequest.Request): Effect.Effect<Prepared, InvalidInput | UntrustedUrl> =>
      Effect.gen(function*() {
        const { template, url } = yield* resolveTarget(request)
        let built = HttpClientRequest.make(request.method)(url, {
          headers: request.anonymous === true ? { ...request.headers } : {
            ...request.headers,
            accept: "application/json",
            "cdf-version": request.cdfVersion ?? config.cdfVersion,
            "x-cdp-sdk": config.sdkHeader,
            "x-cdp-app": config.appName
          }
        })
        built = appendQuery(built, request.query)
        if (request.bytes !== undefined) {
          built = HttpClientRequest.bodyUint8Array(built, request.bytes.data, request.bytes.contentType)
        } else if (request.body !== undefined) {
          const text = jsonText(request.body)
          if (Either.isLeft(text)) return yield* invalid("request body", text.left)
          const bytes = new TextEncoder().encode(text.right)
          if (bytes.length > config.gzipThresholdBytes) {
            const compressed = yield* gzip(bytes)
            built = HttpClientRequest.bodyUint8Array(built, compressed, "application/json").pipe(
              HttpClientRequest.setHeader("content-encoding", "gzip")
            )
          } else {
            built = HttpClientRequest.bodyUint8Array(built, bytes, "application/json")
          }
        }
        return {
          request: built,
          anonymous: request.anonymous === true,
          description: new RequestDescription({ method: request.method, path: url.pathname }),
          template,
          secrets: secretValues(request.body)
        }
      })

    // One span per attempt, with what is safe to show: never headers, query values or bodies.
    const attempt = (
      prepared: Prepared,
      request: HttpClientRequest.HttpClientRequest,
      timeoutMillis: number,
      n: number
    ) =>
      Effect.gen(function*() {
        const span = yield* Effect.option(Effect.currentSpan)
        const propagate = yield* FiberRef.get(HttpClient.currentTracerPropagation)
        const sent = propagate && Option.isSome(span)
          ? HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span.value))
          : request
        const outcome = yield* http.execute(sent).pipe(
          Effect.flatMap((response) =>
            Effect.map(response.arrayBuffer, (buffer): Outcome => ({
              _tag: "Response",
              status: response.status,
              headers: response.headers,
              body: new Uint8Array(buffer)
            }))
          ),
          Effect.catchAll((error) => Effect.succeed<Outcome>(classify(error))),
          Effect.timeoutTo({
            duration: Duration.millis(Math.max(0, timeoutMillis)),
            onTimeout: (): Outcome => ({
              _tag: "Failure",
              kind: "Timeout",
              description: `no complete answer within ${Math.round(timeoutMillis)} ms`
            }),
            onSuccess: (outcome) => outcome
          })
        )
        yield* Effect.annotateCurrentSpan(
          outcome._tag === "Response"
            ? { "http.response.status_code": outcome.status }
            : { "cdf.failure": outcome.kind }
        )
        return outcome
      }).pipe(
        Effect.withSpan(`http.client ${request.method}`, {
          kind: "client",
          attributes: {
            "http.request.method": request.method,
            "server.address": config.origin,
            "url.template": prepared.template,
            "url.path": prepared.description.path,
            "cdf.attempt": n
          }
        })
      )

    const apiFailure = (prepared: Prepared, received: Received, now: number): ApiError => {
      const text = utf8(received.body)
      const envelope = Schema.decodeUnknownOption(Schema.parseJson(ErrorEnvelope.ErrorEnvelope))(text)
      const requestId = received.headers["x-request-id"]
      const retryAfterMillis = Retry.parseRetryAfter(received.headers, now)
      return apiError({
        status: received.status,
        // A server may echo what it was sent: cut the request's own secrets out of what it says.
        message: scrub(
          Option.match(envelope, {
            onNone: () => text.trim().length > 0 ? redactSample(text.trim(), 300) : "",
            onSome: (body) => redactSample(body.message, 1000)
          }),
          prepared.secrets
        ),
        ...Option.match(envelope, {
          onNone: () => ({}),
          onSome: (body) => ({
            ...(body.code === undefined ? {} : { code: body.code }),
            missing: body.missing,
            duplicated: body.duplicated
          })
        }),
        request: prepared.description,
        ...(requestId === undefined ? {} : { requestId }),
        ...(retryAfterMillis === undefined
          ? {}
          : { retryAfterMillis: Retry.clampHint(retryAfterMillis, policy.maxRetryAfterMillis) })
      })
    }

    // Waiting for a token counts against the attempt timeout and the request's deadline.
    const withinDeadline = <A>(
      wait: Effect.Effect<A, AuthenticationFailed>,
      deadlineAt: number | undefined
    ): Effect.Effect<A, AuthenticationFailed> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const millis = Math.max(
          0,
          Math.min(attemptTimeoutMillis, deadlineAt === undefined ? Infinity : deadlineAt - now)
        )
        return Effect.timeoutFail(wait, {
          duration: Duration.millis(millis),
          onTimeout: () =>
            new AuthenticationFailed({
              description: `no token within ${Math.round(millis)} ms (the request's time limit)`
            })
        })
      })

    const send = (
      prepared: Prepared,
      safety: Retry.Safety,
      deadline: Duration.DurationInput | undefined
    ): Effect.Effect<
      Received & CdfRequest.Metadata,
      ApiError | TransportError | CallOutcomeUnknown | AuthenticationFailed
    > =>
      Effect.gen(function*() {
        const startedAt = yield* Clock.currentTimeMillis
        const deadlineAt = startedAt + Retry.toTimerMillis(deadline ?? config.deadline)
        let attempts = 0
        let retryDelayMillis = 0
        let lastRetryCost = 0
        let authRetried = false
        let refreshed: Redacted.Redacted<string> | undefined
        while (true) {
          const token = prepared.anonymous
            ? undefined
            : refreshed ?? (yield* withinDeadline(auth.token, deadlineAt))
          refreshed = undefined
          if (token !== undefined && !prepared.secrets.includes(Redacted.value(token))) {
            prepared.secrets.push(Redacted.value(token))
          }
          const sentAt = yield* Clock.currentTimeMillis
          const remaining = deadlineAt === undefined ? Infinity : deadlineAt - sentAt
          attempts++
          const outcome = yield* attempt(
            prepared,
            token === undefined ? prepared.request : HttpClientRequest.bearerToken(prepared.request, token),
            Math.min(attemptTimeoutMillis, remaining),
            attempts
          )
          const now = yield* Clock.currentTimeMillis
          yield* Effect.annotateCurrentSpan({ "cdf.attempts": attempts })

          let retryable: boolean
          let cost = policy.budget.retryCost
          let hint: number | undefined
          let failure: () => ApiError | TransportError | CallOutcomeUnknown
          if (outcome._tag === "Response") {
            yield* Effect.annotateCurrentSpan({ "http.response.status_code": outcome.status })
            if (outcome.status >= 200 && outcome.status < 300) {
              yield* budget.release(lastRetryCost > 0 ? lastRetryCost : policy.budget.successRefund)
              return { ...outcome, attempts, retryDelayMillis }
            }
            if (outcome.status === 401 && !authRetried && token !== undefined) {
              authRetried = true
              const fresh = yield* withinDeadline(auth.refresh(token), deadlineAt)
              if (Redacted.value(fresh) !== Redacted.value(token)) {
                refreshed = fresh
                continue
              }
            }
            const received = outcome
            const autoRetryable = received.headers["cdf-is-auto-retryable"]
            retryable = received.status === 429 ||
              (safety === "safe" &&
                (RETRY_STATUSES.has(received.status) ||
                  (autoRetryable !== undefined && autoRetryable.trim().toLowerCase() !== "false")))
            hint = Retry.parseRetryAfter(received.headers, now)
            failure = () => {
              const error = apiFailure(prepared, received, now)
              return safety === "unsafe" && received.status >= 500
                ? new CallOutcomeUnknown({
                  request: prepared.description,
                  sentAt,
                  reason: `HTTP ${received.status}${
                    error.requestId === undefined ? "" : ` (request id ${error.requestId})`
                  }: ${error.message}`
                })
                : error
            }
          } else {
            const { description, kind } = outcome
            retryable = kind === "ConnectFailed" || (safety === "safe" && kind !== "NotSent")
            if (kind === "Timeout") cost = policy.budget.timeoutRetryCost
            failure = () =>
              safety === "unsafe" && kind !== "ConnectFailed" && kind !== "NotSent"
                ? new CallOutcomeUnknown({
                  request: prepared.description,
                  sentAt,
                  reason: scrub(`${kind === "Other" ? "transport error" : kind}: ${description}`, prepared.secrets)
                })
                : new TransportError({
                  reason: kind === "NotSent" ? "Other" : kind,
                  request: prepared.description,
                  description: scrub(description, prepared.secrets)
                })
          }
          if (!retryable || attempts >= policy.maxAttempts) return yield* Effect.fail(failure())
          const delay = Retry.delayMillis(policy, attempts, yield* Random.next, hint)
          if (deadlineAt !== undefined && now + delay >= deadlineAt) return yield* Effect.fail(failure())
          if (!(yield* budget.acquire(cost))) return yield* Effect.fail(failure())
          yield* Effect.logDebug("CDF request will be retried").pipe(
            Effect.annotateLogs({
              operation: prepared.template,
              attempt: attempts,
              outcome: outcome._tag === "Response" ? `HTTP ${outcome.status}` : outcome.kind,
              delayMillis: delay
            })
          )
          yield* Effect.sleep(Duration.millis(delay))
          retryDelayMillis += delay
          lastRetryCost = cost
          yield* Effect.annotateCurrentSpan({ "cdf.retry_delay_ms": retryDelayMillis })
        }
      })

    const traced = <A, E>(
      request: CdfRequest.Request,
      f: (prepared: Prepared) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | InvalidInput | UntrustedUrl> =>
      prepare(request).pipe(
        Effect.tap((prepared) =>
          Effect.annotateCurrentSpan({
            "http.request.method": request.method,
            "url.template": prepared.template,
            "cdf.safety": request.safety
          })
        ),
        Effect.flatMap(f),
        guarded,
        Effect.withSpan(request.operation, { kind: "client" })
      )

    const executeRaw = (request: CdfRequest.Request) =>
      traced(request, (prepared) =>
        Effect.map(send(prepared, request.safety, request.deadline), (received): CdfRequest.RawResponse => ({
          status: received.status,
          headers: received.headers,
          body: received.body,
          requestId: received.headers["x-request-id"],
          attempts: received.attempts,
          retryDelayMillis: received.retryDelayMillis
        })))

    const executeWithMetadata = <A, I>(request: CdfRequest.JsonRequest<A, I>) =>
      traced(request, (prepared) =>
        send(prepared, request.safety, request.deadline).pipe(
          Effect.flatMap((received) =>
            Effect.map(
              decodeBody(request.schema, received.body, {
                subject: `${request.operation} response`,
                request: prepared.description,
                requestId: received.headers["x-request-id"]
              }).pipe(
                Effect.mapError((error) =>
                  new DecodeError({
                    ...error,
                    issue: scrub(error.issue, prepared.secrets),
                    sample: scrub(error.sample, prepared.secrets)
                  })
                )
              ),
              (value): CdfRequest.WithMetadata<A> => ({
                value,
                attempts: received.attempts,
                retryDelayMillis: received.retryDelayMillis
              })
            )
          )
        ))

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
          return invalid("paginated request", "the body must be a JSON object to carry a cursor")
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

/**
 * Decodes a JSON body with `schema`: an empty body decodes as `undefined`, and a failure is a `DecodeError`
 * with a short, redacted sample.
 */
export const decodeBody = <A, I>(
  schema: Schema.Schema<A, I, never>,
  body: Uint8Array,
  context: {
    readonly subject: string
    readonly request?: RequestDescription | undefined
    readonly requestId?: string | undefined
  }
): Effect.Effect<A, DecodeError> => {
  const text = utf8(body)
  let json: unknown = undefined
  if (text.trim().length > 0) {
    try {
      json = JSON.parse(text)
    } catch {
      return Effect.fail(
        new DecodeError({
          subject: context.subject,
          issue: "the body is not JSON",
          sample: redactSample(text),
          ...(context.request === undefined ? {} : { request: context.request }),
          ...(context.requestId === undefined ? {} : { requestId: context.requestId })
        })
      )
    }
  }
  return Schema.decodeUnknown(schema)(json).pipe(
    Effect.mapError((error) => decodeError(context.subject, error, json, context))
  )
}

const resolveOrDie = (options: CdfConfig.Options) =>
  Either.match(CdfConfig.resolve(options), {
    onLeft: ({ issue, setting }) => Effect.die(new InvalidInput({ subject: `CdfClient option ${setting}`, issue })),
    onRight: Effect.succeed
  })

/** A client from options; invalid options are a defect (a programming mistake), named in the message. */
export const make = (
  options: CdfConfig.Options
): Effect.Effect<CdfClient.Service, never, Auth | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const config = yield* resolveOrDie(options)
    const auth = yield* Auth
    const http = yield* HttpClient.HttpClient
    return yield* makeWith(config, auth, http)
  })

/** The client as a layer. */
export const layer = (options: CdfConfig.Options): Layer.Layer<CdfClient, never, Auth | HttpClient.HttpClient> =>
  Layer.effect(CdfClient, make(options))

/** The client from a `Config` of options (by default `CdfConfig.fromEnv`). */
export const layerConfig = (
  config: Config.Config<CdfConfig.Options> = CdfConfig.fromEnv
): Layer.Layer<CdfClient, ConfigError.ConfigError, Auth | HttpClient.HttpClient> =>
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
export const layerFromEnv: Layer.Layer<CdfClient | Auth, ConfigError.ConfigError, HttpClient.HttpClient> = Layer
  .unwrapEffect(
    Effect.map(
      Config.all([CdfConfig.fromEnv, AuthModule.fromEnv]),
      ([options, auth]) =>
        layer(options).pipe(Layer.provideMerge(AuthModule.layerFromSettings(auth, options.baseUrl ?? "")))
    )
  )
