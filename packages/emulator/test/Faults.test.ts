/**
 * Fault injection over HTTP: statuses with Retry-After and cdf-is-auto-retryable, latency, resets before
 * and after the request ran (the call really exists, once), truncated and malformed bodies, seeded
 * determinism, and the admin API with its counters.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import { Emulator } from "../src/index.js"
import { attempt, deploy, field, nonce, num, request } from "./support.js"

const admin = (emulator: Emulator.Emulator.Service, method: string, path: string, body?: unknown) =>
  request(emulator, method, "", {
    url: `${emulator.baseUrl}/__emulator${path}`,
    ...(body === undefined ? {} : { body })
  })

describe("fault injection", () => {
  layer(
    Emulator.layer({
      project: "faults",
      // Active from the start: the first GET /functions/limits answers 503.
      faults: { seed: 7, rules: [{ path: "/functions/limits", times: 1, action: { _tag: "status", status: 503 } }] }
    }),
    { timeout: 60_000, excludeTestServices: true }
  )((it) => {
    it.effect("status faults from the options, then through the admin API", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const first = yield* request(emulator, "GET", "/functions/limits")
        expect(first.status).toBe(503)
        expect(num(first.body, "error", "code")).toBe(503)
        expect((yield* request(emulator, "GET", "/functions/limits")).status).toBe(200)

        const set = yield* admin(emulator, "POST", "/faults", {
          rules: [{
            method: "GET",
            path: "/functions/status",
            times: 2,
            action: { _tag: "status", status: 429, retryAfterSeconds: 3, autoRetryable: true }
          }]
        })
        expect(set.status).toBe(200)
        const limited = yield* request(emulator, "GET", "/functions/status")
        expect(limited.status).toBe(429)
        expect(limited.headers.get("retry-after")).toBe("3")
        expect(limited.headers.get("cdf-is-auto-retryable")).toBe("true")
        expect((yield* request(emulator, "GET", "/functions/status")).status).toBe(429)
        expect((yield* request(emulator, "GET", "/functions/status")).status).toBe(200)
        const stats = yield* admin(emulator, "GET", "/faults")
        expect(field(stats.body, "rules", 0, "fired")).toBe(2)
        expect(field(stats.body, "rules", 0, "matched")).toBe(3)
        expect((yield* admin(emulator, "DELETE", "/faults")).status).toBe(200)
        expect(field((yield* admin(emulator, "GET", "/faults")).body, "rules")).toEqual([])
        const noToken = yield* request(emulator, "GET", "", {
          url: `${emulator.baseUrl}/__emulator/faults`,
          token: null
        })
        expect(noToken.status).toBe(401)
      }))

    it.effect("latency is added", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.setFaults({ rules: [{ path: "/functions", action: { _tag: "latency", millis: 300 } }] })
        const t0 = Date.now()
        expect((yield* request(emulator, "GET", "/functions")).status).toBe(200)
        expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
        yield* emulator.clearFaults
      }))

    it.effect("a reset before the request ran leaves no call; a reset after it ran leaves exactly one", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fn = yield* deploy(emulator, { "handler.js": "export const handle = () => ({ ok: 1 })" }, {
          functionPath: "handler.js"
        })
        const id = num(fn, "id")
        const callOnce = Effect.gen(function*() {
          return yield* Effect.either(attempt(emulator, "POST", `/functions/${id}/call`, {
            body: { nonce: yield* nonce(emulator) }
          }))
        })
        const callsSoFar = Effect.map(
          request(emulator, "GET", `/functions/${id}/calls`),
          (r) => (field(r.body, "items") as Array<unknown>).length
        )

        yield* emulator.setFaults({ rules: [{ path: "/functions/*/call", times: 1, action: { _tag: "resetBefore" } }] })
        expect(Either.isLeft(yield* callOnce)).toBe(true)
        expect(yield* callsSoFar).toBe(0)
        expect(yield* emulator.executions(id)).toBe(0)

        yield* emulator.setFaults({ rules: [{ path: "/functions/*/call", times: 1, action: { _tag: "resetAfter" } }] })
        expect(Either.isLeft(yield* callOnce)).toBe(true)
        // The outcome was unknown to the client, but the call exists and ran once.
        expect(yield* callsSoFar).toBe(1)
        const counters = yield* admin(emulator, "GET", "/counters")
        expect(field(counters.body, "executions")).toEqual([{ functionId: id, executions: 1 }])
        expect(field(counters.body, "totalExecutions")).toBe(1)

        // The fault is spent: the next call goes through.
        expect(Either.isRight(yield* callOnce)).toBe(true)
        expect(yield* emulator.executions(id)).toBe(2)
      }))

    it.effect("truncated and malformed bodies", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.setFaults({ rules: [{ path: "/functions", times: 1, action: { _tag: "truncate" } }] })
        const truncated = yield* Effect.either(attempt(emulator, "GET", "/functions"))
        // Either the body read fails (premature close) or what arrived is not the whole JSON.
        if (Either.isRight(truncated)) expect(truncated.right.body).toBeUndefined()
        yield* emulator.setFaults({ rules: [{ path: "/functions", times: 1, action: { _tag: "malformed" } }] })
        const malformed = yield* request(emulator, "GET", "/functions")
        expect(malformed.status).toBe(200)
        expect(malformed.body).toBeUndefined()
        expect(malformed.text.length).toBeGreaterThan(0)
        expect((yield* request(emulator, "GET", "/functions")).status).toBe(200)
      }))

    it.effect("the same seed gives the same faults", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const run = Effect.gen(function*() {
          yield* emulator.setFaults({
            seed: 42,
            rules: [{ path: "/functions/limits", probability: 0.5, action: { _tag: "status", status: 502 } }]
          })
          const statuses: Array<number> = []
          for (let i = 0; i < 24; i++) statuses.push((yield* request(emulator, "GET", "/functions/limits")).status)
          return statuses
        })
        const a = yield* run
        const b = yield* run
        expect(a).toEqual(b)
        expect(a).toContain(502)
        expect(a).toContain(200)
        yield* emulator.clearFaults
      }))
  })
})
