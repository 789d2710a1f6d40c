/**
 * The durable call's logic on `WorkflowEngine.layerMemory`, with `TestClock` and the in-memory functions
 * of `@effect-cdf/testing`: results and errors as `Calls.call`, fan-out, long waits with durable
 * sleeps, and every way a re-run of the start activity must end without a second POST.
 */
import { FunctionCall } from "@effect-cdf/core"
import { CallOutcomeUnknown, RequestDescription } from "@effect-cdf/core/Errors"
import { Calls, FunctionDef } from "@effect-cdf/functions"
import { Testing } from "@effect-cdf/testing"
import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Workflow, WorkflowEngine } from "@effect/workflow"
import type { Duration } from "effect"
import { Clock, Effect, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { CallLedger, CallWorkflow, DurableCall } from "../src/index.js"
import { ErrorSchema } from "../src/internal/wait.js"

const functions: Testing.Options["functions"] = {
  double: {
    handler: (data) => Effect.succeed({ doubled: Number((data as { x: number }).x) * 2 }),
    duration: "20 seconds"
  },
  fails: { handler: () => Effect.fail(new Error("asked to fail")), duration: "2 seconds" },
  slow: { handler: () => Effect.succeed({ done: true }), duration: "7 minutes" }
}

const Fanout = Workflow.make({
  name: "fanout",
  payload: { n: Schema.Number },
  success: Schema.Array(Schema.Number),
  error: ErrorSchema,
  idempotencyKey: ({ n }) => `fanout-${n}`
})

const FanoutLive = Fanout.toLayer(({ n }) =>
  Effect.gen(function*() {
    const first = yield* DurableCall.call("first", "double", { x: n })
    const rest = yield* Effect.all(
      Array.from({ length: n }, (_, i) =>
        DurableCall.call(`part-${i}`, "double", { x: i }, {
          schema: Schema.Struct({ doubled: Schema.Number })
        })),
      { concurrency: "unbounded" }
    )
    return [Number((first.response as { doubled: number }).doubled), ...rest.map((r) => r.response.doubled)]
  })
)

const TestLive = Layer.mergeAll(CallWorkflow.layer, FanoutLive).pipe(
  Layer.provideMerge(CallLedger.layerMemory),
  Layer.provideMerge(Testing.layerTest({ functions })),
  Layer.provideMerge(WorkflowEngine.layerMemory)
)

/** Runs an effect while the test clock moves on in steps, as a real clock would. */
const withTime = <A, E, R>(effect: Effect.Effect<A, E, R>, steps = 200, step: Duration.DurationInput = "5 seconds") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < steps; i++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

const executions = Effect.flatMap(Testing.TestFunctions, (t) => t.calls)

describe("DurableCall on the memory engine", () => {
  it.effect("a durable call completes with the response, as Calls.call gives it", () =>
    Effect.gen(function*() {
      const result = yield* withTime(
        CallWorkflow.call("double", { x: 21 }, { schema: Schema.Struct({ doubled: Schema.Number }) })
      )
      assert.strictEqual(result.response.doubled, 42)
      assert.strictEqual(result.call.status, "Completed")
      assert.include(result.report.statuses, "Completed")
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("a typed definition encodes the input and decodes the output", () =>
    Effect.gen(function*() {
      const Double = FunctionDef.make({
        externalId: "double",
        input: Schema.Struct({ x: Schema.NumberFromString }),
        output: Schema.Struct({ doubled: Schema.Number })
      })
      const result = yield* withTime(CallWorkflow.callDef(Double, { x: 4 }))
      assert.strictEqual(result.response.doubled, 8)
      const [recorded] = yield* executions
      assert.deepStrictEqual(recorded.data, { x: "4" })
    }).pipe(Effect.provide(TestLive)))

  it.effect("a failed call is a CallFailed, a wrong response a DecodeError", () =>
    Effect.gen(function*() {
      const failed = yield* Effect.flip(withTime(CallWorkflow.call("fails")))
      assert.strictEqual(failed._tag, "CallFailed")
      if (failed._tag === "CallFailed") assert.include(failed.reason, "asked to fail")
      const wrong = yield* Effect.flip(
        withTime(CallWorkflow.call("double", { x: 1 }, { schema: Schema.Struct({ other: Schema.String }) }))
      )
      assert.strictEqual(wrong._tag, "DecodeError")
    }).pipe(Effect.provide(TestLive)))

  it.effect("past its deadline a wait is a PollDeadlineExceeded whose handle resumes it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(withTime(CallWorkflow.call("slow", {}, { deadline: "1 minute" })))
      assert.strictEqual(error._tag, "PollDeadlineExceeded")
      if (error._tag !== "PollDeadlineExceeded") return
      const calls = yield* Calls.Calls
      const resumed = yield* withTime(calls.await(error.handle))
      assert.deepStrictEqual(resumed.response, { done: true })
    }).pipe(Effect.provide(TestLive)))

  it.effect("a fan-out inside a user's workflow runs every call once", () =>
    Effect.gen(function*() {
      const values = yield* withTime(Fanout.execute({ n: 5 }))
      assert.deepStrictEqual(values, [10, 0, 2, 4, 6, 8])
      assert.strictEqual((yield* executions).length, 6)
      // a second execute with the same idempotency key attaches to the stored result: no new call
      assert.deepStrictEqual(yield* withTime(Fanout.execute({ n: 5 })), values)
      assert.strictEqual((yield* executions).length, 6)
    }).pipe(Effect.provide(TestLive)))

  it.effect("a long wait polls in rounds with durable sleeps between them and still ends once", () =>
    Effect.gen(function*() {
      const Long = Workflow.make({
        name: "long",
        payload: { id: Schema.String },
        success: Schema.Unknown,
        error: ErrorSchema,
        idempotencyKey: ({ id }) => id
      })
      const LongLive = Long.toLayer(() =>
        Effect.map(
          DurableCall.call("slow", "slow", {}, { roundFor: "2 minutes", sleepBetweenRounds: "90 seconds" }),
          (r) => r.response
        )
      )
      const started = yield* Clock.currentTimeMillis
      const response = yield* withTime(Long.execute({ id: "a" }).pipe(Effect.provide(LongLive)), 400)
      assert.deepStrictEqual(response, { done: true })
      assert.isAtLeast((yield* Clock.currentTimeMillis) - started, 7 * 60_000)
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))
})

describe("a re-run of the start never sends a second POST", () => {
  const intent = (key: string, sentAt: number) =>
    Effect.flatMap(
      CallLedger.CallLedger,
      (ledger) => ledger.recordIntent({ key, executionId: "earlier-run", functionRef: "externalId:double", sentAt })
    )

  it.effect("an intent whose call exists adopts that call", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const sentAt = yield* Clock.currentTimeMillis
      yield* intent("k1", sentAt)
      // the earlier run's POST went through; the process died before the call id was stored
      yield* calls.start("double", { x: 3 })
      const result = yield* withTime(CallWorkflow.call("double", { x: 3 }, { key: "k1" }))
      assert.deepStrictEqual(result.response, { doubled: 6 })
      assert.isTrue(result.report.reconciled)
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("an intent whose POST never left ends as CallOutcomeUnknown, with no call", () =>
    Effect.gen(function*() {
      yield* intent("k2", yield* Clock.currentTimeMillis)
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 3 }, { key: "k2" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual((yield* executions).length, 0)
      const ledger = yield* CallLedger.CallLedger
      const entry = yield* ledger.get("k2")
      assert.strictEqual(Option.map(entry, (e) => e.state).pipe(Option.getOrNull), "unknown")
    }).pipe(Effect.provide(TestLive)))

  it.effect("a call another durable call owns is never adopted", () =>
    Effect.gen(function*() {
      const owner = yield* withTime(CallWorkflow.call("double", { x: 1 }, { key: "owner" }))
      yield* intent("k3", owner.handle.startedAt)
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 1 }, { key: "k3" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("another unresolved intent in the same window makes the found call ambiguous", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const sentAt = yield* Clock.currentTimeMillis
      yield* intent("k4", sentAt)
      yield* intent("k5", sentAt)
      yield* calls.start("double", { x: 2 })
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 2 }, { key: "k4" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("a lost answer to the POST is reconciled against the ledger, not sent again", () =>
    Effect.gen(function*() {
      // a calls service whose POST creates the call and loses the answer
      const LosingCalls = Layer.effect(
        Calls.Calls,
        Effect.map(Calls.Calls, (calls) =>
          Calls.Calls.of({
            ...calls,
            start: (fn, data, options) =>
              Effect.flatMap(calls.start(fn, data, options), (started) =>
                Effect.fail(
                  new CallOutcomeUnknown({
                    functionId: started.handle.functionId,
                    request: new RequestDescription({ method: "POST", path: "/functions/1/call" }),
                    sentAt: started.handle.startedAt,
                    reason: "the connection was reset"
                  })
                ))
          }))
      )
      const Live = CallWorkflow.layer.pipe(
        Layer.provideMerge(CallLedger.layerMemory),
        Layer.provideMerge(Layer.provideMerge(LosingCalls, Testing.layerTest({ functions }))),
        Layer.provideMerge(WorkflowEngine.layerMemory)
      )
      yield* Effect.gen(function*() {
        const result = yield* withTime(CallWorkflow.call("double", { x: 5 }))
        assert.deepStrictEqual(result.response, { doubled: 10 })
        assert.isTrue(result.report.reconciled)
        assert.strictEqual((yield* executions).length, 1)
      }).pipe(Effect.provide(Live))
    }))

  it.effect("a started call is found again from the ledger after a lost activity result", () =>
    Effect.gen(function*() {
      const calls = yield* Calls.Calls
      const ledger = yield* CallLedger.CallLedger
      const started = yield* calls.start("double", { x: 7 })
      yield* intent("k6", started.handle.startedAt)
      yield* ledger.recordCall("k6", started.handle.functionId, started.handle.callId)
      const result = yield* withTime(CallWorkflow.call("double", { x: 7 }, { key: "k6" }))
      assert.strictEqual(result.call.id, started.call.id)
      assert.isFalse(result.report.reconciled)
      assert.strictEqual((yield* executions).length, 1)
      assert.instanceOf(result.handle, FunctionCall.CallHandle)
    }).pipe(Effect.provide(TestLive)))
})

describe("the error type", () => {
  it("CallErrorSchema is exactly Calls.CallError: what Calls.call can fail with, and nothing more", () => {
    expectTypeOf<typeof DurableCall.CallErrorSchema.Type>().toEqualTypeOf<Calls.CallError>()
  })
})
