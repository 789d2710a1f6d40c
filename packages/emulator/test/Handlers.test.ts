/**
 * Real handlers through the real runtime, over HTTP: JavaScript and Python handlers complete, fail
 * with a trace, time out, print logs (visible while running) and exceed the response limit; a slow
 * handler never delays other requests.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Emulator } from "../src/index.js"
import { callAndWait, deploy, field, nonce, num, request, str, until, waitCall } from "./support.js"

const js = `
export async function handle({ data, secrets, functionCallInfo }) {
  switch (data.mode) {
    case "fail": throw new Error("boom from js")
    case "sleep": await new Promise((r) => setTimeout(r, data.millis)); return { slept: data.millis }
    case "big": return { blob: "x".repeat(5000) }
    case "logs":
      console.log("first line")
      await new Promise((r) => setTimeout(r, 400))
      console.log("second line")
      return { logged: 2 }
    default: return { ok: true, secret: secrets.token2 ?? null, info: functionCallInfo }
  }
}
`

const py = `
import time

def handle(data, secrets, function_call_info):
    mode = data.get("mode")
    if mode == "fail":
        raise ValueError("boom from python")
    if mode == "sleep":
        time.sleep(data["millis"] / 1000)
        return {"slept": data["millis"]}
    if mode == "big":
        return {"blob": "x" * 5000}
    if mode == "logs":
        print("py first", flush=True)
        time.sleep(0.4)
        print("py second", flush=True)
        return {"logged": 2}
    return {"ok": True, "secret": secrets.get("token2"), "call_id": function_call_info["call_id"]}
`

const options = {
  project: "handlers",
  limits: { callTimeoutMillis: 1500, responseSizeBytes: 1000 }
} as const

describe.each([
  { kind: "JavaScript", files: { "handler.js": js }, functionPath: "handler.js", failure: "boom from js" },
  { kind: "Python", files: { "handler.py": py }, functionPath: "handler.py", failure: "boom from python" }
])("$kind handlers", ({ failure, files, functionPath }) => {
  layer(Emulator.layer(options), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("complete, fail with a trace, time out, log while running, and respect the response limit", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fn = yield* deploy(emulator, files, { functionPath, secrets: { token2: "hush" } })
        expect(field(fn, "status"), JSON.stringify(fn)).toBe("Ready")
        const id = num(fn, "id")

        const ok = yield* callAndWait(emulator, id, {})
        expect(field(ok, "status")).toBe("Completed")
        const response = yield* request(emulator, "GET", `/functions/${id}/calls/${num(ok, "id")}/response`)
        expect(field(response.body, "response", "ok")).toBe(true)
        expect(field(response.body, "response", "secret")).toBe("hush")

        const failed = yield* callAndWait(emulator, id, { mode: "fail" })
        expect(field(failed, "status")).toBe("Failed")
        expect(str(failed, "error", "message")).toContain(failure)
        expect(str(failed, "error", "trace").length).toBeGreaterThan(0)
        const noResponse = yield* request(emulator, "GET", `/functions/${id}/calls/${num(failed, "id")}/response`)
        expect(field(noResponse.body, "response")).toBeUndefined()

        const timedOut = yield* callAndWait(emulator, id, { mode: "sleep", millis: 5000 })
        expect(field(timedOut, "status")).toBe("Timeout")
        expect(typeof field(timedOut, "error", "message")).toBe("string")
        expect(num(timedOut, "endTime") - num(timedOut, "startTime")).toBeLessThan(4500)

        const big = yield* callAndWait(emulator, id, { mode: "big" })
        expect(field(big, "status")).toBe("Failed")
        expect(str(big, "error", "message")).toMatch(/too large|over the limit/)

        // logs are visible while the call runs
        const started = yield* request(emulator, "POST", `/functions/${id}/call`, {
          body: { data: { mode: "logs" }, nonce: yield* nonce(emulator) }
        })
        const callId = num(started.body, "id")
        const whileRunning = yield* until(
          "the first log line",
          Effect.map(request(emulator, "GET", `/functions/${id}/calls/${callId}/logs`), (r) => {
            const items = field(r.body, "items")
            return Array.isArray(items) && items.length > 0 ? items : undefined
          })
        )
        expect(field(whileRunning, 0, "message")).toMatch(/first/)
        const running = yield* request(emulator, "GET", `/functions/${id}/calls/${callId}`)
        expect(field(running.body, "status")).toBe("Running")
        yield* waitCall(emulator, id, callId)
        const logs = yield* request(emulator, "GET", `/functions/${id}/calls/${callId}/logs`)
        expect((field(logs.body, "items") as Array<unknown>).map((l) => field(l, "message"))).toEqual(
          functionPath.endsWith(".py") ? ["py first", "py second"] : ["first line", "second line"]
        )
        expect(yield* emulator.executions(id)).toBe(5)
      }))

    it.effect("a deployment without a handler fails with a message and a trace", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fn = yield* deploy(emulator, { "other.txt": "nothing" }, { functionPath })
        expect(field(fn, "status")).toBe("Failed")
        expect(typeof field(fn, "error", "message")).toBe("string")
        expect(typeof field(fn, "error", "trace")).toBe("string")
        const call = yield* request(emulator, "POST", `/functions/${num(fn, "id")}/call`, {
          body: { nonce: yield* nonce(emulator) }
        })
        expect(call.status).toBe(400)
      }))
  })
})

describe("a slow handler", () => {
  layer(Emulator.layer({ project: "slow" }), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("never delays other requests", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fn = yield* deploy(emulator, {
          "handler.js": "export async function handle() { await new Promise((r) => setTimeout(r, 2000)); return {} }"
        }, { functionPath: "handler.js" })
        const id = num(fn, "id")
        const started = yield* request(emulator, "POST", `/functions/${id}/call`, {
          body: { nonce: yield* nonce(emulator) }
        })
        expect(started.status).toBe(201)
        const t0 = Date.now()
        const replies = yield* Effect.forEach(
          Array.from(
            { length: 20 },
            () => request(emulator, "GET", `/functions/${id}/calls/${num(started.body, "id")}`)
          ),
          (e) => e,
          { concurrency: 5 }
        )
        const elapsed = Date.now() - t0
        // A generous bound: 20 GETs while the handler sleeps 2 s.
        expect(elapsed).toBeLessThan(1000)
        expect(replies.every((r) => field(r.body, "status") === "Running")).toBe(true)
        const done = yield* waitCall(emulator, id, num(started.body, "id"))
        expect(field(done, "status")).toBe("Completed")
      }))
  })
})
