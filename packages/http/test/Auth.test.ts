import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Redacted, Schema, TestClock } from "effect"
import { Auth } from "../src/index.js"
import { advance, clientOver, drive, makeFake, type Reply, type Seen } from "./utils.js"

const SECRET = "canary-client-secret-77"
const TOKEN_URL = "https://login.example.com/tenant/oauth2/v2.0/token"

const settings: Auth.ClientCredentials = {
  tokenUrl: TOKEN_URL,
  clientId: "my-client",
  clientSecret: Redacted.make(SECRET),
  scopes: ["https://test.cognitedata.com/.default"]
}

const get = {
  operation: "cdf.Things.get",
  method: "GET" as const,
  path: "/things",
  safety: "safe" as const,
  schema: Schema.Unknown
}

/**
 * A token endpoint issuing `tok-1`, `tok-2`, ... valid for `lifetimeSeconds`, taking one second to answer,
 * and a CDF endpoint that records the token of each request and how long it had left.
 */
const world = (options: {
  readonly lifetimeSeconds?: number
  readonly tokenReply?: (n: number) => Reply | undefined
  readonly cdfReply?: (token: string) => Reply
}) =>
  Effect.gen(function*() {
    const issued = new Map<string, number>()
    const tokenRequests: Array<Seen> = []
    const used: Array<{ token: string; leftMillis: number }> = []
    const fake = yield* makeFake((seen) =>
      Effect.gen(function*() {
        if (seen.url.href === TOKEN_URL) {
          tokenRequests.push(seen)
          yield* Effect.sleep("1 second")
          const n = tokenRequests.length
          const override = options.tokenReply?.(n)
          if (override !== undefined) return override
          const now = yield* Clock.currentTimeMillis
          const lifetime = options.lifetimeSeconds ?? 3600
          issued.set(`tok-${n}`, now + lifetime * 1000)
          return { status: 200, body: { access_token: `tok-${n}`, token_type: "Bearer", expires_in: lifetime } }
        }
        const token = (seen.headers.authorization ?? "").replace(/^Bearer /, "")
        used.push({ token, leftMillis: (issued.get(token) ?? 0) - seen.at })
        return options.cdfReply?.(token) ?? { status: 200, body: {} }
      })
    )
    const client = yield* clientOver(
      fake.client,
      {},
      Auth.layerClientCredentials(settings).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client)))
    )
    return { client, tokenRequests, used }
  })

