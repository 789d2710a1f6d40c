/**
 * The HTTP front of the emulator: request ids, bearer auth and the project check before any body is
 * read, bodies streamed with a cap (and gunzipped with a cap), fault injection, the error envelope, the
 * OAuth2 token endpoint, the admin API under `/__emulator`, and every change made durable before the
 * answer.
 *
 * @since 0.1.0
 */
import { OAuth } from "@effect-cdf/core"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Either, Redacted } from "effect"
import { type FaultAction, Faults } from "./Faults.js"
import { Connection, tooLarge } from "./internal/connection.js"
import {
  ApiFailure,
  decodeContent,
  encoded,
  envelopeText,
  failureResponse,
  jsonResponse,
  notFound,
  RawBody,
  unauthorized
} from "./internal/http.js"
import { randomToken } from "./internal/ids.js"
import { Persistence } from "./Persistence.js"
import * as Routes from "./Routes.js"
import * as Admin from "./routes/Admin.js"
import { Tokens } from "./Tokens.js"

/** The path prefix of the admin API. */
export const ADMIN_PREFIX = Admin.PREFIX

/** What the front needs. */
export interface ServerOptions {
  readonly project: string
  /** The largest request body accepted, in bytes (before and after gzip is undone). */
  readonly maxBodyBytes: number
}

/** The largest body of a token request. */
const MAX_TOKEN_REQUEST_BYTES = 64 * 1024

const bodyless = new Set(["GET", "HEAD", "DELETE", "OPTIONS"])

const bearer = (header: string | undefined): string | undefined => {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "")
  return match?.[1]?.trim()
}

const faultResponse = (action: Exclude<FaultAction, { readonly _tag: "latency" }>) =>
  action._tag === "status"
    ? failureResponse(
      new ApiFailure({
        status: action.status,
        message: action.message ?? `Injected fault: ${action.status}`,
        headers: {
          ...(action.retryAfterSeconds === undefined ? {} : { "retry-after": String(action.retryAfterSeconds) }),
          ...(action.autoRetryable === true ? { "cdf-is-auto-retryable": "true" } : {})
        }
      })
    )
    : undefined

/** A call's `error` object as its message string, in a call or in each of `items`. */
const stringErrors = (body: unknown): unknown => {
  const rewrite = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null || !("error" in value)) return value
    const error = value.error
    return typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
      ? { ...value, error: error.message }
      : value
  }
  if (typeof body === "object" && body !== null && "items" in body && Array.isArray(body.items)) {
    return { ...body, items: body.items.map(rewrite) }
  }
  return rewrite(body)
}

/**
 * Applies a post-processing fault to a response that was produced by really handling the request: the
 * connection dies (the client cannot know what happened), the body is cut short or is not JSON, the
 * answer is held back, or call errors take their string form.
 */
const afterFault = (action: FaultAction | undefined, response: HttpServerResponse.HttpServerResponse) =>
  Effect.gen(function*() {
    if (action === undefined) return response
    const connection = yield* Connection
    switch (action._tag) {
      case "resetAfter": {
        yield* connection.reset
        return response
      }
      case "truncate":
        // Announce the whole length, send half, then close: the client sees a premature end of body.
        return connection.truncate(response)
      case "malformed":
        return HttpServerResponse.text("<html><body>502 Bad Gateway: upstream sent garbage {\"items\": [", {
          status: response.status,
          contentType: "application/json",
          headers: response.headers
        })
      case "delayAfter":
        yield* Effect.sleep(action.millis)
        return response
      case "stringError": {
        if (response.body._tag !== "Uint8Array") return response
        const json: unknown = JSON.parse(new TextDecoder().decode(response.body.body))
        return jsonResponse(stringErrors(json), response.status, response.headers)
      }
      default:
        return response
    }
  })

const isRouteNotFound = (u: unknown): boolean =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "RouteNotFound"

