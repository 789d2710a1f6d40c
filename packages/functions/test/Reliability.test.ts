/**
 * Zero duplicate executions: calls against the emulator while its `POST .../call` fails in every way a
 * network and a server can (reset before or after the request ran, 429, 503, a truncated or malformed
 * answer). The emulator counts executions; the SDK must never run a function twice for one `call`, must
 * adopt the call whenever its answer was lost and reconciliation can tell, and must otherwise say the
 * outcome is unknown.
 */
import type { Faults } from "@effect-cdf/emulator"
import { Emulator } from "@effect-cdf/emulator"
import { Calls, Functions } from "@effect-cdf/functions"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit, Schedule } from "effect"
import { emulated } from "./support/emulated.js"

const CALLS = Number(process.env.RELIABILITY_CALLS ?? 40)
/** Polls every 20 ms: the point here is the POST, not the pace of waiting. */
const fast = Schedule.spaced("20 millis")

const Live = emulated({ retry: { baseDelayMillis: 1, maxDelayMillis: 5 } })

const handler = "def handle(data):\n    return {\"n\": data[\"n\"]}\n"

layer(Live, { timeout: 120_000, excludeTestServices: true })("reliability", (it) => {
  it.effect(
    `${CALLS} calls through a faulty POST .../call never execute a function twice`,
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const functions = yield* Functions.Functions
        const calls = yield* Calls.Calls
        const fn = yield* functions.deploy({ name: "echo", source: { files: { "handler.py": handler } } })
        const rule = (probability: number, action: typeof Faults.FaultAction.Encoded) => ({
          method: "POST",
          path: "/functions/*/call",
          probability,
          action
        })
        yield* emulator.setFaults({
          seed: 20261123,
          rules: [
            rule(0.12, { _tag: "resetAfter" }),
            rule(0.1, { _tag: "resetBefore" }),
            rule(0.1, { _tag: "status", status: 503 }),
            rule(0.1, { _tag: "status", status: 429, retryAfterSeconds: 0 }),
            rule(0.08, { _tag: "truncate" }),
            rule(0.08, { _tag: "malformed" }),
            rule(0.05, { _tag: "status", status: 502, autoRetryable: true })
          ]
        })

        const outcomes: Record<string, number> = {}
        let reconciled = 0
        for (let n = 0; n < CALLS; n++) {
          const before = yield* emulator.executions(fn.id)
          const exit = yield* Effect.exit(calls.call(fn.id, { n }, { deadline: "30 seconds", schedule: fast }))
          // let a call created by a lost request finish running before counting
          yield* Effect.sleep("30 millis")
          const executed = (yield* emulator.executions(fn.id)) - before
          expect(executed).toBeLessThanOrEqual(1)
          if (Exit.isSuccess(exit)) {
            expect(executed).toBe(1)
            expect(exit.value.response).toEqual({ n })
            if (exit.value.report.reconciled) reconciled++
            outcomes.Completed = (outcomes.Completed ?? 0) + 1
          } else {
            const tag = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : "defect"
            outcomes[tag] = (outcomes[tag] ?? 0) + 1
            // a failed POST is either reported unknown or provably not executed
            if (tag !== "CallOutcomeUnknown") expect(executed).toBe(0)
          }
        }
        const fired = (yield* emulator.faultStats).reduce((sum, s) => sum + s.fired, 0)
        if (process.env.RELIABILITY_REPORT !== undefined) {
          console.log(JSON.stringify({ calls: CALLS, outcomes, reconciled, fired }))
        }
        expect(fired).toBeGreaterThan(CALLS / 4)
        expect(reconciled).toBeGreaterThan(0)
        expect(outcomes.Completed).toBeGreaterThan(CALLS / 2)
        expect(outcomes.defect).toBeUndefined()
      }),
    120_000
  )
})
