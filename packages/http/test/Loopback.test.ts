import type { HttpClient } from "@effect/platform"
import { FetchHttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { gunzipSync } from "node:zlib"
import { Auth, CdfClient, CdfRequest } from "../src/index.js"
import { freePort, json, serve } from "./loopback.js"
import { drive } from "./utils.js"

const TOKEN = "canary-loopback-token"

const clients: ReadonlyArray<[string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
]

const clientAt = (port: number, http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici) =>
  Layer.build(
    CdfClient.layer({
      baseUrl: `http://127.0.0.1:${port}`,
      project: "loop",
      appName: "loopback-tests",
      attemptTimeout: "1 hour"
    }).pipe(Layer.provide(Auth.layerToken(Redacted.make(TOKEN))), Layer.provide(http))
  ).pipe(Effect.map(Context.get(CdfClient.CdfClient)))

/** Calling a function: unsafe, so never re-sent once the server may have it. */
const callFunction = {
  operation: "cdf.Functions.call",
  method: "POST",
  path: "/functions/1/call",
  body: { data: {}, nonce: "canary-nonce" },
  safety: "unsafe",
  schema: Schema.Unknown
} as const

describe("CdfClient over a loopback socket", () => {
  it.scoped("sends the exact headers and a gzip body the server gunzips back to the JSON", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, res) => json(res, 201, { id: 42 }))
      const client = yield* clientAt(server.port)
      const body = { items: [{ name: "f", description: "d".repeat(3000) }] }
      const created = yield* client.execute({
        operation: "cdf.Functions.create",
        method: "POST",
        path: "/functions",
        body,
        safety: "unsafe",
        schema: Schema.Struct({ id: Schema.Number })
      })
      assert.deepStrictEqual(created, { id: 42 })
      const [req] = server.seen
      assert.strictEqual(req.method, "POST")
      assert.strictEqual(req.url, "/api/v1/projects/loop/functions")
      assert.strictEqual(req.headers.authorization, `Bearer ${TOKEN}`)
      assert.strictEqual(req.headers["cdf-version"], "20230101")
      assert.strictEqual(req.headers["x-cdp-sdk"], "effect-cdf:0.1.0")
      assert.strictEqual(req.headers["x-cdp-app"], "loopback-tests")
      assert.strictEqual(req.headers["content-type"], "application/json")
      assert.strictEqual(req.headers["content-encoding"], "gzip")
      assert.strictEqual(req.headers.accept, "application/json")
      assert.isBelow(req.body.length, 1000)
      assert.deepStrictEqual(JSON.parse(gunzipSync(req.body).toString("utf8")), body)
    }))

  it.scoped("a small body is sent uncompressed", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, res) => json(res, 200, { items: [] }))
      const client = yield* clientAt(server.port)
      yield* client.execute({
        operation: "cdf.Functions.list",
        method: "POST",
        path: "/functions/list",
        body: { limit: 10 },
        safety: "safe",
        schema: Schema.Unknown
      })
      const [req] = server.seen
      assert.strictEqual(req.headers["content-encoding"], undefined)
      assert.strictEqual(req.body.toString("utf8"), "{\"limit\":10}")
    }))

  it.scoped("decodes error envelopes and request ids from the wire", () =>
    Effect.gen(function*() {
      const server = yield* serve((req, res) =>
        req.url?.endsWith("/byids")
          ? json(res, 400, { error: { code: 400, message: "Ids not found", missing: [{ id: 7 }] } }, {
            "x-request-id": "wire-1"
          })
          : json(res, 403, { error: "no access" }, { "x-request-id": "wire-2" })
      )
      const client = yield* clientAt(server.port)
      const missing = yield* Effect.flip(client.execute({
        operation: "cdf.Functions.retrieve",
        method: "POST",
        path: "/functions/byids",
        body: { items: [{ id: 7 }] },
        safety: "safe",
        schema: Schema.Unknown
      }))
      assert.strictEqual(missing._tag, "NotFound")
      if (missing._tag === "NotFound") {
        assert.strictEqual(missing.requestId, "wire-1")
        assert.strictEqual(missing.missing[0].id, 7)
        assert.deepStrictEqual(missing.request, { method: "POST", path: "/api/v1/projects/loop/functions/byids" })
      }
      const forbidden = yield* Effect.flip(client.execute({
        operation: "cdf.Functions.get",
        method: "GET",
        path: CdfRequest.path`/functions/${7}`,
        query: { secretish: "q" },
        safety: "safe",
        schema: Schema.Unknown
      }))
      assert.strictEqual(forbidden._tag, "Forbidden")
      assert.strictEqual(forbidden.message, "no access")
      if (forbidden._tag === "Forbidden") {
        assert.strictEqual(forbidden.request?.path, "/api/v1/projects/loop/functions/7")
      }
    }))

  for (const [name, http] of clients) {
    for (const status of [301, 302, 303, 307, 308]) {
      it.scoped(`${name}: a ${status} is not followed, to another origin or to the same one`, () =>
        Effect.gen(function*() {
          const elsewhere = yield* serve((_, res) => json(res, 200, {}))
          const server = yield* serve((req, res) => {
            const target = req.url?.includes("cross")
              ? `http://127.0.0.1:${elsewhere.port}/steal`
              : "/api/v1/projects/loop/x"
            res.writeHead(status, { location: target })
            res.end()
          })
          const client = yield* clientAt(server.port, http)
          for (const path of ["/cross", "/same"]) {
            const error = yield* Effect.flip(client.execute({
              operation: "cdf.test",
              method: "POST",
              path,
              body: { nonce: "canary-nonce" },
              safety: "safe",
              schema: Schema.Unknown
            }))
            assert.strictEqual(error._tag, "UnexpectedStatus")
          }
          assert.strictEqual(server.seen.length, 2)
          assert.strictEqual(elsewhere.seen.length, 0)
        }))
    }
  }

  it.scoped("a cross-origin Location never receives the token; a same-origin one does", () =>
    Effect.gen(function*() {
      const elsewhere = yield* serve((_, res) => json(res, 200, {}))
      let location = ""
      const server = yield* serve((req, res) => {
        if (req.url?.endsWith("/calls")) {
          res.writeHead(202, { location })
          return res.end()
        }
        json(res, 200, { callId: 1, functionId: 2, runtimeStatus: "Completed" })
      })
      const client = yield* clientAt(server.port)
      const call = client.executeRaw({
        operation: "cdf.FunctionApps.call",
        method: "POST",
        path: CdfRequest.path`/function-apps/${"app"}/calls`,
        headers: { prefer: "respond-async" },
        cdfVersion: "20230101-beta",
        body: { data: { path: "/", method: "GET" }, nonce: "n" },
        safety: "unsafe"
      })
      const targets = [
        `http://127.0.0.1:${elsewhere.port}/api/v1/projects/loop/function-apps/app/calls/1/response`,
        `http://localhost:${server.port}/api/v1/projects/loop/function-apps/app/calls/1/response`,
        `https://127.0.0.1:${server.port}/api/v1/projects/loop/function-apps/app/calls/1/response`,
        `//127.0.0.1:${elsewhere.port}/x`
      ]
      for (const target of targets) {
        location = target
        const accepted = yield* call
        assert.strictEqual(accepted.status, 202)
        const followed = accepted.headers.location ?? ""
        const error = yield* Effect.flip(
          client.execute({
            operation: "cdf.poll",
            method: "GET",
            url: followed,
            safety: "safe",
            schema: Schema.Unknown
          })
        )
        assert.strictEqual(error._tag, "UntrustedUrl", target)
      }
      assert.strictEqual(elsewhere.seen.length, 0)
      assert.strictEqual(server.seen.length, targets.length)
      location = "/api/v1/projects/loop/function-apps/app/calls/1/response"
      const accepted = yield* call
      const result = yield* client.execute({
        operation: "cdf.poll",
        method: "GET",
        url: accepted.headers.location ?? "",
        safety: "safe",
        schema: Schema.Struct({ runtimeStatus: Schema.String })
      })
      assert.strictEqual(result.runtimeStatus, "Completed")
      assert.strictEqual(server.seen[server.seen.length - 1].headers.authorization, `Bearer ${TOKEN}`)
      assert.strictEqual(server.seen[server.seen.length - 2].headers["cdf-version"], "20230101-beta")
    }))

  it.scoped("an anonymous upload goes to a signed URL on another origin with no credential or CDF header", () =>
    Effect.gen(function*() {
      const storage = yield* serve((_, res) => json(res, 200, {}))
      const server = yield* serve((_, res) => json(res, 200, {}))
      const client = yield* clientAt(server.port)
      const zip = new Uint8Array([80, 75, 3, 4, 1, 2, 3])
      const upload = (url: string, anonymous: boolean) =>
        client.executeRaw({
          operation: "cdf.Files.upload",
          method: "PUT",
          url,
          anonymous,
          safety: "unsafe",
          bytes: { data: zip, contentType: "application/zip" }
        })
      const signed = `http://127.0.0.1:${storage.port}/bucket/file.zip?signature=abc`
      const uploaded = yield* upload(signed, true)
      assert.strictEqual(uploaded.status, 200)
      assert.strictEqual(storage.seen.length, 1)
      const seen = storage.seen[0]
      assert.deepStrictEqual(Array.from(seen.body), Array.from(zip))
      assert.strictEqual(seen.headers["content-type"], "application/zip")
      for (const header of ["authorization", "cdf-version", "x-cdp-sdk", "x-cdp-app"]) {
        assert.strictEqual(seen.headers[header], undefined, header)
      }
      // without `anonymous` the same URL is refused and nothing is sent
      const refused = yield* Effect.flip(upload(signed, false))
      assert.strictEqual(refused._tag, "UntrustedUrl")
      // an anonymous request still refuses plain http to a host that is not loopback
      const insecure = yield* Effect.flip(upload("http://storage.example.com/file.zip", true))
      assert.strictEqual(insecure._tag, "UntrustedUrl")
      assert.strictEqual(storage.seen.length, 1)
      assert.strictEqual(server.seen.length, 0)
    }))

  it.scoped("a connection reset after the body arrived: an unsafe request is not re-sent, a safe one is", () =>
    Effect.gen(function*() {
      const server = yield* serve((req, res, socket) => {
        if (server.seen.length <= 2 || req.method === "POST") return socket.destroy()
        json(res, 200, { ok: true })
      })
      const client = yield* clientAt(server.port)
      const error = yield* Effect.flip(client.execute(callFunction))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual(server.seen.length, 1)
      const result = yield* drive(client.executeWithMetadata({
        operation: "cdf.Functions.get",
        method: "GET",
        path: "/functions/1",
        safety: "safe",
        schema: Schema.Unknown
      }))
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(server.seen.length, 3)
    }))

  it.scoped("connection refused: an unsafe request is retried, then fails with ConnectFailed", () =>
    Effect.gen(function*() {
      const client = yield* clientAt(yield* freePort)
      const error = yield* Effect.flip(drive(client.execute(callFunction)))
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") assert.strictEqual(error.reason, "ConnectFailed")
    }))
})
