/**
 * The real SDK services over the in-memory emulator (what `@effect-cdf/testing` composes): a Python
 * deploy through the Files API, and a call of an in-process Effect handler deployed from code, with the
 * `TestClock` moving the handler's sleep and the SDK's polling. (Tests may use the client; the
 * emulator's sources never do.)
 */
import { Calls, CogniteFunctions, Functions } from "@effect-cdf/functions"
import { Auth } from "@effect-cdf/http"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Schema, TestClock } from "effect"
import { Emulator } from "../src/index.js"

const SdkInMemory = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      CogniteFunctions.layer({ baseUrl: emulator.baseUrl, project: emulator.project }).pipe(
        Layer.provide(Auth.layerToken(emulator.token))
      )
  )
).pipe(Layer.provideMerge(Emulator.layerInMemory()))

/** Runs `effect` while moving the TestClock a second at a time, until it is done. */
const withClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 600 && (yield* Fiber.poll(fiber))._tag === "None"; i++) yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

describe("the SDK over the in-memory emulator", () => {
  it.scoped("deploys through the Files API, and calls a handler deployed from code on the TestClock", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const functions = yield* Functions.Functions
      const calls = yield* Calls.Calls
      const deployed = yield* withClock(functions.deploy({
        name: "py",
        externalId: "py",
        source: { files: { "handler.py": "def handle(data):\n    return data\n" } }
      }))
      expect(deployed.status).toBe("Ready")

      const later = yield* emulator.deployHandler(
        "later",
        ({ data }) => Effect.as(Effect.sleep("30 seconds"), { got: data }),
        { externalId: "later" }
      )
      expect(later.status).toBe("Ready")
      const result = yield* withClock(
        calls.call("later", { n: 1 }, { schema: Schema.Struct({ got: Schema.Struct({ n: Schema.Number }) }) })
      )
      expect(result.response).toEqual({ got: { n: 1 } })
      expect(yield* emulator.executions(later.id)).toBe(1)
    }).pipe(Effect.provide(SdkInMemory)))
})
