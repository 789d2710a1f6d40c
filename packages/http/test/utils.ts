import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import { gunzipSync } from "node:zlib"
import { Auth, CdfClient } from "../src/index.js"
import type { CdfConfig, CdfRequest } from "../src/index.js"

/** A request as the fake transport saw it. */
export interface Seen {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The body as text, gunzipped when it was compressed. */
  readonly body: string | undefined
  readonly at: number
}

/** How the fake transport answers one attempt. */
export type Reply =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly transport: string }
  | { readonly hang: true }
  | { readonly brokenBody: number }

const errorWithCode = (code: string): Error => Object.assign(new Error(`simulated ${code}`), { code })

/** A fake `HttpClient` answering with `handler`, recording every request. */
export const makeFake = (handler: (seen: Seen, index: number) => Reply | Effect.Effect<Reply>) =>
  Effect.sync(() => {
    const requests: Array<Seen> = []
    const client = HttpClient.make((request, url) =>
      Effect.gen(function*() {
        let raw: Uint8Array | undefined
        if (request.body._tag === "Uint8Array") raw = request.body.body
        const gz = request.headers["content-encoding"] === "gzip"
        const body = raw === undefined
          ? undefined
          : new TextDecoder().decode(gz ? gunzipSync(raw) : raw)
        const seen: Seen = {
          method: request.method,
          url: new URL(url.href),
          headers: { ...request.headers },
          body,
          at: yield* Clock.currentTimeMillis
        }
        requests.push(seen)
        const out = handler(seen, requests.length - 1)
        const reply = Effect.isEffect(out) ? yield* out : out
        if ("hang" in reply) return yield* Effect.never
        if ("transport" in reply) {
          const cause = reply.transport === "ECONNREFUSED-aggregate"
            ? Object.assign(new AggregateError([errorWithCode("ECONNREFUSED"), errorWithCode("ECONNREFUSED")]), {
              code: "ECONNREFUSED"
            })
            : new TypeError("fetch failed", { cause: errorWithCode(reply.transport) })
          return yield* Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
        }
        if ("brokenBody" in reply) {
          const stream = new ReadableStream({
            start(controller) {
              controller.error(errorWithCode("ECONNRESET"))
            }
          })
          return HttpClientResponse.fromWeb(request, new Response(stream, { status: reply.brokenBody }))
        }
        const text = reply.body === undefined
          ? null
          : typeof reply.body === "string"
          ? reply.body
          : JSON.stringify(reply.body)
        return HttpClientResponse.fromWeb(
          request,
          new Response(reply.status === 204 ? null : text, { status: reply.status, headers: reply.headers ?? {} })
        )
      })
    )
    return { client, requests }
  })

/** The options of the clients under test: a long attempt timeout unless a test is about timeouts. */
export const testOptions: CdfConfig.Options = {
  baseUrl: "https://test.cognitedata.com",
  project: "my-project",
  appName: "http-tests",
  attemptTimeout: "1 hour"
}

/** The token of the static-auth clients under test. */
export const TOKEN = "canary-token-5f2b9a"

/** A client over a fake transport (static token by default), alive for the test's scope. */
export const clientOver = (
  client: HttpClient.HttpClient,
  options: Partial<CdfConfig.Options> = {},
  auth: Layer.Layer<Auth.Auth> = Auth.layerToken(Redacted.make(TOKEN))
) =>
  Layer.build(
    CdfClient.layer({ ...testOptions, ...options }).pipe(
      Layer.provide(auth),
      Layer.provide(Layer.succeed(HttpClient.HttpClient, client))
    )
  ).pipe(Effect.map(Context.get(CdfClient.CdfClient)))

/** The TestClock drivers the tests use (the same ones users get). */
export { advance, drive } from "../src/TestClockDriver.js"

/** The resource the request tests read. */
const Thing = Schema.Struct({ id: Schema.Number, name: Schema.String })

/** A safe GET of a thing. */
export const get = (path: string | CdfRequest.Path = "/things/1") => ({
  operation: "cdf.Things.get",
  method: "GET" as const,
  path,
  safety: "safe" as const,
  schema: Thing
})

/** An unsafe create: never re-sent once the server may have it. */
export const create = (body: unknown = { items: [{ name: "x" }] }) => ({
  operation: "cdf.Things.create",
  method: "POST" as const,
  path: "/things",
  body,
  safety: "unsafe" as const,
  schema: Schema.Unknown
})

/** A thing, answered. */
export const ok: Reply = { status: 200, body: { id: 1, name: "one" } }

/** A fake handler answering `replies` in order, then `last`. */
export const count = (replies: ReadonlyArray<Reply>, last: Reply = ok) => (_: unknown, i: number) => replies[i] ?? last
