/**
 * The SQLite storage with real processes: a runner in a child process killed with SIGKILL mid-wait and
 * restarted; a second process on the same file refused; and kills during the POST across many seeded
 * runs, counted against the emulator (0 duplicate executions; each run completed or CallOutcomeUnknown).
 */
import { Emulator } from "@effect-cdf/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as path from "node:path"
import * as Cdf from "./support/cdf.js"
import { bundle, kill9, spawnRunner, tempDir } from "./support/child.js"

// at least 100 in CI; DURABLE_KILL_RUNS raises it for a longer soak
const KILL_RUNS = Math.max(10, Number(process.env.DURABLE_KILL_RUNS ?? 100))
const POST_LATENCY = 150

const Result = Schema.parseJson(Schema.Struct({
  key: Schema.String,
  outcome: Schema.String,
  callId: Schema.optional(Schema.Number),
  response: Schema.optional(Schema.Unknown)
}))
const decodeResult = (line: string) => Schema.decodeUnknownSync(Result)(line.slice("result ".length))

const Live = Cdf.layer({
  limits: { maxFunctions: KILL_RUNS + 10 },
  faults: {
    seed: 13,
    rules: [{ method: "POST", path: "/functions/*/call", action: { _tag: "latency", millis: POST_LATENCY } }]
  }
})

