/**
 * Canary search: a secret given by the user, or echoed by a server, appears in no channel: message,
 * `String`, `JSON.stringify`, `Cause.pretty`, logs at `LogLevel.All`, spans (names, attributes, events).
 */
import { CogniteFunction, Ids } from "@effect-cdf/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Redacted } from "effect"
import * as FunctionApps from "../src/FunctionApps.js"
import { Functions } from "../src/Functions.js"
import { fakeCdf, withTelemetry } from "./support/fakeCdf.js"
import { NONCE, scripted } from "./support/scripted.js"

/** Fails unless `canary` is in none of the channels of the exit and of the telemetry. */
const assertNowhere = (exit: Exit.Exit<unknown, unknown>, telemetry: string, canary: string) => {
  assert.isTrue(Exit.isFailure(exit))
  if (Exit.isSuccess(exit)) return
  const error = Cause.squash(exit.cause)
  const channels = [
    error instanceof Error ? error.message : "",
    String(error),
    JSON.stringify(error),
    Cause.pretty(exit.cause),
    telemetry
  ]
  for (const text of channels) assert.notInclude(text, canary)
}

describe("secrets in errors", () => {
  it.effect("Functions.create with a plain-string secret that fails validation never quotes it", () =>
    Effect.gen(function*() {
      const canary = "plain-secret-c4n4ry-01"
      const fake = fakeCdf(() => undefined)
      // what a JavaScript caller can pass: secrets as plain strings, one name invalid
      const write: unknown = {
        name: "hello",
        fileId: Ids.FileId.make(42),
        secrets: { "Bad_Name": canary, good: canary }
      }
      for (const candidate of [write, { name: "hello", fileId: 42, secrets: { good: canary } }]) {
        const [exit, telemetry] = yield* withTelemetry(
          Effect.flatMap(Functions, (functions) =>
            // a JavaScript caller's object, unchecked by the compiler: the schema must refuse it
            Effect.suspend(() => functions.create(candidate as CogniteFunction.FunctionWrite))).pipe(
              Effect.provide(fake.layer)
            )
        )
        assertNowhere(exit, telemetry.text(), canary)
        if (Exit.isFailure(exit)) assert.strictEqual(Cause.squash(exit.cause) instanceof Error, true)
      }
      assert.strictEqual(fake.requests.length, 0)
    }))

  it.effect("a Redacted secret over the size limit is refused without quoting it", () =>
    Effect.gen(function*() {
      const canary = "big-secret-c4n4ry-02".repeat(1_400)
      const fake = fakeCdf(() => undefined)
      const write = CogniteFunction.FunctionWrite.make({
        name: "hello",
        fileId: Ids.FileId.make(42),
        secrets: { big: Redacted.make(canary) }
      }, { disableValidation: true })
      const [exit, telemetry] = yield* withTelemetry(
        Effect.flatMap(Functions, (functions) => functions.create(write)).pipe(Effect.provide(fake.layer))
      )
      assertNowhere(exit, telemetry.text(), "big-secret-c4n4ry-02")
    }))

  it.scoped("a Function App answer that echoes the request's nonce: the DecodeError does not carry it", () =>
    Effect.gen(function*() {
      const fake = yield* scripted((seen) =>
        seen.path === "/function-apps/app/calls"
          ? {
            status: 200,
            body: {
              callId: 1,
              functionId: 7,
              runtimeStatus: "Completed",
              response: { status_code: "not a number", echo: `I was sent ${NONCE}`, request: seen.body }
            }
          }
          : undefined
      )
      const [exit, telemetry] = yield* withTelemetry(
        Effect.flatMap(FunctionApps.FunctionApps, (apps) => apps.call("app", { path: "/x", method: "GET" })).pipe(
          Effect.provide(fake.context)
        )
      )
      assert.strictEqual(Exit.isFailure(exit) ? Cause.squash(exit.cause) instanceof Error : false, true)
      assertNowhere(exit, telemetry.text(), NONCE)
    }))
})