describe("Auth.layerClientCredentials", () => {
  it.scoped("posts the client-credentials form and caches the token", () =>
    Effect.gen(function*() {
      const w = yield* world({})
      yield* drive(w.client.execute(get))
      yield* drive(w.client.execute(get))
      assert.strictEqual(w.tokenRequests.length, 1)
      const [request] = w.tokenRequests
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.headers["content-type"], "application/x-www-form-urlencoded")
      const form = new URLSearchParams(request.body ?? "")
      assert.strictEqual(form.get("grant_type"), "client_credentials")
      assert.strictEqual(form.get("client_id"), "my-client")
      assert.strictEqual(form.get("client_secret"), SECRET)
      assert.strictEqual(form.get("scope"), "https://test.cognitedata.com/.default")
      assert.deepStrictEqual(w.used.map((u) => u.token), ["tok-1", "tok-1"])
    }))

  it.scoped("100 concurrent requests crossing expiry make exactly one token request; none goes out with < 30 s left", () =>
    Effect.gen(function*() {
      const w = yield* world({})
      yield* drive(w.client.execute(get))
      yield* TestClock.adjust("3580 seconds") // tok-1 has 19 s left: below the 30 s floor
      yield* drive(Effect.all(Array.from({ length: 100 }, () => w.client.execute(get)), { concurrency: "unbounded" }))
      assert.strictEqual(w.tokenRequests.length, 2)
      assert.strictEqual(w.used.length, 101)
      assert.deepStrictEqual(w.used.filter((u) => u.leftMillis < 30_000), [])
      assert.isTrue(w.used.slice(1).every((u) => u.token === "tok-2"))
    }))

  it.scoped("refreshes in the background inside the 2 min window, once, while requests keep the valid token", () =>
    Effect.gen(function*() {
      const w = yield* world({})
      yield* drive(w.client.execute(get))
      yield* TestClock.adjust("3500 seconds") // 99 s left: inside the window, above the floor
      yield* Effect.all(Array.from({ length: 100 }, () => w.client.execute(get)), { concurrency: "unbounded" })
      assert.isTrue(w.used.slice(1).every((u) => u.token === "tok-1"))
      assert.strictEqual(w.tokenRequests.length, 2)
      yield* advance(1_000) // the background refresh completes
      yield* w.client.execute(get)
      assert.strictEqual(w.used[w.used.length - 1].token, "tok-2")
      assert.strictEqual(w.tokenRequests.length, 2)
      assert.deepStrictEqual(w.used.filter((u) => u.leftMillis < 30_000), [])
    }))

  it.scoped("a failed background refresh is retried after 3 s, and the valid token is used meanwhile", () =>
    Effect.gen(function*() {
      const w = yield* world({ tokenReply: (n) => n >= 2 && n <= 4 ? { status: 503 } : undefined })
      yield* drive(w.client.execute(get))
      yield* TestClock.adjust("3500 seconds")
      yield* w.client.execute(get) // starts a refresh that fails after its retries
      yield* advance(5_000) // the refresh fails for good 4.5 s after it started
      const afterFailure = w.tokenRequests.length
      assert.strictEqual(afterFailure, 4) // the first try and its two retries failed
      yield* w.client.execute(get) // 0.5 s after the failure: no new try yet
      assert.strictEqual(w.tokenRequests.length, afterFailure)
      yield* advance(5_000)
      yield* w.client.execute(get)
      yield* w.client.execute(get)
      assert.strictEqual(w.tokenRequests.length, afterFailure + 1) // tried again (more than 3 s later), once
      yield* advance(1_000)
      yield* w.client.execute(get)
      assert.strictEqual(w.used[w.used.length - 1].token, `tok-${afterFailure + 1}`)
      assert.isTrue(w.used.slice(0, -1).every((u) => u.token === "tok-1"))
    }))

  it.scoped("on a 401 it refreshes once and retries once", () =>
    Effect.gen(function*() {
      const w = yield* world({ cdfReply: (token) => token === "tok-1" ? { status: 401 } : { status: 200, body: {} } })
      const result = yield* drive(w.client.executeWithMetadata(get))
      assert.strictEqual(result.attempts, 2)
      assert.deepStrictEqual(w.used.map((u) => u.token), ["tok-1", "tok-2"])
      assert.strictEqual(w.tokenRequests.length, 2)
    }))

  it.scoped("a second 401 is Unauthorized, not another refresh", () =>
    Effect.gen(function*() {
      const w = yield* world({ cdfReply: () => ({ status: 401, body: { error: { code: 401, message: "nope" } } }) })
      const error = yield* Effect.flip(drive(w.client.execute(get)))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(w.used.length, 2)
      assert.strictEqual(w.tokenRequests.length, 2)
    }))

  it.scoped("an unsafe request rejected with 401 is also retried once after the refresh", () =>
    Effect.gen(function*() {
      const w = yield* world({ cdfReply: (token) => token === "tok-1" ? { status: 401 } : { status: 201, body: {} } })
      yield* drive(w.client.execute({ ...get, method: "POST", body: {}, safety: "unsafe" }))
      assert.strictEqual(w.used.length, 2)
    }))

  it.scoped("100 requests rejected together cause one refresh", () =>
    Effect.gen(function*() {
      const w = yield* world({ cdfReply: (token) => token === "tok-1" ? { status: 401 } : { status: 200, body: {} } })
      yield* drive(w.client.execute(get))
      yield* drive(Effect.all(Array.from({ length: 100 }, () => w.client.execute(get)), { concurrency: "unbounded" }))
      assert.strictEqual(w.tokenRequests.length, 2)
    }))

  const failures: Array<[string, Reply, number | undefined]> = [
    [
      "an OAuth error that quotes the secret",
      { status: 401, body: { error: "invalid_client", error_description: `secret ${SECRET} is wrong` } },
      401
    ],
    ["a 200 without access_token", { status: 200, body: { token_type: "Bearer" } }, 200],
    ["a malformed answer with an access_token", { status: 200, body: "{\"access_token\": \"canary-at\", " }, 200],
    ["a 500 after retries", { status: 500, body: { access_token: "canary-at" } }, 500]
  ]
  for (const [name, reply, status] of failures) {
    it.scoped(`${name} is AuthenticationFailed without the secret or the token`, () =>
      Effect.gen(function*() {
        const w = yield* world({ tokenReply: () => reply })
        const error = yield* Effect.flip(drive(w.client.execute(get)))
        assert.strictEqual(error._tag, "AuthenticationFailed")
        if (error._tag === "AuthenticationFailed") assert.strictEqual(error.status, status)
        for (const text of [error.message, String(error), JSON.stringify(error)]) {
          assert.notInclude(text, SECRET)
          assert.notInclude(text, "canary-at")
        }
        assert.strictEqual(w.used.length, 0)
      }))
  }

  it.scoped("a 4xx from the token endpoint is not retried, a 5xx is", () =>
    Effect.gen(function*() {
      const bad = yield* world({ tokenReply: () => ({ status: 400, body: { error: "invalid_scope" } }) })
      const error = yield* Effect.flip(drive(bad.client.execute(get)))
      assert.strictEqual(error.message, "Could not get a token (HTTP 400): invalid_scope")
      assert.strictEqual(bad.tokenRequests.length, 1)
      const flaky = yield* world({ tokenReply: (n) => n < 3 ? { status: 503 } : undefined })
      yield* drive(flaky.client.execute(get))
      assert.strictEqual(flaky.tokenRequests.length, 3)
    }))
})

