/**
 * The HTTP front of the emulator: request ids, gzip bodies, bearer auth, the project check, fault
 * injection, the error envelope, the OAuth2 token endpoint and the admin API under `/__emulator`.
 *
 * @since 0.1.0
 */
import type { HttpApp } from "@effect/platform"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Either, Redacted, Schema } from "effect"
import { type FaultAction, FaultPlan, Faults } from "./Faults.js"
import { Connection } from "./internal/connection.js"
import {
  ApiFailure,
  decodeBody,
  decodeContent,
  envelopeText,
  failureResponse,
  jsonResponse,
  notFound,
  RawBody,
  unauthorized
} from "./internal/http.js"
import { randomToken } from "./internal/ids.js"
import { Scheduler } from "./Scheduler.js"
import { State } from "./State.js"
import { Tokens } from "./Tokens.js"

/** The path prefix of the admin API. */
export const ADMIN_PREFIX = "/__emulator"

/** What the front needs. */
export interface ServerOptions {
  readonly project: string
  /** The largest request body accepted, in bytes (after gzip is undone). */
  readonly maxBodyBytes: number
}

const AdvanceRequest = Schema.Struct({ millis: Schema.Int.pipe(Schema.nonNegative()) })

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

/**
 * Applies a post-processing fault to a response that was produced by really handling the request: the
 * connection dies (the client cannot know what happened), the body is cut short, or it is not JSON.
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
      default:
        return response
    }
  })

/** Builds the whole HTTP app around the router of the project API. */
export const make = <E, R>(options: ServerOptions, router: HttpApp.Default<E, R>) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const tokens = yield* Tokens
    const faults = yield* Faults
    const scheduler = yield* Scheduler
    const projectPrefix = `/api/v1/projects/${encodeURIComponent(options.project)}`

    const readBody = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function*() {
        if (bodyless.has(request.method)) return new Uint8Array()
        const buffer = yield* request.arrayBuffer.pipe(
          Effect.mapError(() =>
            new ApiFailure({
              status: 413,
              message: `The request body could not be read or is over ${options.maxBodyBytes} bytes`
            })
          )
        )
        const decoded = decodeContent(new Uint8Array(buffer), request.headers["content-encoding"], options.maxBodyBytes)
        return Either.isLeft(decoded) ? yield* Effect.fail(decoded.left) : decoded.right
      })

    const requireToken = (request: HttpServerRequest.HttpServerRequest, devOnly: boolean) =>
      Effect.gen(function*() {
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
        if (path === "/health" && request.method === "GET") {
          return jsonResponse({ status: "ok", project: options.project })
        }
        yield* requireToken(request, true)
        const route = `${request.method} ${path}`
        switch (route) {
          case "GET /faults": {
            const stats = yield* faults.stats
            return jsonResponse({
              seed: yield* faults.seed,
              rules: stats.map((s) => ({
                ...Schema.encodeSync(FaultPlan)({ seed: 0, rules: [s.rule] }).rules[0],
                matched: s.matched,
                fired: s.fired
              }))
            })
          }
          case "POST /faults":
          case "PUT /faults": {
            const plan = yield* decodeBody(FaultPlan)
            yield* faults.set(plan)
            return jsonResponse(Schema.encodeSync(FaultPlan)(plan))
          }
          case "DELETE /faults": {
            yield* faults.clear
            return jsonResponse({})
          }
          case "GET /counters": {
            const executions = [...store.executions.entries()].map(([functionId, count]) => {
              const xid = store.functions.get(functionId)?.fn.externalId
              return { functionId, ...(xid === undefined ? {} : { externalId: xid }), executions: count }
            })
            let running = 0
            for (const c of store.calls.values()) if (c.call.status === "Running") running++
            return jsonResponse({
              executions,
              totalExecutions: executions.reduce((n, e) => n + e.executions, 0),
              calls: store.calls.size,
              running
            })
          }
          case "POST /advance": {
            const { millis } = yield* decodeBody(AdvanceRequest)
            yield* scheduler.advance(millis)
            return jsonResponse({ now: yield* now })
          }
          case "GET /clock":
            return jsonResponse({ now: yield* now, offsetMillis: store.offsetMillis })
          default:
            return yield* Effect.fail(notFound(`No admin endpoint ${route}`))
        }
      })

    const oauthToken = Effect.gen(function*() {
      const bytes = yield* RawBody
      const form = new URLSearchParams(new TextDecoder().decode(bytes))
      return yield* tokens.issue(form).pipe(
        Effect.map((issued) =>
          jsonResponse({
            access_token: Redacted.value(issued.accessToken),
            token_type: "Bearer",
            expires_in: issued.expiresIn
          })
        ),
        Effect.catchAll((problem) =>
          Effect.succeed(
            jsonResponse(
              { error: problem.error, error_description: problem.description },
              problem.error === "invalid_client" ? 401 : 400
            )
          )
        )
      )
    })

    const project = (request: HttpServerRequest.HttpServerRequest, relative: string) =>
      Effect.gen(function*() {
        const isUpload = request.method === "PUT" && /^\/files\/upload\/[^/]+$/.test(relative)
        if (!isUpload) yield* requireToken(request, false)
        const decision = yield* faults.decide(request.method, relative)
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
        const response = yield* router.pipe(
          Effect.catchAllCause((cause) => {
            // The client went away or the emulator is stopping: not an error of the request.
            if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
            const failure = Cause.failureOption(cause)
            if (failure._tag === "Some" && failure.value instanceof ApiFailure) {
              return Effect.succeed(failureResponse(failure.value))
            }
            if (failure._tag === "Some" && isRouteNotFound(failure.value)) {
              return Effect.succeed(failureResponse(notFound(`No endpoint ${request.method} ${relative}`)))
            }
            return Effect.logError("emulator request failed", cause).pipe(
              Effect.as(failureResponse(new ApiFailure({ status: 500, message: "Internal emulator error" })))
            )
          })
        )
        return yield* afterFault(action, response)
      })

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const requestId = randomToken(8)
      const pathname = new URL(request.url, "http://emulator").pathname
      const response = yield* Effect.gen(function*() {
        const body = yield* readBody(request)
        const withBody = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) => Effect.provideService(effect, RawBody, body)
        if (pathname === ADMIN_PREFIX || pathname.startsWith(`${ADMIN_PREFIX}/`)) {
          return yield* withBody(admin(request, pathname.slice(ADMIN_PREFIX.length) || "/"))
        }
        if (pathname === "/oauth2/token" && request.method === "POST") return yield* withBody(oauthToken)
        const match = /^\/api\/v1\/projects\/([^/]+)(\/.*)?$/.exec(pathname)
        if (match === null) return yield* Effect.fail(notFound(`No endpoint ${request.method} ${pathname}`))
        if (`/api/v1/projects/${match[1]}` !== projectPrefix) {
          return yield* Effect.fail(
            new ApiFailure({
              status: 403,
              message: `Unknown project or no access: ${decodeURIComponent(match[1] ?? "")}`
            })
          )
        }
        return yield* withBody(project(request, match[2] ?? "/"))
      }).pipe(Effect.catchAll((failure) => Effect.succeed(failureResponse(failure))))
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    })
    return app
  })

const isRouteNotFound = (u: unknown): boolean =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "RouteNotFound"

/** The JSON text of an error envelope (re-exported for tests and tools). */
export const errorEnvelopeText = (status: number, message: string) => envelopeText(new ApiFailure({ status, message }))
