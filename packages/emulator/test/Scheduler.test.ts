/**
 * Schedules under a TestClock: the emulator sleeps with `Effect.sleep`, so adjusting the test clock
 * fires the schedule, with its data and `schedule_id` / `scheduled_time` in the call info.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Emulator } from "../src/index.js"
import { deploy, field, nonce, num, request, until, waitCall } from "./support.js"

describe("schedules", () => {
  it.scoped("fire on their cron expression when the TestClock moves", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const seen: Array<unknown> = []
      yield* emulator.registerHandler("tick", ({ data, functionCallInfo }) => {
        seen.push({ data, info: functionCallInfo })
        return { fired: true }
      })
      const fn = yield* deploy(emulator, {}, { functionPath: "inprocess:tick" })
      const functionId = num(fn, "id")
      const created = yield* request(emulator, "POST", "/functions/schedules", {
        body: {
          items: [{
            name: "tick",
            cronExpression: "*/5 * * * *",
            functionId,
            data: { hello: "cron" },
            nonce: yield* nonce(emulator)
          }]
        }
      })
      expect(created.status).toBe(201)
      const scheduleId = num(created.body, "items", 0, "id")
      const list = request(emulator, "POST", `/functions/${functionId}/calls/list`, {
        body: { filter: { scheduleId } }
      })

      yield* TestClock.adjust("4 minutes")
      expect(field((yield* list).body, "items")).toEqual([])
      yield* TestClock.adjust("1 minute")
      const call = yield* until("the scheduled call", Effect.map(list, (r) => field(r.body, "items", 0)))
      // The test clock starts at 0: the first */5 occurrence is 00:05 UTC.
      expect(field(call, "scheduledTime")).toBe(300_000)
      expect(field(call, "scheduleId")).toBe(scheduleId)
      const done = yield* waitCall(emulator, functionId, num(call, "id"))
      expect(field(done, "status")).toBe("Completed")
      expect(seen).toEqual([{
        data: { hello: "cron" },
        info: {
          function_id: functionId,
          call_id: num(call, "id"),
          schedule_id: scheduleId,
          scheduled_time: "1970-01-01T00:05:00.000Z"
        }
      }])

      yield* TestClock.adjust("10 minutes")
      const calls = yield* until(
        "two more calls",
        Effect.map(list, (r) => {
          const items = field(r.body, "items")
          return Array.isArray(items) && items.length === 3 ? items : undefined
        })
      )
      expect(calls.map((c) => field(c, "scheduledTime"))).toEqual([900_000, 600_000, 300_000])
    }).pipe(Effect.provide(Emulator.layer({ project: "cron" }))), 30_000)
})
