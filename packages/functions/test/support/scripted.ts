/**
 * A scripted CDF for the calls tests: a fake `HttpClient` that routes requests to handlers, records every
 * request, and the services over it. Time is the `TestClock`'s; `drive` runs an effect to its end by jumping
 * to each pending sleep.
 */
import { Auth, CdfClient } from "@effect-cdf/http"
import * as TestClockDriver from "@effect-cdf/http/TestClockDriver"
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Layer, Redacted } from "effect"
import { gunzipSync } from "node:zlib"
import * as Calls from "../../src/Calls.js"
import * as FunctionApps from "../../src/FunctionApps.js"
import * as Sessions from "../../src/Sessions.js"

/** A request as the fake saw it. */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly at: number
}

/** An answer: JSON with a status, a transport failure (by error code), or never. */
export type Reply =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly transport: string }
  | { readonly hang: true }

/** The project prefix every path starts with. */
export const PREFIX = "/api/v1/projects/p"
export const BASE_URL = "https://test.cognitedata.com"
export const TOKEN = "canary-token-77aa"
export const NONCE = "canary-nonce-51bf"

export const limits = {
  timeoutMinutes: 9,
  cpuCores: { min: 1, max: 1, default: 1 },
  memoryGb: { min: 1.5, max: 1.5, default: 1.5 },
  runtimes: ["py311"],
  responseSizeMb: 1
}

export const callBody = (id: number, status: string, extra: Record<string, unknown> = {}) => ({
  id,
  functionId: 7,
  status,
  startTime: 1_000,
  ...extra
})

/**
 * A fake whose `route` answers each request (path without the project prefix); unanswered requests get
 * 404. The common endpoints (sessions, limits) answer by default.
 */
export const scripted = (route: (seen: Seen) => Reply | Effect.Effect<Reply> | undefined) =>
  Effect.gen(function*() {
    const requests: Array<Seen> = []
    const client = HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const raw = request.body._tag === "Uint8Array" ? request.body.body : undefined
        const text = raw === undefined
          ? undefined
          : new TextDecoder().decode(request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw)
        const seen: Seen = {
          method: request.method,
          path: url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname,
          url: new URL(url.href),
          headers: { ...request.headers },
          body: text === undefined || text.length === 0 ? undefined : JSON.parse(text),
          at: yield* Clock.currentTimeMillis
        }
        requests.push(seen)
        const out = route(seen) ?? defaults(seen)
        const reply = Effect.isEffect(out) ? yield* out : out
        if ("hang" in reply) return yield* Effect.never
        if ("transport" in reply) {
          const cause = new TypeError("fetch failed", {
            cause: Object.assign(new Error(`simulated ${reply.transport}`), { code: reply.transport })
          })
          return yield* Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
        }
        return HttpClientResponse.fromWeb(
          request,
          new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
            status: reply.status,
            headers: { "content-type": "application/json", ...reply.headers }
          })
        )
      })
    )
    const cdf = CdfClient.layer({ baseUrl: BASE_URL, project: "p", attemptTimeout: "1 hour" }).pipe(
      Layer.provide(Auth.layerToken(Redacted.make(TOKEN))),
      Layer.provide(Layer.succeed(HttpClient.HttpClient, client))
    )
    const sessions = Sessions.layer().pipe(Layer.provide(cdf))
    const services = Layer.mergeAll(Calls.layer, FunctionApps.layer).pipe(
      Layer.provideMerge(sessions),
      Layer.provideMerge(cdf)
    )
    const context = yield* Layer.build(services)
    return { requests, context, to: (path: string) => requests.filter((r) => r.path === path) }
  })

const defaults = (seen: Seen): Reply => {
  if (seen.path === "/sessions") {
    return { status: 200, body: { items: [{ id: 99, status: "READY", nonce: NONCE, type: "TOKEN_EXCHANGE" }] } }
  }
  if (seen.path === "/functions/limits") return { status: 200, body: limits }
  return { status: 404, body: { error: { code: 404, message: `no route ${seen.method} ${seen.path}` } } }
}

/** Runs `effect` to its end under the TestClock, jumping to each pending sleep up to an hour ahead. */
export const drive = <A, E, R>(effect: Effect.Effect<A, E, R>) => TestClockDriver.drive(effect, 3_600_000)

/** Moves the TestClock forward by `millis`, stopping at each pending sleep and letting real promises settle. */
export const advance = TestClockDriver.advance

/**
 * A function 7 whose call 100 is created Running; its n-th poll (from 1) answers `poll(n)`; its response is
 * `response`.
 */
export const scriptCall = (poll: (n: number) => Reply, response: unknown = 1) => {
  let polls = 0
  return (seen: Seen): Reply | undefined => {
    if (seen.method === "POST" && seen.path === "/functions/7/call") {
      return { status: 201, body: callBody(100, "Running") }
    }
    if (seen.path === "/functions/7/calls/100") return poll(++polls)
    if (seen.path === "/functions/7/calls/100/response") {
      return { status: 200, body: { callId: 100, functionId: 7, response } }
    }
    return undefined
  }
}
