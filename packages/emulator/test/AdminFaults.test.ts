/**
 * What the durable-calls tests need of the emulator, under the `TestClock`: the admin API's execution
 * list and counters, `delayAfter` (the call exists, its 201 is held), and `stringError` (a call's
 * `error` in the string form of the docs' first example).
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Redacted, Schema, TestClock } from "effect"
import { Emulator } from "../src/index.js"
import { Call, deploy, Json, nonce, send } from "./inMemorySupport.js"

const Executions = Schema.Struct({
  items: Schema.Array(Schema.Struct({
    callId: Schema.Number,
    functionId: Schema.Number,
    startTime: Schema.Number,
    status: Schema.String
  }))
})
const Counters = Schema.Struct({
  executions: Schema.Array(Schema.Struct({ functionId: Schema.Number, executions: Schema.Number }))
})

const admin = <A, I>(schema: Schema.Schema<A, I>, path: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(`${emulator.baseUrl}/__emulator${path}`).pipe(
        HttpClientRequest.bearerToken(Redacted.value(emulator.token))
      )
    )
    return yield* HttpClientResponse.schemaBodyJson(schema)(response)
  }).pipe(Effect.scoped)

const EmulatorInMemory = Emulator.layerInMemory({
  handlers: {
    ok: () => ({ fine: true }),
    boom: () => Effect.fail(new Error("ZeroDivisionError: division by zero"))
  }
})

describe("admin API and faults for durable calls", () => {
  it.scoped("delayAfter holds the 201 of a call that already exists, and /executions shows it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const id = yield* deploy("ok")
      yield* emulator.setFaults({
        rules: [{ method: "POST", path: "/functions/*/call", times: 1, action: { _tag: "delayAfter", millis: 5_000 } }]
      })
      const posting = yield* Effect.fork(send(Call, "POST", `/functions/${id}/call`, { nonce: yield* nonce }))
      // The call was created and ran, but its answer is still held.
      let during = yield* admin(Executions, `/executions?functionId=${id}`)
      for (let i = 0; i < 1000 && during.items.length === 0; i++) {
        yield* Effect.yieldNow()
        during = yield* admin(Executions, `/executions?functionId=${id}`)
      }
      expect(during.items.map((e) => e.functionId)).toEqual([id])
      expect(yield* Fiber.poll(posting)).toEqual(expect.objectContaining({ _tag: "None" }))
      yield* TestClock.adjust("5 seconds")
      const answered = yield* Fiber.join(posting)
      expect(answered.status).toBe(201)
      expect(answered.body.id).toBe(during.items[0]?.callId)
      const counters = yield* admin(Counters, "/counters")
      expect(counters.executions).toEqual([expect.objectContaining({ functionId: id, executions: 1 })])
    }).pipe(Effect.provide(EmulatorInMemory)))

  it.scoped("stringError gives a failed call's error as the string form", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const id = yield* deploy("boom")
      const started = yield* send(Call, "POST", `/functions/${id}/call`, { nonce: yield* nonce })
      yield* TestClock.adjust(1)
      const objectForm = yield* send(Json, "GET", `/functions/${id}/calls/${started.body.id}`)
      expect(objectForm.body).toEqual(expect.objectContaining({
        status: "Failed",
        error: expect.objectContaining({ message: "Error: ZeroDivisionError: division by zero" })
      }))
      yield* emulator.setFaults({ rules: [{ path: "/functions/*/calls/**", action: { _tag: "stringError" } }] })
      const one = yield* send(Json, "GET", `/functions/${id}/calls/${started.body.id}`)
      expect(one.body).toEqual(expect.objectContaining({
        status: "Failed",
        error: "Error: ZeroDivisionError: division by zero"
      }))
      const listed = yield* send(Json, "POST", `/functions/${id}/calls/byids`, { items: [{ id: started.body.id }] })
      expect(listed.body).toEqual({
        items: [expect.objectContaining({ error: "Error: ZeroDivisionError: division by zero" })]
      })
    }).pipe(Effect.provide(EmulatorInMemory)))
})
