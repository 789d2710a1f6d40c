/**
 * The in-memory emulator driven with raw `HttpClient` requests (no socket) under the `TestClock`:
 * auth with the dev token, the upload and deploy flow, a call end to end, its timeout and a schedule,
 * all moved by `TestClock.adjust`.
 */
import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Schema, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Emulator } from "../src/index.js"
import { Call, deploy, Items, Json, nonce, send } from "./inMemorySupport.js"

const EmulatorInMemory = Emulator.layerInMemory({
  limits: { callTimeoutMillis: 60_000 },
  handlers: {
    // An Effect handler: its sleep is on the caller's clock (the TestClock here).
    slowEcho: ({ data }) => Effect.as(Effect.sleep("10 seconds"), { echoed: data }),
    forever: () => Effect.never,
    tick: () => "tick"
  }
})

describe("Emulator.layerInMemory", () => {
  it.scoped("serves the API with no socket at its base URL, with the dev token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      expect(emulator.baseUrl).toBe(Emulator.IN_MEMORY_BASE_URL)
      const client = yield* HttpClient.HttpClient
      const anonymous = yield* client.get(`${emulator.baseUrl}/api/v1/projects/${emulator.project}/functions`)
      expect(anonymous.status).toBe(401)
      const listed = yield* send(Schema.Struct({ items: Schema.Array(Json) }), "GET", "/functions")
      expect(listed).toEqual({ status: 200, body: { items: [] } })
      const health = yield* client.get(`${emulator.baseUrl}/__emulator/health`)
      expect(health.status).toBe(200)
      const foreign = yield* Effect.flip(client.get("http://127.0.0.1:9/api/v1/projects/x/functions"))
      expect(foreign._tag).toBe("RequestError")
    }).pipe(Effect.provide(EmulatorInMemory)))

  it.scoped("runs a call end to end as the TestClock moves", () =>
    Effect.gen(function*() {
      const id = yield* deploy("slowEcho")
      const started = yield* send(Call, "POST", `/functions/${id}/call`, { data: { n: 1 }, nonce: yield* nonce })
      expect(started).toEqual({ status: 201, body: { id: started.body.id, status: "Running" } })
      const byIds = send(Items, "POST", `/functions/${id}/calls/byids`, { items: [{ id: started.body.id }] })
      yield* TestClock.adjust("9 seconds")
      expect((yield* byIds).body.items[0]?.status).toBe("Running")
      yield* TestClock.adjust("1 second")
      expect((yield* byIds).body.items[0]?.status).toBe("Completed")
      const response = yield* send(Json, "GET", `/functions/${id}/calls/${started.body.id}/response`)
      expect(response.body).toEqual({ callId: started.body.id, functionId: id, response: { echoed: { n: 1 } } })
    }).pipe(Effect.provide(EmulatorInMemory)))

  it.scoped("times a call out on the TestClock", () =>
    Effect.gen(function*() {
      const id = yield* deploy("forever")
      const started = yield* send(Call, "POST", `/functions/${id}/call`, { nonce: yield* nonce })
      const get = send(Call, "GET", `/functions/${id}/calls/${started.body.id}`)
      yield* TestClock.adjust("59 seconds")
      expect((yield* get).body.status).toBe("Running")
      yield* TestClock.adjust("1 second")
      expect((yield* get).body.status).toBe("Timeout")
    }).pipe(Effect.provide(EmulatorInMemory)))

  it.scoped("fires a schedule on the TestClock", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const id = yield* deploy("tick")
      const created = yield* send(Json, "POST", "/functions/schedules", {
        items: [{ name: "every minute", cronExpression: "* * * * *", functionId: id, nonce: yield* nonce }]
      })
      expect(created.status).toBe(201)
      yield* TestClock.adjust("1 minute")
      const calls = yield* send(Items, "POST", `/functions/${id}/calls/list`, {})
      expect(calls.body.items.map((c) => c.status)).toEqual(["Completed"])
      expect(yield* emulator.executions(id)).toBe(1)
    }).pipe(Effect.provide(EmulatorInMemory)))

  it.scoped("turns injected connection faults into client errors", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.setFaults({ rules: [{ path: "/functions", times: 1, action: { _tag: "resetBefore" } }] })
      const reset = yield* Effect.flip(send(Json, "GET", "/functions"))
      expect(reset._tag).toBe("RequestError")
      yield* emulator.setFaults({ rules: [{ path: "/functions", times: 1, action: { _tag: "truncate" } }] })
      const cut = yield* Effect.flip(send(Json, "GET", "/functions"))
      expect(cut._tag).toBe("ResponseError")
      const fiber = yield* Effect.fork(send(Json, "GET", "/functions"))
      expect((yield* Fiber.join(fiber)).status).toBe(200)
    }).pipe(Effect.provide(EmulatorInMemory)))
})

describe("durability before the answer", () => {
  it.scoped("a call is in the journal on disk when its 201 arrives (no background flush ran)", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-durable-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
      const journal = () => fs.readFileSync(path.join(dataDir, "journal.jsonl"), "utf8")
      yield* Effect.gen(function*() {
        const id = yield* deploy("tick")
        const started = yield* send(Call, "POST", `/functions/${id}/call`, { nonce: yield* nonce })
        expect(started.status).toBe(201)
        // The TestClock has not moved: only the write before the answer can have put it there.
        expect(journal()).toContain(`{"put":"call","id":${started.body.id},`)
      }).pipe(Effect.provide(Emulator.layerInMemory({ dataDir, handlers: { tick: () => "tick" } })))
    }))
})
