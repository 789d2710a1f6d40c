import { Emulator } from "@effect-cdf/emulator"
import { Calls, FunctionApps, Schedules } from "@effect-cdf/functions"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { Testing } from "../src/index.js"

const TestLive = Testing.layerTest({
  limits: { timeoutMinutes: 2 },
  functions: {
    echo: (data, { log }) => Effect.as(log("echoing"), { echoed: data }),
    slow: { duration: "3 minutes", handler: () => Effect.succeed("late") },
    secretive: { secrets: { apikey: "s3cr3t" }, handler: (_, { secrets }) => Effect.succeed(secrets["apikey"]) },
    app: {
      duration: "2 seconds",
      handler: (data) => Effect.succeed({ status_code: 200, data: { got: data } })
    }
  }
})

describe("Testing.layerTest", () => {
  it.effect("a handler without a duration answers without moving the clock, and the call is recorded", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const result = yield* calls.call("echo", { x: 1 })
      expect(result.response).toEqual({ echoed: { x: 1 } })
      const recorded = yield* Testing.recordedCalls
      expect(recorded.map((c) => [c.externalId, c.data, c.status, c.response])).toEqual([
        ["echo", { x: 1 }, "Completed", Option.some({ echoed: { x: 1 } })]
      ])
      expect((yield* calls.logs("echo", result.call.id)).map((l) => l.message)).toEqual(["echoing"])
    }).pipe(Effect.provide(TestLive)))

  it.effect("a duration past the project's timeout is a CallTimedOut, seen 1 ms after the timeout", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const fiber = yield* Effect.fork(Effect.flip(calls.call("slow", {})))
      yield* TestClock.adjust("120001 millis")
      expect((yield* Fiber.join(fiber))._tag).toBe("CallTimedOut")
      const [recorded] = yield* Testing.recordedCalls
      expect(recorded.status).toBe("Timeout")
    }).pipe(Effect.provide(TestLive)))

  it.effect("secrets reach the handler; a Function App answers its envelope after its duration", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      expect((yield* calls.call("secretive", {})).response).toBe("s3cr3t")
      const apps = yield* FunctionApps.FunctionApps
      const fiber = yield* Effect.fork(apps.call("app", { method: "GET", path: "/x" }))
      yield* TestClock.adjust("2 seconds")
      const result = yield* Fiber.join(fiber)
      expect(result.envelope).toMatchObject({ _tag: "AppSuccess", data: { got: { method: "GET", path: "/x" } } })
    }).pipe(Effect.provide(TestLive)))

  it.effect("schedules fire on the TestClock through the real Schedules service", () =>
    Effect.gen(function*() {
      const schedules = yield* Schedules.Schedules
      yield* schedules.create({ name: "each minute", cronExpression: "* * * * *", function: "echo", data: { n: 1 } })
      yield* TestClock.adjust("3 minutes")
      const recorded = yield* Testing.recordedCalls
      expect(recorded.map((c) => [c.externalId, c.data, c.status])).toEqual([
        ["echo", { n: 1 }, "Completed"],
        ["echo", { n: 1 }, "Completed"],
        ["echo", { n: 1 }, "Completed"]
      ])
      const emulator = yield* Emulator.Emulator
      expect(emulator.baseUrl).toBe(Emulator.IN_MEMORY_BASE_URL)
    }).pipe(Effect.provide(TestLive)))

  it.effect("register adds a function during a test, or replaces a handler", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const id = yield* Testing.register("later", () => Effect.succeed(1))
      expect((yield* calls.call(id, {})).response).toBe(1)
      expect(yield* Testing.register("later", () => Effect.succeed(2))).toBe(id)
      expect((yield* calls.call("later", {})).response).toBe(2)
    }).pipe(Effect.provide(TestLive)))

  it.effect("layerFunctions composes over an emulator configured by hand: faults from the start", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      // the first POST .../call answers 429: the transport waits (on the TestClock) and sends it again
      const fiber = yield* Effect.fork(calls.call("echo", { x: 2 }))
      yield* TestClock.adjust("10 seconds")
      expect((yield* Fiber.join(fiber)).response).toEqual({ echoed: { x: 2 } })
      const emulator = yield* Emulator.Emulator
      const [rule] = yield* emulator.faultStats
      expect(rule.fired).toBe(1)
      expect((yield* Testing.recordedCalls).length).toBe(1)
    }).pipe(Effect.provide(
      Testing.layerFunctions({ functions: { echo: (data) => Effect.succeed({ echoed: data }) } }).pipe(
        Layer.provideMerge(Testing.layerServices),
        Layer.provideMerge(Emulator.layerInMemory({
          faults: {
            rules: [{
              method: "POST",
              path: "/functions/*/call",
              times: 1,
              action: { _tag: "status", status: 429, retryAfterSeconds: 1 }
            }]
          }
        }))
      )
    )))
})