/** A router's failures as responses: API failures as their envelope, anything else a logged 500. */
const answerFailures = (method: string, path: string) =>
<A, R>(
  effect: Effect.Effect<HttpServerResponse.HttpServerResponse, A, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.catchAllCause(effect, (cause) => {
    // The client went away or the emulator is stopping: not an error of the request.
    if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
    const failure = Cause.failureOption(cause)
    if (failure._tag === "Some" && failure.value instanceof ApiFailure) {
      return Effect.succeed(failureResponse(failure.value))
    }
    if (failure._tag === "Some" && isRouteNotFound(failure.value)) {
      return Effect.succeed(failureResponse(notFound(`No endpoint ${method} ${path}`)))
    }
    return Effect.logError("emulator request failed", cause).pipe(
      Effect.as(failureResponse(new ApiFailure({ status: 500, message: "Internal emulator error" })))
    )
  })

/** Runs `app` on the request with its URL made relative to `path` and with its body. */
const relativeTo = <E, R>(
  request: HttpServerRequest.HttpServerRequest,
  path: string,
  body: Uint8Array,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
) => {
  const search = request.url.indexOf("?")
  const url = search === -1 ? path : path + request.url.slice(search)
  return app.pipe(
    Effect.provideService(HttpServerRequest.HttpServerRequest, request.modify({ url })),
    Effect.provideService(RawBody, body)
  )
}

/** Builds the whole HTTP app: the front around the project API and the admin API. */
export const make = (options: ServerOptions) =>
  Effect.gen(function*() {
    const projectApi = yield* HttpRouter.toHttpApp(yield* Routes.make)
    const adminApi = yield* HttpRouter.toHttpApp(Admin.router)
    const projectPrefix = `/api/v1/projects/${encodeURIComponent(options.project)}`

    /** The body, read only now that the request is known to be allowed, capped before and after gzip. */
    const readBody = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) =>
      Effect.gen(function*() {
        if (bodyless.has(request.method)) return new Uint8Array()
        const declared = Number(request.headers["content-length"] ?? "0")
        if (Number.isFinite(declared) && declared > maxBytes) return yield* Effect.fail(tooLarge(maxBytes))
        const raw = yield* Effect.flatMap(Connection, (connection) => connection.readBody(maxBytes))
        const decoded = decodeContent(raw, request.headers["content-encoding"], maxBytes)
        return Either.isLeft(decoded) ? yield* Effect.fail(decoded.left) : decoded.right
      })

    const requireToken = (request: HttpServerRequest.HttpServerRequest, devOnly: boolean) =>
      Effect.gen(function*() {
        const tokens = yield* Tokens
        const token = bearer(request.headers["authorization"])
        if (token === undefined) {
          return yield* Effect.fail(unauthorized("Missing bearer token: send Authorization: Bearer <token>"))
        }
        const ok = devOnly ? token === Redacted.value(tokens.devToken) : yield* tokens.isValid(token)
        if (!ok) {
          return yield* Effect.fail(
            unauthorized(devOnly ? "The admin API needs the dev token" : "Invalid or expired token")
          )
        }
      })

    const admin = (request: HttpServerRequest.HttpServerRequest, path: string) =>
      Effect.gen(function*() {
        if (!(path === "/health" && request.method === "GET")) yield* requireToken(request, true)
        const body = yield* readBody(request, options.maxBodyBytes)
        return yield* answerFailures(request.method, `${ADMIN_PREFIX}${path}`)(
          relativeTo(request, path, body, adminApi)
        )
      })

    const oauthToken = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function*() {
        const tokens = yield* Tokens
        const bytes = yield* readBody(request, MAX_TOKEN_REQUEST_BYTES)
        const form = new URLSearchParams(new TextDecoder().decode(bytes))
        return yield* tokens.issue(form).pipe(
          Effect.map((issued) => encoded(OAuth.TokenResponse, issued)),
          Effect.catchAll((problem) =>
            Effect.succeed(
              encoded(
                OAuth.ErrorResponse,
                { error: problem.error, error_description: problem.description },
                problem.error === "invalid_client" ? 401 : 400
              )
            )
          )
        )
      })

    const project = (request: HttpServerRequest.HttpServerRequest, relative: string) =>
      Effect.gen(function*() {
        if (Routes.isUpload(request.method, relative)) {
          yield* Routes.authorizeUpload(relative, new URL(request.url, "http://emulator").searchParams)
        } else yield* requireToken(request, false)
        const body = yield* readBody(request, options.maxBodyBytes)
        const decision = yield* Effect.flatMap(Faults, (faults) => faults.decide(request.method, relative))
        if (decision.latencyMillis > 0) yield* Effect.sleep(decision.latencyMillis)
        const action = decision.action
        if (action !== undefined) {
          if (action._tag === "resetBefore") {
            yield* Effect.flatMap(Connection, (connection) => connection.reset)
            return HttpServerResponse.empty()
          }
          const injected = faultResponse(action)
          if (injected !== undefined) return injected
        }
        const response = yield* answerFailures(request.method, relative)(
          relativeTo(request, Routes.routedPath(relative), body, projectApi)
        )
        // Durable before any answer, a held or a cut one included.
        yield* Effect.flatMap(Persistence, (persistence) => persistence.flush)
        return yield* afterFault(action, response)
      })

    const route = (request: HttpServerRequest.HttpServerRequest, pathname: string) => {
      if (pathname === ADMIN_PREFIX || pathname.startsWith(`${ADMIN_PREFIX}/`)) {
        return admin(request, pathname.slice(ADMIN_PREFIX.length) || "/")
      }
      if (pathname === "/oauth2/token" && request.method === "POST") return oauthToken(request)
      const match = /^\/api\/v1\/projects\/([^/]+)(\/.*)?$/.exec(pathname)
      if (match === null) return Effect.fail(notFound(`No endpoint ${request.method} ${pathname}`))
      if (`/api/v1/projects/${match[1]}` !== projectPrefix) {
        return Effect.fail(
          new ApiFailure({
            status: 403,
            message: `Unknown project or no access: ${decodeURIComponent(match[1] ?? "")}`
          })
        )
      }
      return project(request, match[2] ?? "/")
    }

    return Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const persistence = yield* Persistence
      const pathname = new URL(request.url, "http://emulator").pathname
      const response = yield* route(request, pathname).pipe(
        // What the request changed is durable before it is answered.
        Effect.tap(() => persistence.flush),
        Effect.catchAll((failure) =>
          Effect.succeed(failureResponse(
            failure instanceof ApiFailure
              ? failure
              : new ApiFailure({
                status: 500,
                message: `The emulator could not persist the change: ${failure.message}`
              })
          ))
        )
      )
      return HttpServerResponse.setHeader(response, "x-request-id", randomToken(8))
    })
  })

/** The JSON text of an error envelope (re-exported for tests and tools). */
export const errorEnvelopeText = (status: number, message: string) => envelopeText(new ApiFailure({ status, message }))
