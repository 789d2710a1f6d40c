import { Items } from "@effect-cdf/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Random, Schema, Stream, TestClock } from "effect"
import { CdfRequest, Retry } from "../src/index.js"
import { clientOver, drive, makeFake, type Reply, TOKEN } from "./utils.js"

const Thing = Schema.Struct({ id: Schema.Number, name: Schema.String })

const get = (path: string | CdfRequest.Path = "/things/1") => ({
  operation: "cdf.Things.get",
  method: "GET" as const,
  path,
  safety: "safe" as const,
  schema: Thing
})

const create = (body: unknown = { items: [{ name: "x" }] }) => ({
  operation: "cdf.Things.create",
  method: "POST" as const,
  path: "/things",
  body,
  safety: "unsafe" as const,
  schema: Schema.Unknown
})

const ok: Reply = { status: 200, body: { id: 1, name: "one" } }

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

const count = (replies: ReadonlyArray<Reply>, last: Reply = ok) => (_: unknown, i: number) => replies[i] ?? last

describe("CdfClient retries of safe requests", () => {
  const retried: Array<[string, Reply]> = [
    ["429", { status: 429 }],
    ["502", { status: 502 }],
    ["503", { status: 503 }],
    ["504", { status: 504 }],
    ["500 with cdf-is-auto-retryable", { status: 500, headers: { "cdf-is-auto-retryable": "true" } }],
    ["400 with cdf-is-auto-retryable", { status: 400, headers: { "cdf-is-auto-retryable": "1" } }],
    ["connection refused", { transport: "ECONNREFUSED" }],
    ["DNS failure", { transport: "ENOTFOUND" }],
    ["connection reset", { transport: "ECONNRESET" }],
    ["an unknown transport error", { transport: "EWHATEVER" }],
    ["a body that breaks off", { brokenBody: 200 }]
  ]
  for (const [name, reply] of retried) {
    it.scoped(`retries ${name}`, () =>
      Effect.gen(function*() {
        const fake = yield* makeFake(count([reply, reply]))
        const client = yield* clientOver(fake.client)
        const result = yield* drive(client.executeWithMetadata(get()))
        assert.deepStrictEqual(result.value, { id: 1, name: "one" })
        assert.strictEqual(result.attempts, 3)
        assert.strictEqual(fake.requests.length, 3)
      }))
  }

  const notRetried: Array<[string, Reply, string]> = [
    ["500", { status: 500 }, "ServerError"],
    ["400", { status: 400 }, "BadRequest"],
    ["403", { status: 403 }, "Forbidden"],
    ["404", { status: 404 }, "NotFound"],
    ["409", { status: 409 }, "Conflict"],
    [
      "500 with cdf-is-auto-retryable: false",
      { status: 500, headers: { "cdf-is-auto-retryable": "false" } },
      "ServerError"
    ]
  ]
  for (const [name, reply, tag] of notRetried) {
    it.scoped(`does not retry ${name}`, () =>
      Effect.gen(function*() {
        const fake = yield* makeFake(count([reply]))
        const client = yield* clientOver(fake.client)
        const error = yield* Effect.flip(drive(client.execute(get())))
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(fake.requests.length, 1)
      }))
  }

  it.scoped("gives up after 5 attempts with the last error", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 503, body: { error: { code: 503, message: "busy" } } }))
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(drive(client.execute(get())))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(fake.requests.length, 5)
    }))

  it.scoped("backs off exponentially with full jitter, capped at 10 s", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 503 }))
      const client = yield* clientOver(fake.client, { retry: { maxAttempts: 8 } })
      yield* Effect.flip(drive(client.execute(get())).pipe(Effect.withRandom(Random.fixed([0.5]))))
      const gaps = fake.requests.slice(1).map((r, i) => r.at - fake.requests[i].at)
      assert.deepStrictEqual(gaps, [125, 250, 500, 1000, 2000, 4000, 5000])
    }))

  it.scoped("an attempt that takes longer than the attempt timeout is a Timeout and is retried", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(count([{ hang: true }]))
      const client = yield* clientOver(fake.client, { attemptTimeout: "60 seconds" })
      const fiber = yield* Effect.fork(client.executeWithMetadata(get()).pipe(Effect.withRandom(Random.fixed([0]))))
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(fake.requests.length, 1)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(fake.requests[1].at, 60_000)
    }))

  it.scoped("a timeout on the last attempt is a TransportError Timeout", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ hang: true }))
      const client = yield* clientOver(fake.client, { attemptTimeout: "2 seconds", retry: { maxAttempts: 2 } })
      const fiber = yield* Effect.fork(Effect.flip(client.execute(get())).pipe(Effect.withRandom(Random.fixed([0]))))
      yield* TestClock.adjust("4 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(fake.requests.length, 2)
    }))
})

