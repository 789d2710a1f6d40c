/**
 * The SQLite storage with real processes: a runner in a child process killed with SIGKILL mid-wait and
 * restarted; a second process on the same file refused; and kills during the POST across many seeded
 * runs, counted against the emulator (0 duplicate executions; each run completed or CallOutcomeUnknown). The
 * runs go in lanes at once, each lane on its own SQLite file, several runs in flight at each kill.
 */
import { Emulator } from "@effect-cdf/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as path from "node:path"
import * as Cdf from "./support/cdf.js"
import { bundle, decodeResult, kill9, spawnRunner, tempDir } from "./support/child.js"

// at least 100 in CI; DURABLE_KILL_RUNS raises it for a longer soak
const KILL_RUNS = Math.max(10, Number(process.env.DURABLE_KILL_RUNS ?? 100))
const POST_LATENCY = 150
// the runs go in lanes at once (a SQLite file each), several runs in flight at each kill
const LANES = 4
const PER_KILL = 5

const Live = Cdf.layer({ limits: { maxFunctions: KILL_RUNS + 10 } })

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
      const emulator = yield* Emulator.Emulator
      // one function per run: what a run's reconciliation finds is its own call or nothing
      const ids = yield* Effect.forEach(
        Array.from({ length: KILL_RUNS }, (_, i) => `post-${i}`),
        (xid) => Cdf.deploy(xid),
        { concurrency: 8 }
      )
      // even runs: the request is held before the call is created; odd runs: created, its answer held
      yield* emulator.setFaults({
        seed: 13,
        rules: ids.map((id, i) => ({
          method: "POST",
          path: `/functions/${id}/call`,
          action: i % 2 === 0 ? { _tag: "latency" as const, millis: POST_LATENCY } : {
            _tag: "delayAfter" as const,
            millis: POST_LATENCY
          }
        }))
      })
      const phases = { notArrived: 0, held: 0, created: 0 }
      const started = Date.now()
      // the runs of one lane share its SQLite file; the lanes run at once, each a chain of killed runners
      const lane = (l: number) =>
        Effect.gen(function*() {
          const dir = yield* tempDir(`durable-post-${l}-`)
          const env = { ...(yield* Cdf.childEnv), DURABLE_SQLITE: path.join(dir, "durable.db") }
          const random = Cdf.prng(1313 + l)
          const runs = Array.from({ length: KILL_RUNS }, (_, i) => i).filter((i) => i % LANES === l)
          // the next runner loads while the current one runs, and opens the file once the current one is dead
          const spare = () => spawnRunner(file, { ...env, DURABLE_WAIT_GO: "1" })
          let runner = yield* spare()
          for (let b = 0; b < runs.length; b += PER_KILL) {
            const batch = runs.slice(b, b + PER_KILL)
            // seeded: when each start is sent, and how long after the first POST arrived the runner dies
            // (the others before, while or after theirs)
            const offsets = batch.map(() => Math.floor(random() * 150))
            const killAfter = Math.floor(random() * (POST_LATENCY + 100))
            runner.send("go")
            yield* runner.waitFor("ready")
            const next = yield* spare()
            yield* Effect.forEach(batch, (i, k) =>
              Effect.delay(
                Effect.sync(() =>
                  runner.send({ start: { key: `run-${i}`, fn: `post-${i}`, data: { run: `run-${i}` } } })
                ),
                offsets[k]
              ), { concurrency: "unbounded", discard: true })
            yield* Cdf.until(
              "a POST to arrive",
              Effect.map(emulator.faultStats, (stats) => batch.some((i) => (stats[i]?.matched ?? 0) > 0) || undefined)
            )
            yield* Effect.sleep(killAfter)
            const stats = yield* emulator.faultStats
            for (const i of batch) {
              const arrived = (stats[i]?.matched ?? 0) > 0
              const created = (yield* emulator.executions(ids[i])) > 0
              phases[created ? "created" : arrived ? "held" : "notArrived"]++
            }
            yield* kill9(runner)
            runner = next
          }
          // a last runner resumes every run of the lane and reports each outcome
          runner.send("go")
          yield* runner.waitFor("ready")
          // as a client that resends its submit: a run killed before its start reached the engine starts now
          for (const i of runs) runner.send({ await: `run-${i}`, fn: `post-${i}`, data: { run: `run-${i}` } })
          const last = runner
          yield* Cdf.until(
            "every run to end",
            Effect.sync(() => last.lines.filter((l) => l.startsWith("result ")).length >= runs.length || undefined),
            180_000
          )
          return last.lines.filter((l) => l.startsWith("result ")).map(decodeResult)
        })
      const results = (yield* Effect.forEach(Array.from({ length: LANES }, (_, l) => l), lane, {
        concurrency: "unbounded"
      })).flat()
      const stats = yield* emulator.faultStats
      const reasons: Array<string> = []
      const split = { completed: 0, unknownNoCall: 0, unknownWithCall: 0, duplicates: 0, resent: 0 }
      for (let i = 0; i < KILL_RUNS; i++) {
        const result = results.find((r) => r.key === `run-${i}`)
        assert.isDefined(result)
        if (result === undefined) continue
        const executions = yield* emulator.executions(ids[i])
        const calls = yield* Cdf.callsByRun(ids[i])
        if (executions > 1 || calls.length > 1) split.duplicates++
        if ((stats[i]?.matched ?? 0) > 1) split.resent++
        if (result.outcome === "Completed") {
          split.completed++
          assert.deepStrictEqual(result.response, { run: `run-${i}` })
          assert.strictEqual(result.callId, calls[0]?.callId)
        } else {
          assert.strictEqual(result.outcome, "CallOutcomeUnknown", `run ${i}: ${result.message ?? ""}`)
          reasons.push(`run ${i}: ${result.message ?? ""}`)
          if (calls.length === 0) split.unknownNoCall++
          else split.unknownWithCall++
        }
      }
      console.log(
        `kill during the POST, ${KILL_RUNS} runs (${LANES} lanes, ${PER_KILL} runs a kill): ${
          JSON.stringify(split)
        }; ` +
          `at the kill ${JSON.stringify(phases)}; ${Math.round((Date.now() - started) / 1000)} s` +
          reasons.map((reason) => `\n  ${reason}`).join("")
      )
      assert.strictEqual(split.duplicates, 0)
      assert.strictEqual(split.completed + split.unknownNoCall + split.unknownWithCall, KILL_RUNS)
    }), 300_000)
})
