import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { Auth } from "../src/index.js"
import { credentials, getThings, TOKEN_URL } from "./authFixtures.js"
import { clientOver, drive, makeFake, type Reply } from "./utils.js"

const settings = credentials("canary-client-secret-52")
const get = getThings

/** A token endpoint taking 1 s and answering `reply(n)` to its n-th request; the API answers 200. */
const world = (reply: (n: number) => Reply) =>
  Effect.gen(function*() {
    let tokenRequests = 0
    const tokens: Array<string> = []
    const fake = yield* makeFake((seen) =>
      Effect.gen(function*() {
        if (seen.url.href !== TOKEN_URL) {
          tokens.push((seen.headers.authorization ?? "").replace(/^Bearer /, ""))
          return { status: 200, body: {} }
        }
        tokenRequests++
        yield* Effect.sleep("1 second")
        return reply(tokenRequests)
      })
    )
    const client = yield* clientOver(
      fake.client,
      {},
      Auth.layerClientCredentials(settings).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client)))
    )
    return { client, tokenRequests: () => tokenRequests, tokens }
  })

const issuing = (lifetimeSeconds: unknown) => (n: number): Reply => ({
  status: 200,
  body: { access_token: `tok-${n}`, token_type: "Bearer", expires_in: lifetimeSeconds }
})

/** `count` requests one after the other, `gapMillis` apart. */
const sequential = (
  client: Effect.Effect.Success<ReturnType<typeof world>>["client"],
  count: number,
  gapMillis: number
) =>
  Effect.gen(function*() {
    for (let i = 0; i < count; i++) {
      yield* drive(client.execute(get))
      yield* TestClock.adjust(gapMillis)
    }
  })

describe("token refresh without storms", () => {
  it.scoped("a 10 s token is refreshed once per lifetime window, not once per request", () =>
    Effect.gen(function*() {
      const w = yield* world(issuing(10))
      yield* sequential(w.client, 100, 100)
      // 100 requests over about 10 s: the first fetch, then a background refresh every 2.5 s of age.
      assert.isAtMost(w.tokenRequests(), 5)
      assert.strictEqual(w.tokens.length, 100)
    }))

  it.scoped("a 90 s token costs a handful of token requests per 100 calls a second apart", () =>
    Effect.gen(function*() {
      const w = yield* world(issuing(90))
      yield* sequential(w.client, 100, 1_000)
      // About 100 s: one fetch, then one background refresh each 22.5 s of age (+1 s to answer).
      assert.isAtMost(w.tokenRequests(), 6)
      assert.isAtLeast(w.tokenRequests(), 4)
    }))

  it.scoped("a failing token endpoint is not asked again by every request: failures are cached and backed off", () =>
    Effect.gen(function*() {
      const w = yield* world(() => ({ status: 500 }))
      const first = yield* Effect.flip(drive(w.client.execute(get)))
      assert.strictEqual(first._tag, "AuthenticationFailed")
      assert.strictEqual(w.tokenRequests(), 3) // one fetch: the first try and its two retries
      for (let i = 0; i < 9; i++) {
        const error = yield* Effect.flip(w.client.execute(get))
        assert.strictEqual(error._tag, "AuthenticationFailed")
      }
      assert.strictEqual(w.tokenRequests(), 3) // the 9 requests inside the 3 s pause asked nothing
      yield* TestClock.adjust("3 seconds")
      yield* Effect.flip(drive(w.client.execute(get)))
      assert.strictEqual(w.tokenRequests(), 6) // one more fetch after the pause
      yield* TestClock.adjust("3 seconds") // the second failure doubled the pause to 6 s
      yield* Effect.flip(w.client.execute(get))
      assert.strictEqual(w.tokenRequests(), 6)
      assert.strictEqual(w.tokens.length, 0)
    }))

  it.scoped("after the endpoint recovers, the next fetch after the pause succeeds", () =>
    Effect.gen(function*() {
      const w = yield* world((n) => n <= 3 ? { status: 503 } : issuing(3600)(n))
      yield* Effect.flip(drive(w.client.execute(get)))
      yield* TestClock.adjust("3 seconds")
      yield* drive(w.client.execute(get))
      assert.deepStrictEqual(w.tokens, ["tok-4"])
    }))

  for (const unreadable of [null, "soon", -5, "", { seconds: 60 }]) {
    it.scoped(`a valid token with expires_in ${JSON.stringify(unreadable)} is kept with a 5 min lifetime`, () =>
      Effect.gen(function*() {
        const w = yield* world(issuing(unreadable))
        yield* drive(w.client.execute(get))
        yield* TestClock.adjust("2 minutes")
        yield* drive(w.client.execute(get))
        assert.deepStrictEqual(w.tokens, ["tok-1", "tok-1"])
        assert.strictEqual(w.tokenRequests(), 1)
        yield* TestClock.adjust("3 minutes") // 5 min after it was issued: no longer used
        yield* drive(w.client.execute(get))
        assert.strictEqual(w.tokens[2], "tok-2")
      }))
  }
})