layer(Live, { timeout: 600_000, excludeTestServices: true })("SQLite storage in child processes", (it) => {
  it.scoped(
    "kill -9 mid-wait, restart on the same file: the call completes with exactly 1 execution",
    () =>
      Effect.gen(function*() {
        const file = yield* bundle
        const dir = yield* tempDir("durable-sqlite-")
        const env = { ...(yield* Cdf.childEnv), DURABLE_SQLITE: path.join(dir, "durable.db") }
        const emulator = yield* Emulator.Emulator
        const functionId = yield* Cdf.deploy("mid-wait")

        const first = yield* spawnRunner(file, env)
        yield* first.waitFor("ready")
        first.send({ start: { key: "mid-wait-1", fn: "mid-wait", data: { run: "mid-wait-1", sleep: 3_000 } } })
        yield* first.waitFor("started mid-wait-1")
        yield* Cdf.until("the call to run", Effect.map(emulator.executions(functionId), (n) => n > 0 || undefined))
        yield* kill9(first)

        const second = yield* spawnRunner(file, env)
        yield* second.waitFor("ready")
        second.send({ await: "mid-wait-1" })
        const result = decodeResult(yield* second.waitFor("result ", 60_000))
        assert.strictEqual(result.outcome, "Completed")
        assert.deepStrictEqual(result.response, { run: "mid-wait-1" })
        assert.strictEqual(yield* emulator.executions(functionId), 1)
        const calls = yield* Cdf.callsByRun(functionId)
        assert.strictEqual(calls.length, 1)
        yield* kill9(second)
      }),
    60_000
  )

  it.scoped("a second process on the same file fails clearly and runs nothing", () =>
    Effect.gen(function*() {
      const file = yield* bundle
      const dir = yield* tempDir("durable-lock-")
      const env = { ...(yield* Cdf.childEnv), DURABLE_SQLITE: path.join(dir, "durable.db") }
      yield* Cdf.deploy("lock")
      const first = yield* spawnRunner(file, env)
      yield* first.waitFor("ready")
      const second = yield* spawnRunner(file, env)
      const code = yield* Effect.promise(() => second.exited)
      assert.notStrictEqual(code, 0)
      assert.include([...second.lines, ...second.stderr].join("\n"), "Another process runs the durable engine on")
      assert.notInclude(second.lines, "ready")
      // the first runner still works
      first.send({ start: { key: "lock-1", fn: "lock", data: { run: "lock-1" } } })
      first.send({ await: "lock-1" })
      assert.strictEqual(decodeResult(yield* first.waitFor("result ", 60_000)).outcome, "Completed")
    }), 60_000)

  it.scoped(`kill -9 during the POST, ${KILL_RUNS} seeded runs: 0 duplicate executions`, () =>
    Effect.gen(function*() {
      const file = yield* bundle
      const dir = yield* tempDir("durable-post-")
      const env = { ...(yield* Cdf.childEnv), DURABLE_SQLITE: path.join(dir, "durable.db") }
      const emulator = yield* Emulator.Emulator
      // one function per run: a run's reconciliation looks only at its own function's calls
      const ids = yield* Effect.forEach(
        Array.from({ length: KILL_RUNS }, (_, i) => `post-${i}`),
        (xid) => Cdf.deploy(xid),
        { concurrency: 8 }
      )
      const random = Cdf.prng(1313)
      const postsSeen = Effect.map(emulator.faultStats, (stats) => stats[0]?.matched ?? 0)
      const started = Date.now()
      const phases = { ready: 0, post: 0 }
      // the next runner loads while the current one runs, and opens the file once the current one is dead
      const spare = () => spawnRunner(file, { ...env, DURABLE_WAIT_GO: "1" })
      let runner = yield* spare()
      for (let i = 0; i < KILL_RUNS; i++) {
        // before the request arrives, while the server holds it, or after its answer left
        const delay = Math.floor(random() * (POST_LATENCY + 60))
        const t0 = Date.now()
        runner.send("go")
        yield* runner.waitFor("ready")
        const t1 = Date.now()
        const next = yield* spare()
        const before = yield* postsSeen
        runner.send({ start: { key: `run-${i}`, fn: `post-${i}`, data: { run: `run-${i}` } } })
        yield* Cdf.until("the POST to arrive", Effect.map(postsSeen, (n) => n > before || undefined))
        phases.ready += t1 - t0
        phases.post += Date.now() - t1
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, delay)))
        yield* kill9(runner)
        runner = next
      }
      const killed = Date.now()
      // a last runner resumes every run and reports each outcome
      const last = runner
      last.send("go")
      yield* last.waitFor("ready")
      for (let i = 0; i < KILL_RUNS; i++) last.send({ await: `run-${i}` })
      yield* Cdf.until(
        "every run to end",
        Effect.sync(() => last.lines.filter((l) => l.startsWith("result ")).length >= KILL_RUNS || undefined),
        180_000
      )
      const results = last.lines.filter((l) => l.startsWith("result ")).map(decodeResult)
      const split = { completed: 0, unknownNoCall: 0, unknownWithCall: 0, duplicates: 0 }
      for (let i = 0; i < KILL_RUNS; i++) {
        const result = results.find((r) => r.key === `run-${i}`)
        assert.isDefined(result)
        if (result === undefined) continue
        const executions = yield* emulator.executions(ids[i])
        const calls = yield* Cdf.callsByRun(ids[i])
        if (executions > 1 || calls.length > 1) split.duplicates++
        if (result.outcome === "Completed") {
          split.completed++
          assert.deepStrictEqual(result.response, { run: `run-${i}` })
          assert.strictEqual(result.callId, calls[0]?.callId)
        } else {
          assert.strictEqual(result.outcome, "CallOutcomeUnknown", `run ${i}`)
          if (calls.length === 0) split.unknownNoCall++
          else split.unknownWithCall++
        }
      }
      console.log(
        `kill during the POST, ${KILL_RUNS} runs: ${JSON.stringify(split)}; kills ${
          Math.round((killed - started) / 1000)
        } s (start-up ${Math.round(phases.ready / 1000)} s, to the POST ${
          Math.round(phases.post / 1000)
        } s), recovery ${Math.round((Date.now() - killed) / 1000)} s`
      )
      assert.strictEqual(split.duplicates, 0)
      assert.strictEqual(split.completed + split.unknownNoCall + split.unknownWithCall, KILL_RUNS)
    }), 600_000)
})
