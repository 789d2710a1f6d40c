/** CdfClient: what a request sends and decodes, how error statuses map, pagination and chunking. */
import { Items } from "@effect-cdf/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Schema, Stream } from "effect"
import { CdfRequest } from "../src/index.js"
import { clientOver, create, drive, get, makeFake, ok, type Reply, TOKEN } from "./utils.js"

describe("CdfClient requests", () => {
  it.scoped("sends to the project path with the CDF headers and decodes the body", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ok)
      const client = yield* clientOver(fake.client)
      const thing = yield* client.execute(get(CdfRequest.path`/things/${1}`))
      assert.deepStrictEqual(thing, { id: 1, name: "one" })
      const [seen] = fake.requests
      assert.strictEqual(seen.url.href, "https://test.cognitedata.com/api/v1/projects/my-project/things/1")
      assert.strictEqual(seen.headers.authorization, `Bearer ${TOKEN}`)
      assert.strictEqual(seen.headers["cdf-version"], "20230101")
      assert.strictEqual(seen.headers["x-cdp-sdk"], "effect-cdf:0.1.0")
      assert.strictEqual(seen.headers["x-cdp-app"], "http-tests")
      assert.strictEqual(seen.headers.accept, "application/json")
    }))

  it.scoped("a request can override cdf-version and add headers and query parameters", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      const client = yield* clientOver(fake.client, { cdfVersion: "20240101" })
      yield* client.execute({
        operation: "cdf.FunctionApps.call",
        method: "POST",
        path: CdfRequest.path`/function-apps/${"my app"}/calls`,
        body: { data: {} },
        headers: { prefer: "respond-async", authorization: "Bearer smuggled" },
        cdfVersion: "20230101-beta",
        query: { limit: 10, tags: ["a", "b"], skip: undefined },
        safety: "safe",
        schema: Schema.Unknown
      })
      const [seen] = fake.requests
      assert.strictEqual(seen.headers["cdf-version"], "20230101-beta")
      assert.strictEqual(seen.headers.prefer, "respond-async")
      assert.strictEqual(seen.headers.authorization, `Bearer ${TOKEN}`)
      assert.strictEqual(seen.url.pathname, "/api/v1/projects/my-project/function-apps/my%20app/calls")
      assert.strictEqual(seen.url.search, "?limit=10&tags=a&tags=b")
      assert.strictEqual(seen.headers["content-type"], "application/json")
      assert.strictEqual(seen.headers["content-encoding"], undefined)
      assert.strictEqual(seen.body, "{\"data\":{}}")
    }))

  it.scoped("gzips JSON bodies above 1 KiB", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      const client = yield* clientOver(fake.client)
      const big = { data: { text: "x".repeat(2000) } }
      yield* client.execute({ ...create(big), safety: "safe" })
      const [seen] = fake.requests
      assert.strictEqual(seen.headers["content-encoding"], "gzip")
      assert.deepStrictEqual(JSON.parse(seen.body ?? ""), big)
    }))

  it.scoped("refuses path segments that would leave the project, and encodes the rest", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ok)
      const client = yield* clientOver(fake.client)
      for (const bad of ["..", ".", ""]) {
        const error = yield* Effect.flip(client.execute(get(CdfRequest.path`/functions/${bad}`)))
        assert.strictEqual(error._tag, "InvalidInput")
      }
      for (
        const bad of ["/functions/../../other", "/functions/%2e%2e/%2E%2E/x", "functions", "/x?y=1", "/a\\..\\..\\b"]
      ) {
        const error = yield* Effect.flip(client.execute(get(bad)))
        assert.strictEqual(error._tag, "InvalidInput", bad)
      }
      yield* client.execute(get(CdfRequest.path`/functions/${"https://evil.example/x"}`))
      yield* client.execute(get("/functions/https://evil.example/x"))
      assert.strictEqual(fake.requests.length, 2)
      for (const seen of fake.requests) {
        assert.strictEqual(seen.url.origin, "https://test.cognitedata.com")
        assert.isTrue(seen.url.pathname.startsWith("/api/v1/projects/my-project/functions/"))
      }
      assert.strictEqual(
        fake.requests[0].url.pathname,
        "/api/v1/projects/my-project/functions/https%3A%2F%2Fevil.example%2Fx"
      )
    }))

  it.scoped("requests a server-provided URL only on the same origin", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      const client = yield* clientOver(fake.client)
      for (
        const url of [
          "https://evil.example/api/v1/projects/my-project/x",
          "http://test.cognitedata.com/api/v1/projects/my-project/x",
          "https://test.cognitedata.com:8443/x",
          "//evil.example/x",
          "https://test.cognitedata.com.evil.example/x"
        ]
      ) {
        const error = yield* Effect.flip(
          client.execute({ operation: "cdf.poll", method: "GET", url, safety: "safe", schema: Schema.Unknown })
        )
        assert.strictEqual(error._tag, "UntrustedUrl", url)
        assert.notInclude(error.message, "/x")
      }
      assert.strictEqual(fake.requests.length, 0)
      yield* client.execute({
        operation: "cdf.poll",
        method: "GET",
        url: "https://test.cognitedata.com/api/v1/projects/my-project/function-apps/a/calls/1/response?x=1",
        safety: "safe",
        schema: Schema.Unknown
      })
      yield* client.execute({
        operation: "cdf.poll",
        method: "GET",
        url: "/api/v1/projects/my-project/calls/2",
        safety: "safe",
        schema: Schema.Unknown
      })
      assert.deepStrictEqual(fake.requests.map((r) => r.url.pathname + r.url.search), [
        "/api/v1/projects/my-project/function-apps/a/calls/1/response?x=1",
        "/api/v1/projects/my-project/calls/2"
      ])
    }))

  it.scoped("executeRaw returns status, headers and bytes, and sends bytes as they are", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({
        status: 202,
        headers: { location: "/api/v1/projects/my-project/calls/9", "x-request-id": "req-1" }
      }))
      const client = yield* clientOver(fake.client)
      const zip = new Uint8Array(5000).fill(7)
      const raw = yield* client.executeRaw({
        operation: "cdf.Files.upload",
        method: "PUT",
        url: "https://test.cognitedata.com/upload/abc",
        bytes: { data: zip, contentType: "application/zip" },
        safety: "unsafe"
      })
      assert.strictEqual(raw.status, 202)
      assert.strictEqual(raw.headers.location, "/api/v1/projects/my-project/calls/9")
      assert.strictEqual(raw.requestId, "req-1")
      assert.strictEqual(raw.attempts, 1)
      const [seen] = fake.requests
      assert.strictEqual(seen.headers["content-type"], "application/zip")
      assert.strictEqual(seen.headers["content-encoding"], undefined)
      assert.strictEqual(seen.body?.length, 5000)
    }))

  it.scoped("a 2xx body that does not match the schema is a DecodeError with a redacted sample", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake((_, i) =>
        i === 0 ? { status: 200, body: { id: "one", nonce: "canary-nonce" } } : { status: 200, body: "<html>" }
      )
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(client.execute(get()))
      assert.strictEqual(error._tag, "DecodeError")
      if (error._tag !== "DecodeError") return
      assert.strictEqual(error.subject, "cdf.Things.get response")
      assert.notInclude(error.sample, "canary-nonce")
      assert.strictEqual(error.request?.path, "/api/v1/projects/my-project/things/1")
      const notJson = yield* Effect.flip(client.execute(get()))
      assert.strictEqual(notJson._tag, "DecodeError")
      if (notJson._tag === "DecodeError") assert.strictEqual(notJson.issue, "the body is not JSON")
    }))

  it.scoped("an empty 2xx body decodes as undefined", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 204 }))
      const client = yield* clientOver(fake.client)
      const value = yield* client.execute({ ...get(), schema: Schema.Undefined })
      assert.strictEqual(value, undefined)
    }))
})

