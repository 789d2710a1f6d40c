import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, type Duration, Effect, Fiber, Layer, Redacted, Schema, Stream } from "effect"
import { gunzipSync } from "node:zlib"
import { Auth, CdfClient } from "../src/index.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import { freePort, serve } from "./loopback.js"

/** The platform client over a fresh agent, closed with the test's scope. */
const platformClient = Effect.map(Layer.build(UndiciHttpClient.layer), Context.get(HttpClient.HttpClient))

const call = JSON.stringify({ id: 7, status: "Completed" })

const cdfOver = (
  port: number,
  options: Partial<{ attemptTimeout: Duration.DurationInput; maxAttempts: number }> = {}
) =>
  Layer.build(
    CdfClient.layer({
      baseUrl: `http://127.0.0.1:${port}`,
      project: "loop",
      attemptTimeout: options.attemptTimeout ?? "1 hour",
      retry: { maxAttempts: options.maxAttempts ?? 5 }
    }).pipe(Layer.provide(Auth.layerToken(Redacted.make("canary-undici-token"))), Layer.provide(UndiciHttpClient.layer))
  ).pipe(Effect.map(Context.get(CdfClient.CdfClient)))

const get = {
  operation: "cdf.Calls.retrieve",
  method: "GET" as const,
  path: "/functions/1/calls/7",
  safety: "safe" as const,
  schema: Schema.Struct({ id: Schema.Number, status: Schema.String })
}

describe("UndiciHttpClient", () => {
  it.scoped("CdfClient over it sends the CDF headers and a gzip body, and decodes the answer", () =>
    Effect.gen(function*() {
      const s = yield* serve((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(call))
      const client = yield* cdfOver(s.port)
      assert.deepStrictEqual(yield* client.execute(get), { id: 7, status: "Completed" })
      const body = { items: Array.from({ length: 100 }, (_, i) => ({ externalId: `x-${i}` })) }
      yield* client.execute({ ...get, method: "POST", path: "/functions/1/calls/list", body })
      const [first, second] = s.seen
      assert.strictEqual(first.url, "/api/v1/projects/loop/functions/1/calls/7")
      assert.strictEqual(first.headers.authorization, "Bearer canary-undici-token")
      assert.strictEqual(first.headers["x-cdp-sdk"], "effect-cdf:0.1.0")
      assert.strictEqual(second.headers["content-encoding"], "gzip")
      assert.strictEqual(second.headers["content-type"], "application/json")
      assert.strictEqual(Number(second.headers["content-length"]), second.body.length)
      assert.deepStrictEqual(JSON.parse(gunzipSync(second.body).toString("utf8")), body)
    }))

  it.scopedLive("its own timer ends an attempt that gets no answer, and the connection is closed", () =>
    Effect.gen(function*() {
      const s = yield* serve(() => undefined)
      const client = yield* cdfOver(s.port, { attemptTimeout: "200 millis", maxAttempts: 1 })
      const started = Date.now()
      const error = yield* Effect.flip(client.execute(get))
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
      assert.isAtLeast(Date.now() - started, 190)
      assert.isBelow(Date.now() - started, 2_000)
      yield* Effect.sleep("50 millis")
      assert.deepStrictEqual(s.closed, [s.seen[0].url])
    }))

  it.scopedLive("the time limit covers the body: a body that stalls halfway is a Timeout", () =>
    Effect.gen(function*() {
      const s = yield* serve((_, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
        res.write("{\"id\": 7, ")
      })
      const client = yield* cdfOver(s.port, { attemptTimeout: "200 millis", maxAttempts: 1 })
      const error = yield* Effect.flip(client.execute(get))
      assert.isTrue(error._tag === "TransportError" && error.reason === "Timeout", String(error))
    }))

  it.scopedLive("an unsafe request timed out by its timer is CallOutcomeUnknown, never re-sent", () =>
    Effect.gen(function*() {
      const s = yield* serve(() => undefined)
      const client = yield* cdfOver(s.port, { attemptTimeout: "150 millis" })
      const error = yield* Effect.flip(client.execute({ ...get, method: "POST", body: {}, safety: "unsafe" }))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual(s.seen.length, 1)
    }))

  it.scopedLive("interrupting a request aborts it on the wire", () =>
    Effect.gen(function*() {
      const s = yield* serve(() => undefined)
      const client = yield* cdfOver(s.port)
      const fiber = yield* Effect.fork(client.execute(get))
      while (s.seen.length === 0) yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(fiber)
      yield* Effect.sleep("50 millis")
      assert.deepStrictEqual(s.closed, [s.seen[0].url])
    }))

  it.scoped("connection refused is a connect failure: an unsafe request may be retried", () =>
    Effect.gen(function*() {
      const client = yield* cdfOver(yield* freePort, { maxAttempts: 1 })
      const error = yield* Effect.flip(client.execute({ ...get, method: "POST", body: {}, safety: "unsafe" }))
      assert.isTrue(error._tag === "TransportError" && error.reason === "ConnectFailed", String(error))
    }))

  it.scoped("it is a full HttpClient: text and json read the same body, stream streams, FormData is encoded", () =>
    Effect.gen(function*() {
      const s = yield* serve((seen, res) =>
        seen.method === "POST"
          ? res.writeHead(200).end(String(seen.headers["content-type"]).split(";")[0] + " " + seen.body.length)
          : res.writeHead(200, { "set-cookie": "a=1" }).end(call)
      )
      const client = yield* platformClient
      const response = yield* client.get(`http://127.0.0.1:${s.port}/x`)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(yield* response.text, call)
      assert.deepStrictEqual(yield* response.json, { id: 7, status: "Completed" })
      assert.strictEqual(response.cookies.cookies.a?.value, "1")
      const streamed = yield* client.get(`http://127.0.0.1:${s.port}/y`).pipe(
        Effect.flatMap((r) => Stream.runCollect(r.stream))
      )
      assert.strictEqual(Buffer.concat(Chunk.toReadonlyArray(streamed)).toString("utf8"), call)
      const form = new FormData()
      form.set("name", "value")
      const posted = yield* client.execute(
        HttpClientRequest.post(`http://127.0.0.1:${s.port}/form`).pipe(HttpClientRequest.bodyFormData(form))
      )
      assert.match(yield* posted.text, /^multipart\/form-data \d+$/)
    }))

  it.scoped("a client derived from it (mapRequest) still works through CdfClient", () =>
    Effect.gen(function*() {
      const s = yield* serve((_, res) => res.writeHead(200).end(call))
      const base = yield* platformClient
      const derived = HttpClient.mapRequest(base, HttpClientRequest.setHeader("x-extra", "1"))
      const client = yield* Layer.build(
        CdfClient.layer({ baseUrl: `http://127.0.0.1:${s.port}`, project: "loop" }).pipe(
          Layer.provide(Auth.layerToken(Redacted.make("t"))),
          Layer.provide(Layer.succeed(HttpClient.HttpClient, derived))
        )
      ).pipe(Effect.map(Context.get(CdfClient.CdfClient)))
      yield* client.execute(get)
      assert.strictEqual(s.seen[0].headers["x-extra"], "1")
    }))
})
