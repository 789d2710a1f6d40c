// The example of docs/testing.md: a user's own service, tested against the real services over the emulator in memory.
import { Calls } from "@effect-cdf/functions"
import { Testing } from "@effect-cdf/testing"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Schema, TestClock } from "effect"

// --- the code under test: a service of yours that calls a Cognite Function ---------------------------
const Invoice = Schema.Struct({ customer: Schema.String, total: Schema.Number })

class InvoiceService extends Context.Tag("app/InvoiceService")<InvoiceService, {
  readonly total: (customer: string) => Effect.Effect<number, Calls.CallError>
}>() {}

const InvoiceServiceLive = Layer.effect(
  InvoiceService,
  Effect.gen(function*() {
    const calls = yield* Calls.Calls
    return {
      total: (customer) =>
        calls.call("compute-invoice", { customer }, { schema: Invoice, deadline: "1 minute" }).pipe(
          Effect.map((result) => result.response.total)
        )
    }
  })
)

// --- the test: the function is an Effect, its duration runs on the TestClock ----------------------------
const TestLive = InvoiceServiceLive.pipe(
  Layer.provideMerge(Testing.layerTest({
    functions: {
      "compute-invoice": {
        duration: "20 seconds",
        handler: (data, { log }) =>
          Effect.gen(function*() {
            const { customer } = yield* Schema.decodeUnknown(Schema.Struct({ customer: Schema.String }))(data)
            if (customer === "") return yield* Effect.fail(new Error("customer is required"))
            yield* log(`computing the invoice of ${customer}`)
            return { customer, total: 125.5 }
          })
      }
    }
  }))
)

describe("InvoiceService", () => {
  it.effect("totals an invoice through the compute-invoice function", () =>
    Effect.gen(function*() {
      const invoices = yield* InvoiceService
      const fiber = yield* Effect.fork(invoices.total("acme"))
      yield* TestClock.adjust("20 seconds")
      expect(yield* Fiber.join(fiber)).toBe(125.5)

      const recorded = yield* Effect.flatMap(Testing.TestFunctions, (t) => t.calls)
      expect(recorded.map((c) => [c.externalId, c.data, c.status])).toEqual([
        ["compute-invoice", { customer: "acme" }, "Completed"]
      ])
      const logs = yield* Effect.flatMap(Calls.Calls, (c) => c.logs("compute-invoice", recorded[0].callId))
      expect(logs.map((l) => l.message)).toEqual(["computing the invoice of acme"])
    }).pipe(Effect.provide(TestLive)))

  it.effect("a failing function is a typed CallFailed", () =>
    Effect.gen(function*() {
      const invoices = yield* InvoiceService
      const fiber = yield* Effect.fork(Effect.flip(invoices.total("")))
      yield* TestClock.adjust("20 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("CallFailed")
      expect(error.message).toContain("customer is required")
    }).pipe(Effect.provide(TestLive)))

  it.effect("a function slower than the deadline ends the wait with a handle to resume", () =>
    Effect.gen(function*() {
      const testing = yield* Testing.TestFunctions
      yield* testing.register("compute-invoice", {
        duration: "5 minutes",
        handler: () => Effect.succeed({ customer: "slow", total: 1 })
      })
      const invoices = yield* InvoiceService
      const fiber = yield* Effect.fork(Effect.flip(invoices.total("slow")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "PollDeadlineExceeded") throw new Error(`unexpected ${error._tag}`)
      // resume waiting from the handle: the call completes 4 minutes later
      const resumed = yield* Effect.fork(
        Effect.flatMap(Calls.Calls, (c) => c.await(error.handle, { deadline: "10 minutes" }))
      )
      yield* TestClock.adjust("4 minutes")
      expect((yield* Fiber.join(resumed)).response).toEqual({ customer: "slow", total: 1 })
    }).pipe(Effect.provide(TestLive)))
})