describe("CdfClient error statuses", () => {
  const cases: Array<[number, string]> = [
    [400, "BadRequest"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [404, "NotFound"],
    [405, "UnexpectedStatus"],
    [409, "Conflict"],
    [422, "BadRequest"],
    [429, "RateLimited"],
    [500, "ServerError"],
    [502, "ServerError"],
    [503, "ServerError"],
    [504, "ServerError"]
  ]
  for (const [status, tag] of cases) {
    it.scoped(`${status} becomes ${tag} with the request id and the request without its query`, () =>
      Effect.gen(function*() {
        const fake = yield* makeFake(() => ({
          status,
          body: { error: { code: status, message: `failed with ${status}` } },
          headers: { "x-request-id": `req-${status}` }
        }))
        const client = yield* clientOver(fake.client, { retry: { maxAttempts: 1 } })
        const error = yield* Effect.flip(client.execute({ ...get(), query: { cursor: "abc" } }))
        assert.strictEqual(error._tag, tag)
        if (!("status" in error && "requestId" in error)) return assert.fail("not an API error")
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.message, `failed with ${status}`)
        assert.strictEqual(error.requestId, `req-${status}`)
        assert.deepStrictEqual(error.request, { method: "GET", path: "/api/v1/projects/my-project/things/1" })
      }))
  }

  it.scoped("decodes the string envelope, missing/duplicated items and non-JSON bodies", () =>
    Effect.gen(function*() {
      const replies: Array<Reply> = [
        { status: 400, body: { error: "plain message" } },
        { status: 400, body: { error: { code: 400, message: "ids not found", missing: [{ external_id: "nope" }] } } },
        { status: 409, body: { error: { code: 409, message: "dup", duplicated: [{ externalId: "x" }] } } },
        { status: 502, body: "<html>Bad gateway</html>", headers: { "content-type": "text/html" } },
        { status: 500, body: "" }
      ]
      const fake = yield* makeFake((_, i) => replies[i])
      const client = yield* clientOver(fake.client, { retry: { maxAttempts: 1 } })
      const errors = yield* Effect.forEach(replies, () => Effect.flip(client.execute(get())))
      assert.strictEqual(errors[0]._tag, "BadRequest")
      assert.strictEqual(errors[0].message, "plain message")
      const missing = errors[1]
      assert.strictEqual(missing._tag, "NotFound")
      if (missing._tag === "NotFound") assert.strictEqual(missing.missing[0].externalId, "nope")
      const dup = errors[2]
      assert.strictEqual(dup._tag, "Conflict")
      if (dup._tag === "Conflict") assert.strictEqual(dup.duplicated[0].externalId, "x")
      assert.strictEqual(errors[3]._tag, "ServerError")
      assert.include(errors[3].message, "Bad gateway")
      assert.strictEqual(errors[4].message, "HTTP 500")
    }))

  it.scoped("3xx answers are not followed", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 307, headers: { location: "https://evil.example/x" } }))
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(client.execute(get()))
      assert.strictEqual(error._tag, "UnexpectedStatus")
      assert.strictEqual(fake.requests.length, 1)
    }))
})