describe("Auth.layerToken and Auth.layerEffect", () => {
  it.scoped("a static token is not retried on 401", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 401 }))
      const client = yield* clientOver(fake.client)
      const error = yield* Effect.flip(client.execute(get))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(fake.requests.length, 1)
    }))

  it.scoped("a user-supplied effect is asked for every attempt and its failures are typed", () =>
    Effect.gen(function*() {
      let calls = 0
      const fake = yield* makeFake((_, i) => i === 0 ? { status: 401 } : { status: 200, body: {} })
      const auth = Auth.layerEffect(Effect.sync(() => Redacted.make(`user-${++calls}`)))
      const client = yield* clientOver(fake.client, {}, auth)
      yield* client.execute(get)
      assert.deepStrictEqual(fake.requests.map((r) => r.headers.authorization), ["Bearer user-1", "Bearer user-2"])
      const failing = yield* clientOver(fake.client, {}, Auth.layerEffect(Effect.fail(new Error("vault down"))))
      const error = yield* Effect.flip(failing.execute(get))
      assert.strictEqual(error._tag, "AuthenticationFailed")
    }))

  it.scoped("layerCached wraps any token source with the same cycle", () =>
    Effect.gen(function*() {
      let fetches = 0
      const auth = Auth.layerCached(
        Effect.map(Clock.currentTimeMillis, (now) => ({
          accessToken: Redacted.make(`cached-${++fetches}`),
          expiresAtMillis: now + 60_000
        }))
      )
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      const client = yield* clientOver(fake.client, {}, auth)
      yield* client.execute(get)
      yield* TestClock.adjust("20 seconds")
      yield* client.execute(get)
      yield* TestClock.adjust("15 seconds") // 25 s left: below the floor
      yield* client.execute(get)
      assert.deepStrictEqual(fake.requests.map((r) => r.headers.authorization), [
        "Bearer cached-1",
        "Bearer cached-1",
        "Bearer cached-2"
      ])
    }))
})
