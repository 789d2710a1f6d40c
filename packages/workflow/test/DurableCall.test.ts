/**
 * The durable call's logic on `WorkflowEngine.layerMemory`, with `TestClock` and the in-memory functions
 * of `@effect-cdf/testing`: results and errors as `Calls.call`, fan-out, long waits with durable
 * sleeps, and every way a re-run of the start activity must end without a second POST.
 */
import { FunctionCall } from "@effect-cdf/core"
import { Emulator } from "@effect-cdf/emulator"
import { Calls, FunctionDef, Functions, Sessions } from "@effect-cdf/functions"
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

describe("a re-run of the start never sends a second POST blindly", () => {
  // what an earlier run of the start recorded before its POST left (`onSending`), then died
  const recordSending = (key: string, sending: Calls.Sending) =>
    Effect.flatMap(CallLedger.CallLedger, (ledger) =>
      ledger.recordSending({
        key,
        executionId: "earlier-run",
        functionRef: "externalId:double",
        runId: "earlier-run",
        functionId: sending.functionId,
        sentAt: sending.sentAt,
        sessionId: Option.fromNullable(sending.sessionId)
      })).pipe(Effect.asVoid)
  // `onSending` needs nothing from context: the ledger is taken first
  const recorder = (key: string) =>
    Effect.map(
      CallLedger.CallLedger,
      (ledger) => (sending: Calls.Sending) =>
        recordSending(key, sending).pipe(Effect.provideService(CallLedger.CallLedger, ledger))
    )
  // the earlier run's process: another client, so its calls are not known to this one
  const earlier = Calls.make
  const functionId = Effect.flatMap(Functions.Functions, (functions) => functions.retrieve({ externalId: "double" }))
  // the answer to the next POST .../call is lost: the connection reset before or after the call is created
  const loseNextPost = (action: "resetBefore" | "resetAfter") =>
    Effect.tap(Emulator.Emulator, (emulator) =>
      emulator.setFaults({
        seed: 1,
        rules: [{ method: "POST", path: "/functions/*/call", times: 1, action: { _tag: action } }]
      }))
  // an earlier run that recorded its send with a session made for it, and died before the POST left
  const unusedIntent = (key: string) =>
    Effect.gen(function*() {
      const issued = yield* Effect.flatMap(Sessions.Sessions, (sessions) => sessions.issue())
      const sentAt = yield* Clock.currentTimeMillis
      const sessionId = Option.getOrUndefined(issued.sessionId)
      assert.isDefined(sessionId)
      yield* recordSending(key, { functionId: (yield* functionId).id, sentAt, sessionId })
      return { sentAt, sessionIds: Option.toArray(issued.sessionId) }
    })

  it.effect("an intent whose session was used adopts the one call it can be", () =>
    Effect.gen(function*() {
      const other = yield* earlier
      const sent = yield* other.start("double", { x: 3 }, { onSending: yield* recorder("k1") })
      const result = yield* withTime(CallWorkflow.call("double", { x: 3 }, { key: "k1" }))
      assert.strictEqual(result.call.id, sent.call.id)
      assert.deepStrictEqual(result.response, { doubled: 6 })
      assert.isTrue(result.report.reconciled)
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("an intent whose session was never used is not created: its session is revoked, the POST sent once", () =>
    Effect.gen(function*() {
      const sessions = yield* Sessions.Sessions
      const { sessionIds } = yield* unusedIntent("k2")
      const result = yield* withTime(CallWorkflow.call("double", { x: 4 }, { key: "k2" }))
      assert.deepStrictEqual(result.response, { doubled: 8 })
      assert.isFalse(result.report.reconciled)
      assert.strictEqual((yield* executions).length, 1)
      const [session] = yield* sessions.retrieve(sessionIds)
      assert.strictEqual(session?.status, "REVOKED")
    }).pipe(Effect.provide(TestLive)))

  it.effect("a run that saw the session unused, revoked it and died before clearing the row: sent again once", () =>
    Effect.gen(function*() {
      const sessions = yield* Sessions.Sessions
      const { sentAt, sessionIds } = yield* unusedIntent("k10")
      yield* Effect.flatMap(CallLedger.CallLedger, (ledger) => ledger.markRevoking("k10", sentAt))
      yield* sessions.revoke(sessionIds)
      const result = yield* withTime(CallWorkflow.call("double", { x: 5 }, { key: "k10" }))
      assert.deepStrictEqual(result.response, { doubled: 10 })
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("a revoked session that no run of ours saw unused proves nothing: CallOutcomeUnknown, no call", () =>
    Effect.gen(function*() {
      const { sessionIds } = yield* unusedIntent("k11")
      yield* Effect.flatMap(Sessions.Sessions, (sessions) => sessions.revoke(sessionIds))
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 5 }, { key: "k11" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      assert.strictEqual((yield* executions).length, 0)
    }).pipe(Effect.provide(TestLive)))

  it.effect("not created, but an unowned call of the function started since: not sent again, unknown", () =>
    Effect.gen(function*() {
      yield* unusedIntent("k9")
      // a call no durable call owns (a lost request bound between the session's read and its revoke looks so)
      yield* (yield* earlier).start("double", { x: 1 })
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 4 }, { key: "k9" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      if (error._tag === "CallOutcomeUnknown") assert.include(error.reason, "it could be this one")
      assert.strictEqual((yield* executions).length, 1)
    }).pipe(Effect.provide(TestLive)))

  it.effect("an intent with no session of its own proves nothing: CallOutcomeUnknown, no call", () =>
    Effect.gen(function*() {
      const fn = yield* functionId
      yield* recordSending("k3", { functionId: fn.id, sentAt: yield* Clock.currentTimeMillis })
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 3 }, { key: "k3" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      if (error._tag === "CallOutcomeUnknown") assert.strictEqual(error.evidence, "None")
      assert.strictEqual((yield* executions).length, 0)
      const entry = yield* Effect.flatMap(CallLedger.CallLedger, (ledger) => ledger.get("k3"))
      assert.strictEqual(Option.map(entry, (e) => e.state).pipe(Option.getOrNull), "unknown")
      // and it stays so: the same key never sends
      const again = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 3 }, { key: "k3" })))
      assert.strictEqual(again._tag, "CallOutcomeUnknown")
      assert.strictEqual((yield* executions).length, 0)
    }).pipe(Effect.provide(TestLive)))

  it.effect("calls other durable calls own are excluded: the one left is adopted", () =>
    Effect.gen(function*() {
      const other = yield* earlier
      // another logical call's call, in the same window, recorded in the ledger
      const owner = yield* withTime(CallWorkflow.call("double", { x: 1 }, { key: "owner" }))
      const sent = yield* other.start("double", { x: 2 }, { onSending: yield* recorder("k4") })
      const result = yield* withTime(CallWorkflow.call("double", { x: 2 }, { key: "k4" }))
      assert.strictEqual(result.call.id, sent.call.id)
      assert.notStrictEqual(result.call.id, owner.call.id)
      assert.strictEqual((yield* executions).length, 2)
    }).pipe(Effect.provide(TestLive)))

  it.effect("an unowned call in the window besides ours leaves it ambiguous: CallOutcomeUnknown, Created", () =>
    Effect.gen(function*() {
      const other = yield* earlier
      const foreign = yield* earlier
      yield* foreign.start("double", { x: 9 })
      yield* other.start("double", { x: 2 }, { onSending: yield* recorder("k5") })
      const error = yield* Effect.flip(withTime(CallWorkflow.call("double", { x: 2 }, { key: "k5" })))
      assert.strictEqual(error._tag, "CallOutcomeUnknown")
      if (error._tag === "CallOutcomeUnknown") assert.strictEqual(error.evidence, "Created")
      assert.strictEqual((yield* executions).length, 2)
    }).pipe(Effect.provide(TestLive)))

  it.effect("a lost answer, the call created: Calls.start adopts it and the ledger records it", () =>
    Effect.gen(function*() {
      yield* loseNextPost("resetAfter")
      const result = yield* withTime(CallWorkflow.call("double", { x: 5 }, { key: "k6" }))
      assert.deepStrictEqual(result.response, { doubled: 10 })
      assert.isTrue(result.report.reconciled)
      assert.strictEqual((yield* executions).length, 1)
      const entry = yield* Effect.flatMap(CallLedger.CallLedger, (ledger) => ledger.get("k6"))
      assert.deepStrictEqual(Option.flatMap(entry, (e) => e.callId), Option.some(result.call.id))
    }).pipe(Effect.provide(TestLive)))

  it.effect("a lost answer, the call not created (NotCreated): the durable call sends again, once", () =>
    Effect.gen(function*() {
      const emulator = yield* loseNextPost("resetBefore")
      const result = yield* withTime(CallWorkflow.call("double", { x: 6 }, { key: "k7" }))
      assert.deepStrictEqual(result.response, { doubled: 12 })
      assert.strictEqual((yield* executions).length, 1)
      assert.strictEqual((yield* emulator.faultStats)[0]?.matched, 2)
    }).pipe(Effect.provide(TestLive)))

  it.effect("a started call is found again from the ledger after a lost activity result", () =>
    Effect.gen(function*() {
      const other = yield* earlier
      const ledger = yield* CallLedger.CallLedger
      const sent = yield* other.start("double", { x: 7 }, { onSending: yield* recorder("k8") })
      yield* ledger.recordCall("k8", sent.handle.functionId, sent.handle.callId)
      const result = yield* withTime(CallWorkflow.call("double", { x: 7 }, { key: "k8" }))
      assert.strictEqual(result.call.id, sent.call.id)
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
