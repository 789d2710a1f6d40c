/**
 * Conformance of schedules and Function Apps: driven over real HTTP, every response body validated against
 * Cognite's OpenAPI description (spec/ at the repository root), with the spec's quirks overridden in ./spec.ts.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Emulator } from "../src/index.js"
import { conforms, echoHandler, fails } from "./conformance.js"
import { appResultRef, operationRef, responseRef, schemaRef } from "./spec.js"
import { deploy, field, nonce, num, request, str, until, waitCall } from "./support.js"

describe("conformance over HTTP: schedules and Function Apps", () => {
  layer(Emulator.layer({ project: "conformance" }), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("schedules S1-S7", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fn = yield* deploy(emulator, { "handler.js": echoHandler }, {
          functionPath: "handler.js",
          externalId: "sched-fn"
        })
        const functionId = num(fn, "id")
        const sessionReply = yield* request(emulator, "POST", "/sessions", {
          body: { items: [{ tokenExchange: true }] }
        })
        const sessionId = num(sessionReply.body, "items", 0, "id")
        const created = yield* request(emulator, "POST", "/functions/schedules", {
          body: {
            items: [{
              name: "every5",
              cronExpression: "*/5 * * * *",
              functionId,
              description: "d",
              data: { a: 1 },
              nonce: str(sessionReply.body, "items", 0, "nonce")
            }]
          }
        })
        conforms(created, 201, operationRef("/functions/schedules", "post", 201))
        const schedule = field(created.body, "items", 0)
        expect(field(schedule, "when")).toBe("Every 5 minutes")
        expect(field(schedule, "sessionId")).toBe(sessionId)
        expect(field(schedule, "nonce")).toBeUndefined()
        expect(field(schedule, "data")).toBeUndefined()
        const scheduleId = num(schedule, "id")

        fails(
          yield* request(emulator, "POST", "/functions/schedules", {
            body: { items: [{ name: "x", cronExpression: "not cron", functionId, nonce: yield* nonce(emulator) }] }
          }),
          400
        )
        fails(
          yield* request(emulator, "POST", "/functions/schedules", {
            body: { items: [{ name: "x", cronExpression: "* * * * *", functionId }] }
          }),
          400
        )

        conforms(
          yield* request(emulator, "GET", "/functions/schedules"),
          200,
          operationRef("/functions/schedules", "get", 200)
        )
        for (
          const filter of [{ functionId }, { FunctionId: functionId }, { functionExternalId: "sched-fn" }, {
            FunctionExternalId: "sched-fn"
          }]
        ) {
          const listed = yield* request(emulator, "POST", "/functions/schedules/list", { body: { filter } })
          conforms(listed, 200, operationRef("/functions/schedules/list", "post", 200))
          expect((field(listed.body, "items") as Array<unknown>).length, JSON.stringify(filter)).toBe(1)
        }
        const other = yield* request(emulator, "POST", "/functions/schedules/list", {
          body: { filter: { FunctionId: 5 } }
        })
        expect(field(other.body, "items")).toEqual([])

        conforms(
          yield* request(emulator, "GET", `/functions/schedules/${scheduleId}`),
          200,
          operationRef("/functions/schedules/{scheduleId}", "get", 200)
        )
        const input = yield* request(emulator, "GET", `/functions/schedules/${scheduleId}/input_data`)
        conforms(input, 200, operationRef("/functions/schedules/{scheduleId}/input_data", "get", 200))
        expect(input.body).toEqual({ id: scheduleId, data: { a: 1 } })
        const byids = yield* request(emulator, "POST", "/functions/schedules/byids", {
          body: { items: [{ id: scheduleId }, { id: 3 }], ignoreUnknownIds: true }
        })
        conforms(byids, 200, operationRef("/functions/schedules/byids", "post", 200))
        expect((field(byids.body, "items") as Array<unknown>).length).toBe(1)
        fails(yield* request(emulator, "POST", "/functions/schedules/byids", { body: { items: [{ id: 3 }] } }), 400)

        // it fires: the emulator's clock moves on 5 minutes
        yield* emulator.advance("5 minutes")
        const fired = yield* until(
          "the scheduled call",
          Effect.map(
            request(emulator, "POST", `/functions/${functionId}/calls/list`, { body: { filter: { scheduleId } } }),
            (r) => {
              const items = field(r.body, "items")
              return Array.isArray(items) && items.length > 0 ? items[0] : undefined
            }
          )
        )
        expect(typeof field(fired, "scheduledTime")).toBe("number")
        const finished = yield* waitCall(emulator, functionId, num(fired, "id"))
        expect(field(finished, "status")).toBe("Completed")
        const response = yield* request(emulator, "GET", `/functions/${functionId}/calls/${num(fired, "id")}/response`)
        expect(field(response.body, "response", "echo")).toEqual({ a: 1 })

        const deleted = yield* request(emulator, "POST", "/functions/schedules/delete", {
          body: { items: [{ id: scheduleId }] }
        })
        conforms(deleted, 200, operationRef("/functions/schedules/delete", "post", 200))
        fails(yield* request(emulator, "GET", `/functions/schedules/${scheduleId}`), 404)
      }))

    it.effect("function apps: sync, respond-async, list, response, logs", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const app = `export async function handle({ data }) {
  console.log(data.method + " " + data.path)
  if (data.path === "/slow") await new Promise((r) => setTimeout(r, 300))
  return { status_code: 200, data: { path: data.path, body: data.body } }
}`
        const fn = yield* deploy(emulator, { "handler.js": app }, { functionPath: "handler.js", externalId: "my-app" })
        const functionId = num(fn, "id")
        conforms(yield* request(emulator, "GET", "/function-apps"), 200, responseRef("FunctionList"))
        conforms(yield* request(emulator, "GET", "/function-apps/my-app"), 200, schemaRef("Function"))
        fails(yield* request(emulator, "GET", "/function-apps/nope"), 404)

        const sync = yield* request(emulator, "POST", "/function-apps/my-app/calls", {
          body: { data: { path: "/items/1", method: "GET" }, nonce: yield* nonce(emulator) }
        })
        conforms(sync, 200, appResultRef)
        expect(field(sync.body, "runtimeStatus")).toBe("Completed")
        expect(field(sync.body, "functionId")).toBe(functionId)
        expect(field(sync.body, "response")).toEqual({ status_code: 200, data: { path: "/items/1", body: {} } })

        const async = yield* request(emulator, "POST", "/function-apps/my-app/calls", {
          body: { data: { path: "/slow", method: "POST", body: { q: 1 } }, nonce: yield* nonce(emulator) },
          headers: { prefer: "respond-async" }
        })
        expect(async.status).toBe(202)
        const location = async.headers.get("location") ?? ""
        const callId = num(async.body, "callId")
        expect(location).toBe(
          `${emulator.baseUrl}/api/v1/projects/conformance/function-apps/my-app/calls/${callId}/response`
        )
        const first = yield* request(emulator, "GET", "", { url: location })
        expect(first.status).toBe(202)
        conforms(first, 202, appResultRef)
        const done = yield* until(
          "the async app call",
          Effect.map(request(emulator, "GET", "", { url: location }), (r) => r.status === 200 ? r : undefined)
        )
        conforms(done, 200, appResultRef)
        expect(field(done.body, "response", "data", "body")).toEqual({ q: 1 })

        const calls = yield* request(emulator, "GET", "/function-apps/my-app/calls")
        conforms(calls, 200, responseRef("FunctionCallList"))
        expect((field(calls.body, "items") as Array<unknown>).length).toBe(2)
        const logs = yield* request(emulator, "GET", `/function-apps/my-app/calls/${callId}/logs`)
        conforms(logs, 200, responseRef("FunctionCallLog"))
        expect(field(logs.body, "items", 0, "message")).toBe("POST /slow")
      }))
  })
})
