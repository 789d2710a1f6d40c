/**
 * Retention on the SQLite storage (a real file, the real engine): completed executions older than the
 * cut-off lose their rows and their key is free again; a running one keeps its rows. And the span of a
 * durable call names its function, its call and its workflow execution.
 */
import { Testing } from "@effect-cdf/testing"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { WorkflowEngine } from "@effect/workflow"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Tracer } from "effect"
import * as path from "node:path"
import { CallLedger, CallWorkflow, Retention } from "../src/index.js"
import * as Sqlite from "../src/Sqlite.js"
import { tempDir } from "./support/child.js"

const functions: Testing.Options["functions"] = {
  echo: { handler: (data) => Effect.succeed(data) }
}

const onFile = (filename: string) =>
  CallWorkflow.layer.pipe(
    Layer.provideMerge(Sqlite.layer({ filename, retention: false })),
    Layer.provideMerge(Testing.layerTest({ functions }))
  )

const count = (table: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*) AS n FROM ${sql(table)}`).pipe(
    Effect.map((rows) => Number(rows[0]?.n ?? 0))
  )

describe("Retention", () => {
  it.scopedLive("removes completed executions older than the cut-off; the key then starts a new call", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("durable-retention-")
      yield* Effect.gen(function*() {
        const first = yield* CallWorkflow.call("echo", { n: 1 }, { key: "kept-or-not" })
        assert.deepStrictEqual(first.response, { n: 1 })
        const again = yield* CallWorkflow.call("echo", { n: 1 }, { key: "kept-or-not" })
        assert.strictEqual(again.call.id, first.call.id)
        assert.isAbove(yield* count("cluster_messages"), 0)
        assert.strictEqual(yield* count(CallLedger.TABLE), 1)

        // a cut-off before the execution completed removes nothing
        const none = yield* Retention.purge(Date.now() - 60_000)
        assert.deepStrictEqual(none, { executions: 0, ledgerRows: 0 })

        const purged = yield* Retention.purge(Date.now() + 1_000)
        assert.deepStrictEqual(purged, { executions: 1, ledgerRows: 1 })
        assert.strictEqual(yield* count("cluster_messages"), 0)
        assert.strictEqual(yield* count("cluster_replies"), 0)
        const fresh = yield* CallWorkflow.call("echo", { n: 1 }, { key: "kept-or-not" })
        assert.notStrictEqual(fresh.call.id, first.call.id)
        assert.strictEqual((yield* Effect.flatMap(Testing.TestFunctions, (t) => t.calls)).length, 2)
      }).pipe(Effect.provide(onFile(path.join(dir, "durable.db"))))
    }))

  it.scopedLive("keeps the rows of an execution that still runs", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("durable-retention-")
      const release = yield* Deferred.make<void>()
      const blocking: Testing.Options["functions"] = {
        wait: { handler: () => Effect.as(Deferred.await(release), { ok: true }) }
      }
      const Live = CallWorkflow.layer.pipe(
        Layer.provideMerge(Sqlite.layer({ filename: path.join(dir, "durable.db"), retention: false })),
        Layer.provideMerge(Testing.layerTest({ functions: blocking }))
      )
      yield* Effect.gen(function*() {
        const fiber = yield* Effect.fork(CallWorkflow.call("wait", {}, { key: "running" }))
        yield* Effect.sleep("500 millis")
        const purged = yield* Retention.purge(Date.now() + 60_000)
        assert.strictEqual(purged.executions, 0)
        yield* Deferred.succeed(release, undefined)
        const done = yield* Fiber.join(fiber)
        assert.deepStrictEqual(done.response, { ok: true })
      }).pipe(Effect.provide(Live))
    }))
})

describe("spans", () => {
  it.effect("a durable call's span has its function id, call id and workflow execution id", () =>
    Effect.gen(function*() {
      // Effect's own tracer, with every span it makes kept for the assertions
      const native = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const tracer = Tracer.make({
        span: (...args) => {
          const span = native.span(...args)
          spans.push(span)
          return span
        },
        context: native.context
      })
      const Live = CallWorkflow.layer.pipe(
        Layer.provideMerge(CallLedger.layerMemory),
        Layer.provideMerge(Testing.layerTest({ functions })),
        Layer.provideMerge(WorkflowEngine.layerMemory)
      )
      const exit = yield* CallWorkflow.call("echo", { n: 2 }, { key: "traced" }).pipe(
        Effect.provide(Live),
        Effect.withTracer(tracer),
        Effect.exit
      )
      if (Exit.isFailure(exit)) assert.fail(Cause.pretty(exit.cause))
      const span = spans.find((s) => s.name === "DurableCall.call" && s.attributes.has("callId"))
      assert.isDefined(span)
      if (span === undefined || Exit.isFailure(exit)) return
      assert.strictEqual(span.attributes.get("callId"), exit.value.call.id)
      assert.strictEqual(span.attributes.get("functionId"), exit.value.handle.functionId)
      assert.strictEqual(span.attributes.get("durable.key"), "traced")
      const executionId = yield* CallWorkflow.CallWorkflow.executionId({
        key: "traced",
        function: "echo",
        data: { n: 2 }
      })
      assert.strictEqual(span.attributes.get("workflow.executionId"), executionId)
    }))
})
