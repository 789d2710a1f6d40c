import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schedule } from "effect"
import * as Calls from "../src/Calls.js"
import { withTelemetry } from "./support/fakeCdf.js"
import { callBody, drive, type Reply, scripted, type Seen } from "./support/scripted.js"

describe("the Calls.call span", () => {
  it.scoped("carries the function id, call id, polls, final status and waited time", () =>
    Effect.gen(function*() {
      let polls = 0
      const fake = yield* scripted((seen: Seen): Reply | undefined => {
        if (seen.method === "POST" && seen.path === "/functions/7/call") {
          return { status: 201, body: callBody(100, "Running") }
        }
        if (seen.path === "/functions/7/calls/100") {
          return {
            status: 200,
            body: callBody(100, ++polls < 3 ? "Running" : "Failed", { error: { message: "boom" } })
          }
        }
        return undefined
      })
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
