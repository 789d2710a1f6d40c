import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schedule } from "effect"
import * as Calls from "../src/Calls.js"
import { withTelemetry } from "./support/fakeCdf.js"
import { callBody, drive, scriptCall, scripted } from "./support/scripted.js"

describe("the Calls.call span", () => {
  it.scoped("carries the function id, call id, polls, final status and waited time", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(scriptCall((n) => ({
        status: 200,
        body: callBody(100, n < 3 ? "Running" : "Failed", { error: { message: "boom" } })
      })))
      const [exit, telemetry] = yield* withTelemetry(
        drive(Effect.flatMap(Calls.Calls, (calls) => calls.call(7, {}, { schedule: Schedule.spaced("1 second") })))
      ).pipe(Effect.provide(fake.context))
      expect(Exit.isFailure(exit)).toBe(true)
      const text = telemetry.text()
      for (
        const attribute of [
          "attribute Calls.call cdf.function.id=7",
          "attribute Calls.call cdf.call.id=100",
          "attribute Calls.call cdf.call.polls=3",
          "attribute Calls.call cdf.call.status=Failed",
          "attribute Calls.call cdf.call.waited_ms=3000"
        ]
      ) expect(text).toContain(attribute)
    }))
})
