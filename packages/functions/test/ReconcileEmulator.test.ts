/**
 * Reconciliation against the emulator: the answer to our `POST .../call` is lost (reset before or after the
 * call was created) while another client's call of the same function started inside or outside the
 * window. A foreign call is never taken for ours; ours is adopted only when its session was used.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Calls, Functions } from "@effect-cdf/functions"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { emulated } from "./support/emulated.js"

const fast = Schedule.spaced("20 millis")

const Live = emulated({ retry: { baseDelayMillis: 1, maxDelayMillis: 5 } })

const handler = "exports.handle = async ({ data }) => { await new Promise((r) => setTimeout(r, 300)); return data }"

layer(Live, { timeout: 60_000, excludeTestServices: true })("reconciliation against the emulator", (it) => {
  const setup = Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const functions = yield* Functions.Functions
    const ours = yield* Calls.Calls
    // another client of the same project: its own service, so its calls are not known to ours
    const foreign = yield* Calls.make
    const fn = yield* functions.deploy({
      name: `echo-${Math.random().toString(36).slice(2)}`,
      source: { files: { "handler.js": handler } }
    })
    const loseNextPost = (action: "resetBefore" | "resetAfter") =>
      emulator.setFaults({
        seed: 1,
        rules: [{ method: "POST", path: `/functions/${fn.id}/call`, times: 1, action: { _tag: action } }]
      })
    return { emulator, fn, ours, foreign, loseNextPost }
  })

  it.effect("not created, a foreign call in the window: NotCreated, the foreign response is not ours", () =>
    Effect.gen(function*() {
      const { emulator, fn, foreign, loseNextPost, ours } = yield* setup
      const other = yield* foreign.start(fn.id, { who: "foreign" })
      yield* loseNextPost("resetBefore")
      const error = yield* Effect.flip(ours.call(fn.id, { who: "us" }, { schedule: fast }))
      expect(error).toMatchObject({ _tag: "CallOutcomeUnknown", evidence: "NotCreated" })
      yield* Effect.sleep("500 millis")
      expect(yield* emulator.executions(fn.id)).toBe(1)
      const done = yield* foreign.await(other.handle, { schedule: fast })
      expect(done.response).toEqual({ who: "foreign" })
    }))

  it.effect("created, a foreign call in the window: Created with both candidates, nothing adopted", () =>
    Effect.gen(function*() {
      const { fn, foreign, loseNextPost, ours } = yield* setup
      const other = yield* foreign.start(fn.id, { who: "foreign" })
      yield* loseNextPost("resetAfter")
      const error = yield* Effect.flip(ours.call(fn.id, { who: "us" }, { schedule: fast }))
      expect(error).toMatchObject({ _tag: "CallOutcomeUnknown", evidence: "Created" })
      expect(error._tag === "CallOutcomeUnknown" ? error.candidates : []).toContain(other.call.id)
    }))

  it.effect("created, a foreign call before the window: ours is adopted with our response", () =>
    Effect.gen(function*() {
      const { fn, foreign, loseNextPost, ours } = yield* setup
      yield* foreign.start(fn.id, { who: "foreign" })
      yield* Effect.sleep("200 millis")
      yield* loseNextPost("resetAfter")
      const result = yield* ours.call(fn.id, { who: "us" }, { schedule: fast, reconcileWindow: "50 millis" })
      expect(result.report.reconciled).toBe(true)
      expect(result.response).toEqual({ who: "us" })
    }))
})
