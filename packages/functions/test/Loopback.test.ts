/**
 * The services over a real socket against the emulator on 127.0.0.1: a call that completes, one that
 * fails and one that times out, with Python handlers deployed through the Files API, and a bundle CDF
 * cannot run refused by the server's build.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Calls, CogniteFunctions, FunctionApps, Functions } from "@effect-cdf/functions"
import { Auth } from "@effect-cdf/http"
import { NodeHttpClient } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Schema } from "effect"

const EmulatorLive = Emulator.layer({ limits: { callTimeoutMillis: 1_500 } })

const ClientLive = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      CogniteFunctions.layer({ baseUrl: emulator.baseUrl, project: emulator.project }).pipe(
        Layer.provide(Auth.layerToken(emulator.token)),
        Layer.provide(NodeHttpClient.layerUndici)
      )
  )
).pipe(Layer.provideMerge(EmulatorLive))

const handler = `
import json
import time


def handle(data):
    print("got", json.dumps(data, separators=(",", ":")))
    if data.get("fail"):
        raise ValueError("asked to fail")
    if data.get("sleep"):
        time.sleep(data["sleep"] / 1000)
    return {"doubled": data["x"] * 2}
`

const app = `
def handle(data):
    if data["path"] == "/items/1":
        return {"status_code": 200, "data": {"id": 1, "name": "one"}}
    return {"status_code": 404, "error_type": "RouteNotFound", "message": "no route " + data["path"], "details": None}
`

layer(ClientLive, { timeout: 60_000, excludeTestServices: true })("calls over loopback against the emulator", (it) => {
  it.effect("deploys a function through the Files API and waits until Ready", () =>
    Effect.gen(function*() {
      const functions = yield* Functions.Functions
      const fn = yield* functions.deploy({
        name: "doubler",
        externalId: "doubler",
        source: { files: { "handler.py": handler } }
      })
      expect(fn.status).toBe("Ready")
      yield* functions.deploy({ name: "app", externalId: "items-app", source: { files: { "handler.py": app } } })
    }))

  it.effect("a bundle the server cannot run fails its build: DeployFailed with the server's reason", () =>
    Effect.gen(function*() {
      const functions = yield* Functions.Functions
      const exit = yield* Effect.exit(functions.deploy({ name: "no-entry", source: { files: { "main.py": handler } } }))
      if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") throw new Error("expected a failed deploy")
      const error = exit.cause.error
      if (error._tag !== "DeployFailed") throw new Error(`expected DeployFailed, got ${error._tag}`)
      expect(error.message).toContain("failed to deploy")
      expect(error.trace).toContain("handler.py")
    }))

  it.effect("a call that completes gives its response", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const result = yield* calls.call("doubler", { x: 21 }, { schema: Schema.Struct({ doubled: Schema.Number }) })
      expect(result.response.doubled).toBe(42)
      expect(result.report.statuses).toContain("Completed")
      const logs = yield* calls.logs("doubler", result.call.id)
      expect(logs.map((l) => l.message)).toEqual(["got {\"x\":21}"])
    }))

  it.effect("a call that fails is a CallFailed with the trace", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const error = yield* Effect.flip(calls.call("doubler", { fail: true }))
      if (error._tag !== "CallFailed") throw new Error(`expected CallFailed, got ${error._tag}: ${error.message}`)
      expect(error.reason).toContain("asked to fail")
      expect(error.trace).toContain("handler.py")
    }))

  it.effect("a call that runs past the timeout is a CallTimedOut", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const error = yield* Effect.flip(calls.call("doubler", { sleep: 10_000, x: 1 }))
      expect(error._tag).toBe("CallTimedOut")
    }))

  it.effect("a Function App answers with its envelope, sync and async", () =>
    Effect.gen(function*() {
      const apps = yield* FunctionApps.FunctionApps
      const ok = yield* apps.call("items-app", { method: "GET", path: "/items/1" }, {
        schema: Schema.Struct({ id: Schema.Number, name: Schema.String })
      })
      expect(ok.envelope).toMatchObject({ _tag: "AppSuccess", status_code: 200, data: { id: 1, name: "one" } })
      const missing = yield* apps.call("items-app", { method: "GET", path: "/nope" }, { async: true })
      expect(missing.envelope).toMatchObject({ _tag: "AppError", error_type: "RouteNotFound" })
    }))
})