describe("CdfClient pagination and chunking", () => {
  const Call = Schema.Struct({ id: Schema.Number })

  it.scoped("follows nextCursor in the POST body, other parameters unchanged", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake((_, i) => ({
        status: 200,
        body: { items: [{ id: i * 2 + 1 }, { id: i * 2 + 2 }], nextCursor: i < 2 ? `c${i + 1}` : null }
      }))
      const client = yield* clientOver(fake.client)
      const items = yield* client.paginate({
        operation: "cdf.Calls.list",
        method: "POST",
        path: CdfRequest.path`/functions/${1}/calls/list`,
        body: { filter: { status: "Completed" }, limit: 2 },
        safety: "safe",
        item: Call
      }).pipe(Stream.runCollect)
      assert.deepStrictEqual(Chunk.toReadonlyArray(items).map((c) => c.id), [1, 2, 3, 4, 5, 6])
      assert.deepStrictEqual(fake.requests.map((r) => JSON.parse(r.body ?? "")), [
        { filter: { status: "Completed" }, limit: 2 },
        { filter: { status: "Completed" }, limit: 2, cursor: "c1" },
        { filter: { status: "Completed" }, limit: 2, cursor: "c2" }
      ])
    }))

  it.scoped("follows nextCursor in the GET query and stops on a cursor that does not advance", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake((_, i) => ({ status: 200, body: { items: [{ id: i }], nextCursor: "same" } }))
      const client = yield* clientOver(fake.client)
      const result = yield* client.paginate({
        operation: "cdf.Calls.list",
        method: "GET",
        path: "/functions/1/calls",
        query: { limit: 1 },
        safety: "safe",
        item: Call
      }).pipe(Stream.runCollect, Effect.either)
      assert.isTrue(Either.isLeft(result))
      assert.deepStrictEqual(fake.requests.map((r) => r.url.search), ["?limit=1", "?limit=1&cursor=same"])
    }))

  it.scoped("a page that only takes what is needed stops early", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake((_, i) => ({ status: 200, body: { items: [{ id: i }], nextCursor: `c${i}` } }))
      const client = yield* clientOver(fake.client)
      yield* client.paginate({
        operation: "cdf.Calls.list",
        method: "GET",
        path: "/functions/1/calls",
        safety: "safe",
        item: Call
      }).pipe(Stream.take(3), Stream.runDrain)
      assert.strictEqual(fake.requests.length, 3)
    }))

  it.scoped("chunks byids to the API's limit with bounded concurrency", () =>
    Effect.gen(function*() {
      let inFlight = 0
      let maxInFlight = 0
      const fake = yield* makeFake((seen) =>
        Effect.gen(function*() {
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          yield* Effect.sleep("1 second")
          inFlight--
          const body: { items: Array<{ id: number }> } = JSON.parse(seen.body ?? "")
          return { status: 200, body: { items: body.items } }
        })
      )
      const client = yield* clientOver(fake.client)
      const ids = Array.from({ length: 95 }, (_, i) => ({ id: i + 1 }))
      const pages = yield* drive(
        client.chunked(ids, Items.ItemLimits.functionsByIds, (chunk) =>
          client.execute({
            operation: "cdf.Functions.retrieve",
            method: "POST",
            path: "/functions/byids",
            body: { items: chunk },
            safety: "safe",
            schema: Items.Items(Call)
          }), { concurrency: 3 })
      )
      assert.strictEqual(fake.requests.length, 10)
      assert.strictEqual(maxInFlight, 3)
      assert.deepStrictEqual(pages.flatMap((p) => p.items.map((c) => c.id)), ids.map((i) => i.id))
    }))
})