describe("CdfClient retry hints", () => {
  const hinted = (headers: Record<string, string>) =>
    Effect.gen(function*() {
      const fake = yield* makeFake(count([{ status: 429, headers }]))
      const client = yield* clientOver(fake.client)
      const result = yield* drive(client.executeWithMetadata(get()).pipe(Effect.withRandom(Random.fixed([0]))))
      return { at: fake.requests[1].at, result }
    })

  it.scoped("honours Retry-After in seconds", () =>
    Effect.gen(function*() {
      const { at, result } = yield* hinted({ "retry-after": "7" })
      assert.strictEqual(at, 7000)
      assert.strictEqual(result.retryDelayMillis, 7000)
    }))

  it.scoped("honours Retry-After as an HTTP date", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const { at } = yield* hinted({ "retry-after": "Thu, 01 Jan 2026 00:00:12 GMT" })
      assert.strictEqual(at - Date.parse("2026-01-01T00:00:00Z"), 12_000)
    }))

  it.scoped("honours retry-after-ms", () =>
    Effect.gen(function*() {
      const { at } = yield* hinted({ "retry-after-ms": "1500", "retry-after": "30" })
      assert.strictEqual(at, 1500)
    }))

  it.scoped("clamps a hint to 60 s", () =>
    Effect.gen(function*() {
      const { at } = yield* hinted({ "retry-after": "100000000000" })
      assert.strictEqual(at, 60_000)
    }))

  it.scoped("does not retry when the hint reaches past the request's deadline", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(count([{ status: 429, headers: { "retry-after": "20" } }]))
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(drive(client.execute({ ...get(), deadline: "10 seconds" })))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterMillis, 20_000)
      assert.strictEqual(fake.requests.length, 1)
    }))

  it.scoped("cuts the last attempt's timeout to the deadline", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ hang: true }))
      const client = yield* clientOver(fake.client, { attemptTimeout: "60 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(client.execute({ ...get(), deadline: "5 seconds" })))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(fake.requests.length, 1)
    }))

  it.scoped.prop(
    "a retry is never sent before the hint, nor a delay above 60 s",
    { hintMillis: Schema.Int.pipe(Schema.between(0, 60_000)), random: Schema.Number.pipe(Schema.between(0, 0.999)) },
    ({ hintMillis, random }) =>
      Effect.gen(function*() {
        const fake = yield* makeFake(count([{ status: 503, headers: { "retry-after-ms": String(hintMillis) } }]))
        const client = yield* clientOver(fake.client)
        yield* drive(client.execute(get()).pipe(Effect.withRandom(Random.fixed([random]))))
        const gap = fake.requests[1].at - fake.requests[0].at
        assert.isAtLeast(gap, hintMillis)
        assert.isAtMost(gap, 60_000)
      }),
    { fastCheck: { numRuns: 50 } }
  )
})

