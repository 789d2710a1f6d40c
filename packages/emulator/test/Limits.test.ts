/**
 * Limits, auth and capabilities over HTTP: running calls per function and per project (429), functions
 * and schedules per project/function, the input size, OAuth2 client-credentials tokens that expire,
 * activation, and disabled capabilities (403). Uses in-process handlers registered from the test.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { Emulator } from "../src/index.js"
import { deploy, field, nonce, num, request, str, waitCall } from "./support.js"

describe("limits", () => {
  layer(
    Emulator.layer({
      project: "limits",
      limits: {
        maxRunningCallsPerFunction: 2,
        maxRunningCallsPerProject: 3,
        maxFunctions: 3,
        maxSchedulesPerFunction: 1,
        maxInputBytes: 100,
        timeoutMinutes: 1
      }
    }),
    { timeout: 60_000, excludeTestServices: true }
  )((it) => {
    it.effect("running calls per function and per project, input size, functions and schedules", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const gate = yield* Deferred.make<void>()
        yield* emulator.registerHandler("gated", () => Effect.runPromise(Deferred.await(gate)).then(() => ({ ok: 1 })))
        const a = num(yield* deploy(emulator, {}, { functionPath: "inprocess:gated" }), "id")
        const b = num(yield* deploy(emulator, {}, { functionPath: "inprocess:gated" }), "id")
        const call = (id: number, data: unknown = {}) =>
          Effect.flatMap(
            nonce(emulator),
            (n) => request(emulator, "POST", `/functions/${id}/call`, { body: { data, nonce: n } })
          )

        expect((yield* call(a)).status).toBe(201)
        expect((yield* call(a)).status).toBe(201)
        const perFunction = yield* call(a)
        expect(perFunction.status).toBe(429)
        expect(str(perFunction.body, "error", "message")).toContain("running calls")
        expect((yield* call(b)).status).toBe(201)
        const perProject = yield* call(b)
        expect(perProject.status).toBe(429)
        expect(str(perProject.body, "error", "message")).toContain("project")

        const tooBig = yield* call(b, { blob: "x".repeat(200) })
        expect(tooBig.status).toBe(413)
        expect(num(tooBig.body, "error", "code")).toBe(413)

        yield* Deferred.succeed(gate, undefined)
        const calls = yield* request(emulator, "GET", `/functions/${a}/calls`)
        for (const c of field(calls.body, "items") as Array<unknown>) yield* waitCall(emulator, a, num(c, "id"))
        expect((yield* call(a)).status).toBe(201)

        yield* deploy(emulator, {}, { functionPath: "inprocess:gated" })
        const fourth = yield* request(emulator, "POST", "/functions", {
          body: { items: [{ name: "x", fileId: 1, functionPath: "inprocess:gated" }] }
        })
        expect(fourth.status).toBe(400)
        expect(str(fourth.body, "error", "message")).toContain("3 functions")

        const schedule = (n: string) =>
          request(emulator, "POST", "/functions/schedules", {
            body: { items: [{ name: "s", cronExpression: "0 0 1 1 *", functionId: a, nonce: n }] }
          })
        expect((yield* schedule(yield* nonce(emulator))).status).toBe(201)
        const second = yield* schedule(yield* nonce(emulator))
        expect(second.status).toBe(400)
        expect(str(second.body, "error", "message")).toContain("schedules")

        const limits = yield* request(emulator, "GET", "/functions/limits")
        expect(field(limits.body, "timeoutMinutes")).toBe(1)
      }))
  })
})

describe("auth", () => {
  layer(
    Emulator.layer({ project: "auth", clientId: "cid", clientSecret: "csecret", tokenTtlSeconds: 60 }),
    { timeout: 60_000, excludeTestServices: true }
  )((it) => {
    it.effect("client-credentials tokens are issued, accepted and expire", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const tokenRequest = (secret: string) =>
          request(emulator, "POST", "", {
            url: `${emulator.baseUrl}/oauth2/token`,
            token: null,
            raw: new URLSearchParams({
              grant_type: "client_credentials",
              client_id: "cid",
              client_secret: secret,
              scope: "s"
            })
              .toString(),
            headers: { "content-type": "application/x-www-form-urlencoded" }
          })
        const issued = yield* tokenRequest("csecret")
        expect(issued.status).toBe(200)
        expect(field(issued.body, "token_type")).toBe("Bearer")
        expect(field(issued.body, "expires_in")).toBe(60)
        const token = str(issued.body, "access_token")
        expect((yield* request(emulator, "GET", "/functions", { token })).status).toBe(200)
        expect((yield* tokenRequest("wrong")).status).toBe(401)
        yield* emulator.advance("61 seconds")
        const expired = yield* request(emulator, "GET", "/functions", { token })
        expect(expired.status).toBe(401)
        expect(num(expired.body, "error", "code")).toBe(401)
        // the dev token never expires
        expect((yield* request(emulator, "GET", "/functions")).status).toBe(200)
      }))
  })
})

describe("activation and capabilities", () => {
  layer(
    Emulator.layer({ project: "caps", activation: "inactive", disabledCapabilities: ["functionsAcl:RUN"] }),
    { timeout: 60_000, excludeTestServices: true }
  )((it) => {
    it.effect("inactive -> requested -> activated; a disabled capability answers 403", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        expect(field((yield* request(emulator, "GET", "/functions/status")).body, "status")).toBe("inactive")
        const refused = yield* request(emulator, "POST", "/functions", { body: { items: [{ name: "x", fileId: 1 }] } })
        expect(refused.status).toBe(403)
        const activate = yield* request(emulator, "POST", "/functions/status")
        expect(activate.status).toBe(202)
        expect(field(activate.body, "status")).toBe("requested")
        expect(field((yield* request(emulator, "GET", "/functions/status")).body, "status")).toBe("activated")

        yield* emulator.registerHandler("noop", () => ({}))
        const fn = yield* deploy(emulator, {}, { functionPath: "inprocess:noop" })
        expect(field(fn, "status")).toBe("Ready")
        const call = yield* request(emulator, "POST", `/functions/${num(fn, "id")}/call`, {
          body: { nonce: yield* nonce(emulator) }
        })
        expect(call.status).toBe(403)
        expect(str(call.body, "error", "message")).toContain("functionsAcl:RUN")
      }))
  })
})
