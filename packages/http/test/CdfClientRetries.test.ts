/** CdfClient retries: safe requests, retry hints, unsafe requests (never duplicated), the retry budget. */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Random, Schema, TestClock } from "effect"
import { Retry } from "../src/index.js"
import { clientOver, count, create, drive, get, makeFake, ok, type Reply } from "./utils.js"

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
