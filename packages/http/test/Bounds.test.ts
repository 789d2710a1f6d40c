import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Random, Redacted, Schema, Stream } from "effect"
import { CdfConfig, Retry } from "../src/index.js"
import { clientOver, drive, makeFake } from "./utils.js"

const get = {
  operation: "cdf.Things.get",
  method: "GET" as const,
  path: "/things/1",
  safety: "safe" as const,
  schema: Schema.Unknown
}

describe("server hints are clamped in one place", () => {
  it("Retry.clampHint bounds every hint to Retry.MAX_HINT (60 s) or a smaller cap", () => {
    assert.strictEqual(Retry.MAX_HINT, 60_000)
    assert.strictEqual(Retry.clampHint(86_400_000), 60_000)
    assert.strictEqual(Retry.clampHint(1500), 1500)
    assert.strictEqual(Retry.clampHint(-5), 0)
    assert.strictEqual(Retry.clampHint(Number.NaN), 0)
    assert.strictEqual(Retry.clampHint(5000, 1000), 1000)
    assert.strictEqual(Retry.clampHint(Infinity, Infinity), Retry.MAX_TIMER_MILLIS)
  })

  it.scoped("RateLimited carries the clamped hint, so a poller that sleeps it waits at most 60 s", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 429, headers: { "retry-after": "86400" } }))
      const client = yield* clientOver(fake.client, { retry: { maxAttempts: 1 } })
      const error = yield* Effect.flip(client.execute(get))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterMillis, 60_000)
    }))
})

describe("every request has a total budget", () => {
  it("the default is 3 min, or the attempt timeout when that is longer", () => {
    const resolved = (options: Partial<CdfConfig.Options>) =>
      Either.getOrThrow(CdfConfig.resolve({ baseUrl: "https://x.cognitedata.com", project: "p", ...options }))
    assert.strictEqual(Duration.toMillis(CdfConfig.DEFAULT_DEADLINE), 180_000)
    assert.strictEqual(Duration.toMillis(resolved({}).deadline), 180_000)
    assert.strictEqual(Duration.toMillis(resolved({ attemptTimeout: "10 minutes" }).deadline), 600_000)
    assert.strictEqual(Duration.toMillis(resolved({ deadline: "20 seconds" }).deadline), 20_000)
  })

  it.scoped("a request answered 429 + Retry-After: 60 forever stops within the default 3 min", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 429, headers: { "retry-after": "60" } }))
      const client = yield* clientOver(fake.client, { attemptTimeout: "60 seconds" })
      const error = yield* Effect.flip(drive(client.execute(get).pipe(Effect.withRandom(Random.fixed([0])))))
      assert.strictEqual(error._tag, "RateLimited")
      // Attempts at 0, 60 s and 120 s; a fourth at 180 s would be past the budget (it was 4 x 60 s before).
      assert.deepStrictEqual(fake.requests.map((r) => r.at), [0, 60_000, 120_000])
    }))

  it.scoped("the budget is configurable per client, and a request's own deadline wins", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 503, headers: { "retry-after": "20" } }))
      const client = yield* clientOver(fake.client, { attemptTimeout: "60 seconds", deadline: "30 seconds" })
      yield* Effect.flip(drive(client.execute(get)))
      assert.strictEqual(fake.requests.length, 2) // 0 and 20 s; 40 s is past 30 s
      yield* Effect.flip(drive(client.execute({ ...get, deadline: "50 seconds" })))
      assert.strictEqual(fake.requests.length, 5) // and 3 more within 50 s
    }))
})

describe("pagination that cycles", () => {
  it.scoped("a cursor that comes back (a, b, a) fails with a DecodeError instead of paginating forever", () =>
    Effect.gen(function*() {
      const cursors = ["a", "b"]
      const fake = yield* makeFake((_, i) => ({
        status: 200,
        body: { items: [{ id: i }], nextCursor: cursors[i % 2] }
      }))
      const client = yield* clientOver(fake.client)
      const result = yield* client.paginate({
        operation: "cdf.Calls.list",
        method: "GET",
        path: "/functions/1/calls",
        safety: "safe",
        item: Schema.Struct({ id: Schema.Number })
      }).pipe(Stream.take(50), Stream.runCollect, Effect.either)
      assert.isTrue(Either.isLeft(result), "the listing went on")
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left._tag, "DecodeError")
        assert.include(result.left.message, "cycles")
      }
      assert.deepStrictEqual(fake.requests.map((r) => r.url.search), ["", "?cursor=a", "?cursor=b"])
    }))
})

describe("secrets kept structurally in a body", () => {
  it.scoped("a Redacted value in a body is written as its value and cut from what the server echoes", () =>
    Effect.gen(function*() {
      const nonce = "canary-structural-nonce-0042"
      const fake = yield* makeFake((seen) => ({
        status: 400,
        body: { error: { code: 400, message: `bad request: ${seen.body ?? ""}` } }
      }))
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(client.execute({
        operation: "cdf.Things.create",
        method: "POST",
        path: "/things",
        // under a key no name rule would call secret
        body: { items: [{ opaque: Redacted.make(nonce), plain: "<redacted>" }] },
        safety: "unsafe",
        schema: Schema.Unknown
      }))
      assert.deepStrictEqual(JSON.parse(fake.requests[0].body ?? ""), {
        items: [{ opaque: nonce, plain: "<redacted>" }]
      })
      assert.notInclude(error.message, nonce)
      assert.notInclude(JSON.stringify(error), nonce)
      assert.include(error.message, "bad request")
    }))
})
