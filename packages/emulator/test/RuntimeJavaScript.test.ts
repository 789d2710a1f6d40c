import { assert, describe, layer } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { layer as runtimeLayer } from "../src/HandlerRuntime.js"
import type { LogLine } from "../src/HandlerRuntime.js"
import {
  callInfo,
  completed,
  failedWith,
  prepareAndRun,
  prepared,
  runPastTimeout,
  timedOut
} from "./fixtures/runtime/bundles.js"

const gatePath = () => path.join(os.tmpdir(), `effect-cdf-gate-${process.pid}-${Math.random().toString(36).slice(2)}`)

/** Waits (in the handler) until the test creates the file named by `data.gate`. */
const waitForGate = `
import * as fs from "node:fs"
const gate = (file) => new Promise((resolve) => {
  const poll = () => fs.existsSync(file) ? resolve() : setTimeout(poll, 5)
  poll()
})
`

describe("HandlerRuntime, JavaScript handlers", () => {
  layer(runtimeLayer)((it) => {
    it.effect("a completed call gets data, secrets and call info", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun({
          "handler.js":
            `export const handle = ({ data, secrets, functionCallInfo }) => ({ data, secrets, functionCallInfo })`
        })
        const done = completed(outcome)
        assert.deepStrictEqual(done.response, {
          data: { x: 1 },
          secrets: { key: "s3cret" },
          functionCallInfo: callInfo
        })
        assert.deepStrictEqual(done.logs, [])
      }))

    it.effect("an async handler in handler.mjs; absent data arrives as {}", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(
          {
            "handler.mjs":
              `export async function handle({ data }) { await new Promise((r) => setTimeout(r, 5)); return { data } }`
          },
          { data: undefined }
        )
        assert.deepStrictEqual(completed(outcome).response, { data: {} })
      }))

    it.effect("a CommonJS handler.js, and one beside a nested functionPath", () =>
      Effect.gen(function*() {
        const cjs = yield* prepareAndRun({
          "handler.js": `const helper = require("./helper.js"); exports.handle = () => helper.value`,
          "helper.js": `module.exports = { value: "from cjs" }`
        })
        assert.strictEqual(completed(cjs).response, "from cjs")
        const nested = yield* prepared(
          { "src/handler.mjs": `export default { handle: () => "nested" }` },
          "src/handler.py"
        )
        assert.strictEqual(nested.handler.entry, "src/handler.mjs")
        assert.strictEqual(nested.handler.kind, "javascript")
        assert.strictEqual(completed(yield* nested.run()).response, "nested")
      }))

    it.effect("a throw is Failed with the message and the stack", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun({
          "handler.js": `export const handle = async () => { throw new RangeError("bad input") }`
        })
        const error = failedWith(outcome).error
        assert.strictEqual(error.message, "RangeError: bad input")
        assert.include(error.trace ?? "", "handler.js")
      }))

    it.effect("logs: every console method and stdout writes, in order, one line each, with timestamps", () =>
      Effect.gen(function*() {
        const streamed: Array<LogLine> = []
        const before = Date.now()
        const outcome = yield* prepareAndRun(
          {
            "handler.js": `export const handle = () => {
              console.log("one")
              console.error("two")
              console.warn("three\\nfour")
              console.info({ five: 5 })
              process.stdout.write("six ")
              process.stdout.write("still six\\n")
              process.stderr.write("seven")
              return "done"
            }`
          },
          { onLog: (line) => streamed.push(line) }
        )
        const done = completed(outcome)
        const messages = done.logs.map((line) => line.message)
        assert.deepStrictEqual(messages, ["one", "two", "three", "four", "{ five: 5 }", "six still six", "seven"])
        assert.deepStrictEqual(streamed, done.logs)
        for (const line of done.logs) assert.isAtLeast(line.timestamp, before)
      }))

    it.effect("logs are streamed while the handler runs", () =>
      Effect.gen(function*() {
        const gate = gatePath()
        const handler = yield* prepared({
          "handler.js": `${waitForGate}
            export const handle = async ({ data }) => { console.log("waiting"); await gate(data.gate); console.log("through"); return 1 }`
        })
        // The handler only gets past the gate once the test has seen its first line.
        const outcome = yield* handler.run({
          data: { gate },
          onLog: (line) => {
            if (line.message === "waiting") fs.writeFileSync(gate, "")
          }
        })
        fs.rmSync(gate, { force: true })
        assert.deepStrictEqual(completed(outcome).logs.map((line) => line.message), ["waiting", "through"])
      }))

    it.effect("a handler past its timeout is stopped: Timeout, with the logs so far", () =>
      Effect.gen(function*() {
        const outcome = yield* runPastTimeout(
          { "handler.js": `export const handle = () => { console.log("spinning"); for (;;) {} }` },
          { timeoutMillis: 300 }
        )
        const timeout = timedOut(outcome)
        assert.include(timeout.error.message, "timed out")
        assert.deepStrictEqual(timeout.logs.map((line) => line.message), ["spinning"])
      }))

    it.effect("a response over the limit is Failed, naming the limit", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(
          { "handler.js": `export const handle = () => "x".repeat(2000)` },
          { responseSizeLimitBytes: 1000 }
        )
        const error = failedWith(outcome).error
        assert.include(error.message, "1000 bytes")
        assert.include(error.message, "too large")
      }))

    it.effect("a response that is not JSON is Failed", () =>
      Effect.gen(function*() {
        const fn = yield* prepareAndRun({ "handler.js": `export const handle = () => ({ f: () => 1 })` })
        assert.include(failedWith(fn).error.message, "not JSON serialisable")
        const big = yield* prepareAndRun({ "handler.js": `export const handle = () => ({ n: 10n })` })
        assert.include(failedWith(big).error.message, "not JSON serialisable")
        const circular = yield* prepareAndRun({
          "handler.js": `export const handle = () => { const a = {}; a.self = a; return a }`
        })
        assert.include(failedWith(circular).error.message, "not JSON serialisable")
      }))

    it.effect("a handler that runs out of memory is Failed with a memory message", () =>
      Effect.gen(function*() {
        const outcome = yield* prepareAndRun(
          {
            "handler.js":
              `export const handle = () => { const keep = []; for (;;) keep.push(new Array(100000).fill(keep.length)) }`
          },
          { memoryMb: 32 }
        )
        assert.include(failedWith(outcome).error.message, "Memory limit exceeded")
      }))

    it.effect("a slow handler does not block another call", () =>
      Effect.gen(function*() {
        const gate = gatePath()
        const slow = yield* prepared({
          "handler.js": `${waitForGate}
            export const handle = async ({ data }) => { await gate(data.gate); return "slow" }`
        })
        const fast = yield* prepared({ "handler.js": `export const handle = () => "fast"` }, undefined, 2)
        const slowFiber = yield* Effect.fork(slow.run({ data: { gate } }))
        const fastOutcome = yield* fast.run()
        assert.strictEqual(completed(fastOutcome).response, "fast")
        assert.isTrue(Option.isNone(yield* Fiber.poll(slowFiber)))
        fs.writeFileSync(gate, "")
        const slowOutcome = yield* Fiber.join(slowFiber)
        fs.rmSync(gate, { force: true })
        assert.strictEqual(completed(slowOutcome).response, "slow")
      }))

    it.effect("a busy synchronous loop is interrupted, and the handler keeps working", () =>
      Effect.gen(function*() {
        const handler = yield* prepared({
          "handler.js":
            `export const handle = ({ data }) => { if (data.spin) { console.log("spin"); for (;;) {} } return "ok" }`
        })
        let started: (() => void) | undefined
        const spinning = new Promise<void>((resolve) => {
          started = resolve
        })
        const fiber = yield* Effect.fork(
          handler.run({ data: { spin: true }, onLog: () => started?.() })
        )
        yield* Effect.promise(() => spinning)
        yield* Fiber.interrupt(fiber)
        const again = yield* handler.run({ data: { spin: false } })
        assert.strictEqual(completed(again).response, "ok")
      }))

    it.effect("warm workers keep module state; envVars reach process.env", () =>
      Effect.gen(function*() {
        const handler = yield* prepared({
          "handler.js":
            `let calls = 0; export const handle = () => ({ calls: ++calls, env: process.env.GREETING ?? null })`
        })
        const first = yield* handler.run({ memoryMb: 1536 })
        const second = yield* handler.run({ memoryMb: 1536 })
        assert.deepStrictEqual(completed(first).response, { calls: 1, env: null })
        assert.deepStrictEqual(completed(second).response, { calls: 2, env: null })
        const withEnv = yield* handler.run({ envVars: { GREETING: "hej" } })
        assert.deepStrictEqual(completed(withEnv).response, { calls: 1, env: "hej" })
      }))
  })
})
