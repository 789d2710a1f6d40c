/**
 * Clean shutdown: releasing the layer stops the server even with a running call and a request blocked
 * on it (a synchronous Function App call), and the port no longer answers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber } from "effect"
import { Emulator } from "../src/index.js"
import { attempt, deploy, nonce, num, request } from "./support.js"

describe("shutdown", () => {
  it.live("releases the server, running calls and blocked requests promptly", () =>
    Effect.gen(function*() {
      const { baseUrl, blocked, elapsed } = yield* Effect.scoped(
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const fn = yield* deploy(emulator, {
            "handler.js": "export async function handle() { await new Promise((r) => setTimeout(r, 30000)); return {} }"
          }, { functionPath: "handler.js", externalId: "sleepy" })
          const started = yield* request(emulator, "POST", `/functions/${num(fn, "id")}/call`, {
            body: { nonce: yield* nonce(emulator) }
          })
          expect(started.status).toBe(201)
          // A synchronous app call waits for its call: it is in flight when the scope closes.
          const blocked = yield* Effect.fork(Effect.either(attempt(emulator, "POST", "/function-apps/sleepy/calls", {
            body: { data: { path: "/", method: "GET" }, nonce: yield* nonce(emulator) }
          })))
          yield* Effect.sleep("200 millis")
          return { baseUrl: emulator.baseUrl, blocked, elapsed: Date.now() }
        }).pipe(Effect.provide(Emulator.layer({ project: "shutdown" })))
      )
      expect(Date.now() - elapsed).toBeLessThan(5000)
      const outcome = yield* Fiber.join(blocked)
      expect(Either.isLeft(outcome)).toBe(true)
      const after = yield* Effect.either(Effect.tryPromise(() => fetch(`${baseUrl}/__emulator/health`)))
      expect(Either.isLeft(after)).toBe(true)
    }), 30_000)
})
