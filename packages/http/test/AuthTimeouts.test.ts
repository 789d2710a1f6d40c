import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Clock, Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { Auth } from "../src/index.js"
import { credentials, getThings, TOKEN_URL } from "./authFixtures.js"
import { advance, clientOver, makeFake } from "./utils.js"

const get = getThings

/** A client whose token endpoint answers after `tokenDelay` (or never), and a CDF endpoint answering 200. */
const world = (tokenDelay: Duration.DurationInput | "never", options: Partial<Auth.ClientCredentials> = {}) =>
  Effect.gen(function*() {
    let tokenRequests = 0
    let apiRequests = 0
    const fake = yield* makeFake((seen) =>
      seen.url.href === TOKEN_URL
        ? Effect.gen(function*() {
          tokenRequests++
          if (tokenDelay === "never") return yield* Effect.never
          yield* Effect.sleep(tokenDelay)
          return { status: 200, body: { access_token: "tok", expires_in: 3600 } }
        })
        : Effect.sync(() => {
          apiRequests++
          return { status: 200, body: {} }
        })
    )
    const client = yield* clientOver(
      fake.client,
      {},
      Auth.layerClientCredentials(credentials("canary-client-secret-31", options)).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client))
      )
    )
    return { client, tokenRequests: () => tokenRequests, apiRequests: () => apiRequests }
  })

/** Forks `effect`, moves the TestClock by `millis`, and returns the exit if it ended by then. */
const runFor = <A, E>(effect: Effect.Effect<A, E>, millis: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* advance(millis)
    const done = yield* Fiber.poll(fiber)
    if (Option.isNone(done)) yield* Fiber.interrupt(fiber)
    return done
  })

describe("waiting for a token", () => {
  it.scoped("a token endpoint that never answers fails the request at its deadline", () =>
    Effect.gen(function*() {
      const w = yield* world("never")
      const started = yield* Clock.currentTimeMillis
      const done = yield* runFor(
        Effect.flatMap(Effect.either(w.client.execute({ ...get, deadline: "2 seconds" })), (result) =>
          Effect.map(Clock.currentTimeMillis, (at) => ({ result, at }))),
        10_000
      )
      assert.isTrue(Option.isSome(done), "the request still waits after 10 s")
      if (Option.isSome(done) && Exit.isSuccess(done.value)) {
        const { at, result } = done.value.value
        assert.strictEqual(at - started, 2_000)
        assert.isTrue(result._tag === "Left" && result.left._tag === "AuthenticationFailed")
      }
      assert.strictEqual(w.apiRequests(), 0)
    }))

  it.scoped("a token endpoint slower than the token request timeout fails at the timeout, not when it answers", () =>
    Effect.gen(function*() {
      const w = yield* world("5 seconds", { requestTimeout: "300 millis", retries: 0 })
      const started = yield* Clock.currentTimeMillis
      const done = yield* runFor(
        Effect.flatMap(
          Effect.either(w.client.execute(get)),
          (result) => Effect.map(Clock.currentTimeMillis, (at) => ({ result, at }))
        ),
        10_000
      )
      assert.isTrue(Option.isSome(done))
      if (Option.isSome(done) && Exit.isSuccess(done.value)) {
        const { at, result } = done.value.value
        assert.strictEqual(at - started, 300)
        assert.isTrue(result._tag === "Left" && result.left._tag === "AuthenticationFailed")
        if (result._tag === "Left") assert.include(result.left.message, "timed out")
      }
    }))

  it.scoped("with retries, a hung endpoint is bounded by the token timeouts and backoff", () =>
    Effect.gen(function*() {
      const w = yield* world("never", { requestTimeout: "300 millis", retries: 2 })
      const started = yield* Clock.currentTimeMillis
      const done = yield* runFor(
        Effect.flatMap(Effect.either(w.client.execute(get)), () => Clock.currentTimeMillis),
        10_000
      )
      assert.isTrue(Option.isSome(done))
      if (Option.isSome(done) && Exit.isSuccess(done.value)) {
        // 3 x 300 ms of attempts, and 500 ms + 1 s of backoff between them.
        assert.strictEqual(done.value.value - started, 2_400)
      }
      assert.strictEqual(w.tokenRequests(), 3)
    }))

  it.scoped("a custom token fetch that never ends is cut at fetchTimeout", () =>
    Effect.gen(function*() {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      const client = yield* clientOver(fake.client, {}, Auth.layerCached(Effect.never, { fetchTimeout: "5 seconds" }))
      const done = yield* runFor(Effect.flip(client.execute(get)), 6_000)
      assert.isTrue(Option.isSome(done) && Exit.isSuccess(done.value))
      if (Option.isSome(done) && Exit.isSuccess(done.value)) {
        assert.strictEqual(done.value.value._tag, "AuthenticationFailed")
      }
    }))

  it.scoped("a request waiting for a token can be interrupted", () =>
    Effect.gen(function*() {
      const w = yield* world("never")
      const fiber = yield* Effect.fork(w.client.execute(get))
      yield* advance(1_000)
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      yield* TestClock.adjust("1 second")
    }))
})