describe("CdfClient unsafe requests", () => {
  const failures: Array<[string, Reply, string]> = [
    ["connection reset", { transport: "ECONNRESET" }, "CallOutcomeUnknown"],
    ["broken pipe", { transport: "EPIPE" }, "CallOutcomeUnknown"],
    ["an unknown transport error", { transport: "EWHATEVER" }, "CallOutcomeUnknown"],
    ["a 201 whose body breaks off", { brokenBody: 201 }, "CallOutcomeUnknown"],
    ["500", { status: 500 }, "CallOutcomeUnknown"],
    ["502", { status: 502 }, "CallOutcomeUnknown"],
    ["503", { status: 503 }, "CallOutcomeUnknown"],
    ["504", { status: 504 }, "CallOutcomeUnknown"],
    [
      "503 with cdf-is-auto-retryable",
      { status: 503, headers: { "cdf-is-auto-retryable": "true" } },
      "CallOutcomeUnknown"
    ],
    ["400 with cdf-is-auto-retryable", { status: 400, headers: { "cdf-is-auto-retryable": "true" } }, "BadRequest"],
    ["400", { status: 400 }, "BadRequest"],
    ["403", { status: 403 }, "Forbidden"],
    ["404", { status: 404 }, "NotFound"],
    ["408", { status: 408 }, "UnexpectedStatus"],
    ["409", { status: 409 }, "Conflict"],
    ["422", { status: 422 }, "BadRequest"]
  ]
  for (const [name, reply, tag] of failures) {
    it.scoped(`is sent once on ${name} and fails with ${tag}`, () =>
      Effect.gen(function*() {
        const fake = yield* makeFake(count([reply]))
        const client = yield* clientOver(fake.client)
        const error = yield* Effect.flip(drive(client.execute(create())))
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(fake.requests.length, 1)
        if (error._tag === "CallOutcomeUnknown") {
          assert.deepStrictEqual(error.request, { method: "POST", path: "/api/v1/projects/my-project/things" })
          assert.strictEqual(error.sentAt, 0)
        }
      }))
  }

  it.scoped("an attempt timeout is CallOutcomeUnknown and is not re-sent", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(count([{ hang: true }]))
      const client = yield* clientOver(fake.client, { attemptTimeout: "60 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(client.execute(create())))
      yield* TestClock.adjust("10 minutes")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual(fake.requests.length, 1)
    }))

  const preSend: Array<[string, Reply]> = [
    ["429", { status: 429 }],
    ["connection refused", { transport: "ECONNREFUSED" }],
    ["connection refused on every address", { transport: "ECONNREFUSED-aggregate" }],
    ["DNS failure", { transport: "ENOTFOUND" }],
    ["a temporary DNS failure", { transport: "EAI_AGAIN" }]
  ]
  for (const [name, reply] of preSend) {
    it.scoped(`is retried on ${name}`, () =>
      Effect.gen(function*() {
        const fake = yield* makeFake(count([reply, reply], { status: 201, body: { id: 1 } }))
        const client = yield* clientOver(fake.client)
        const result = yield* drive(client.executeWithMetadata(create()))
        assert.deepStrictEqual(result.value, { id: 1 })
        assert.strictEqual(result.attempts, 3)
      }))
  }

  it.scoped("a connect failure on the last attempt is a TransportError, not CallOutcomeUnknown", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ transport: "ECONNREFUSED" }))
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(drive(client.execute(create())))
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") assert.strictEqual(error.reason, "ConnectFailed")
      assert.strictEqual(fake.requests.length, 5)
    }))

  // Every failure kind, in any order before an eventual answer: the request reaches the server (any answer
  // but 429, or a failure other than a pre-send one) at most once.
  const kinds: ReadonlyArray<Reply> = [
    { status: 429 },
    { transport: "ECONNREFUSED" },
    { transport: "ENOTFOUND" },
    { transport: "EAI_AGAIN" },
    { transport: "ECONNRESET" },
    { transport: "EPIPE" },
    { transport: "UND_ERR_SOCKET" },
    { transport: "EOTHER" },
    { brokenBody: 201 },
    { status: 500 },
    { status: 502 },
    { status: 503, headers: { "cdf-is-auto-retryable": "true" } },
    { status: 504 },
    { status: 400 },
    { status: 409 },
    { status: 201, body: { id: 1 } }
  ]
  const delivered = (reply: Reply) =>
    !("status" in reply && reply.status === 429) &&
    !("transport" in reply && ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"].includes(reply.transport))

  it.scoped.prop(
    "is delivered at most once whatever fails",
    { script: Schema.Array(Schema.Int.pipe(Schema.between(0, kinds.length - 1))).pipe(Schema.maxItems(8)) },
    ({ script }) =>
      Effect.gen(function*() {
        const replies = script.map((i) => kinds[i])
        const fake = yield* makeFake(count(replies, { status: 201, body: { id: 1 } }))
        const client = yield* clientOver(fake.client)
        yield* Effect.either(drive(client.execute(create())))
        const deliveredCount = fake.requests.filter((_, i) => delivered(replies[i] ?? { status: 201 })).length
        assert.isAtMost(deliveredCount, 1)
      }),
    { fastCheck: { numRuns: 300 } }
  )
})

describe("CdfClient retry budget", () => {
  it.scoped("1,000 requests against an endpoint that always answers 503 make at most 1,100 attempts", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 503 }))
      const client = yield* clientOver(fake.client)
      const run = Effect.forEach(Array.from({ length: 1000 }), () => Effect.either(client.execute(get())), {
        concurrency: 50
      })
      const results = yield* drive(run)
      assert.isTrue(results.every(Either.isLeft))
      // 500 tokens at 5 per retry: 100 retries in all, then none.
      assert.strictEqual(fake.requests.length, 1100)
      // Once drained, every request is sent exactly once.
      const before = fake.requests.length
      yield* drive(Effect.forEach(Array.from({ length: 100 }), () => Effect.either(client.execute(get()))))
      assert.strictEqual(fake.requests.length - before, 100)
    }))

  it.scoped("successes refill the budget", () =>
    Effect.gen(function*() {
      let failing = true
      const fake = yield* makeFake(() => failing ? { status: 503 } : ok)
      const client = yield* clientOver(fake.client, {
        retry: { budget: { capacity: 10, retryCost: 5, successRefund: 5 } }
      })
      yield* drive(Effect.either(client.execute(get())))
      assert.strictEqual(fake.requests.length, 3) // two retries drain the 10 tokens
      yield* drive(Effect.either(client.execute(get())))
      assert.strictEqual(fake.requests.length, 4) // no retry left
      failing = false
      yield* client.execute(get())
      yield* client.execute(get())
      failing = true
      const before = fake.requests.length
      yield* drive(Effect.either(client.execute(get())))
      assert.strictEqual(fake.requests.length - before, 3) // two successes returned 10 tokens
    }))

  it("the pure policy functions never exceed the timer limit", () => {
    const policy = Retry.makePolicy({ maxDelayMillis: Number.MAX_VALUE, maxRetryAfterMillis: Infinity })
    assert.strictEqual(Retry.delayMillis(policy, 80, 0.99, undefined) <= Retry.MAX_TIMER_MILLIS, true)
    assert.strictEqual(Retry.delayMillis(policy, 1, 0, 1e300), Retry.MAX_TIMER_MILLIS)
    assert.strictEqual(Retry.toTimerMillis(Duration.infinity), Retry.MAX_TIMER_MILLIS)
  })
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
