/**
 * The TestClock drivers: `drive` finishes an effect that waits without real waiting, and `advance` lets a
 * background fiber see each instant on the way in order.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import * as TestClockDriver from "../src/TestClockDriver.js"

describe("TestClockDriver", () => {
  it.effect("drive jumps to each pending sleep and returns the effect's value", () =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const waited = yield* TestClockDriver.drive(
        Effect.zipRight(
          Effect.sleep("30 seconds"),
          Effect.zipRight(Effect.sleep("20 seconds"), Effect.map(Clock.currentTimeMillis, (t) => t - start))
        )
      )
      assert.strictEqual(waited, 50_000)
    }))

  it.effect("drive fails with the effect's failure", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        TestClockDriver.drive(Effect.zipRight(Effect.sleep("1 second"), Effect.fail("no")))
      )
      assert.strictEqual(error, "no")
    }))

  it.effect("advance stops at every sleep on the way and ends at the target", () =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const seen: Array<number> = []
      const tick = Effect.zipRight(
        Effect.sleep("1 second"),
        Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => seen.push(t - start)))
      )
      const fiber = yield* Effect.fork(Effect.repeatN(tick, 2))
      yield* TestClockDriver.advance(5_000)
      assert.deepStrictEqual(seen, [1_000, 2_000, 3_000])
      assert.strictEqual((yield* Clock.currentTimeMillis) - start, 5_000)
      yield* Fiber.join(fiber)
    }))
})
