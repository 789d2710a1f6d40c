/**
 * Type-level tests, checked by `pnpm check` (tsc over test/): each `@ts-expect-error` line must fail to
 * compile, or the check fails with "Unused '@ts-expect-error' directive".
 */
import type { FunctionCall } from "@effect-cdf/core"
import type {
  CallFailed,
  CallOutcomeUnknown,
  CallTimedOut,
  PollDeadlineExceeded,
  UntrustedUrl
} from "@effect-cdf/core/Errors"
import { describe, expectTypeOf, it } from "@effect/vitest"
import type { Effect } from "effect"
import { Schema } from "effect"
import type * as Calls from "../src/Calls.js"
import type * as FunctionApps from "../src/FunctionApps.js"
import * as FunctionDef from "../src/FunctionDef.js"
import type * as Functions from "../src/Functions.js"
import type * as Schedules from "../src/Schedules.js"

const Forecast = FunctionDef.make({
  externalId: "forecast",
  input: Schema.Struct({ assetId: Schema.Number, horizonHours: Schema.Number }),
  output: Schema.Struct({ values: Schema.Array(Schema.Number) })
})

type Success<T> = T extends Effect.Effect<infer A, infer _E, infer _R> ? A : never
type Failure<T> = T extends Effect.Effect<infer _A, infer E, infer _R> ? E : never

declare const handle: FunctionCall.CallHandle

// Never run: these only have to compile (or, on the marked lines, not compile).
const _calls = (calls: Calls.Calls.Service) => {
  // @ts-expect-error a FunctionDef's input is type-checked: assetId is a number
  calls.call(Forecast, { assetId: "1", horizonHours: 1 })
  // @ts-expect-error unknown fields are refused
  calls.call(Forecast, { wrong: true })
  // @ts-expect-error a missing field is refused
  calls.call(Forecast, {})
  // @ts-expect-error no type without a schema: `call<Foo>` is not a cast
  calls.call<{ y: number }>("fn", {})
  const typed = calls.call(Forecast, { assetId: 1, horizonHours: 24 })
  const raw = calls.call("fn", { x: 1 })
  const decoded = calls.call("fn", { x: 1 }, { schema: Schema.Struct({ y: Schema.Number }) })
  const resumed = calls.await(handle)
  return { typed, raw, decoded, resumed, list: calls.retrieve(7, 1) }
}

const _apps = (apps: FunctionApps.FunctionApps.Service) => {
  // @ts-expect-error no type without a schema
  apps.call<{ name: string }>("app", { method: "GET", path: "/" })
  return {
    raw: apps.call("app", { method: "GET", path: "/" }),
    decoded: apps.call("app", { method: "GET", path: "/" }, { schema: Schema.Struct({ name: Schema.String }) }),
    listCalls: apps.listCalls("app")
  }
}

type CallsOf = ReturnType<typeof _calls>
type AppsOf = ReturnType<typeof _apps>
type SuccessData<T> = Success<T> extends { readonly envelope: infer E } ?
  E extends { readonly _tag: "AppSuccess"; readonly data: infer D } ? D : never
  : never

describe("types", () => {
  it("responses are typed by a schema only; without one they are unknown", () => {
    expectTypeOf<Success<CallsOf["typed"]>["response"]>().toEqualTypeOf<{ readonly values: ReadonlyArray<number> }>()
    expectTypeOf<Success<CallsOf["raw"]>["response"]>().toEqualTypeOf<unknown>()
    expectTypeOf<Success<CallsOf["decoded"]>["response"]>().toEqualTypeOf<{ readonly y: number }>()
    expectTypeOf<Success<CallsOf["resumed"]>["response"]>().toEqualTypeOf<unknown>()
    expectTypeOf<SuccessData<AppsOf["raw"]>>().toEqualTypeOf<unknown>()
    expectTypeOf<SuccessData<AppsOf["decoded"]>>().toEqualTypeOf<{ readonly name: string }>()
  })

  it("each method fails only with what it can", () => {
    // a read carries no call outcome and no lost answer
    expectTypeOf<Extract<Failure<CallsOf["list"]>, CallFailed | CallOutcomeUnknown>>().toEqualTypeOf<never>()
    expectTypeOf<Extract<Failure<AppsOf["listCalls"]>, CallFailed | CallTimedOut>>().toEqualTypeOf<never>()
    expectTypeOf<Extract<Failure<AppsOf["raw"]>, CallFailed>>().toEqualTypeOf<CallFailed>()
    expectTypeOf<Extract<Failure<CallsOf["typed"]>, PollDeadlineExceeded>>().toEqualTypeOf<PollDeadlineExceeded>()
    // Functions: reads carry neither a lost answer nor an untrusted URL; only deploy has an upload URL
    type F = Functions.Functions.Service
    expectTypeOf<Extract<Failure<ReturnType<F["list"]>>, CallOutcomeUnknown | UntrustedUrl>>().toEqualTypeOf<never>()
    expectTypeOf<Extract<Failure<ReturnType<F["delete"]>>, UntrustedUrl>>().toEqualTypeOf<never>()
    expectTypeOf<Extract<Failure<ReturnType<F["deploy"]>>, UntrustedUrl>>().toEqualTypeOf<UntrustedUrl>()
    type S = Schedules.Schedules.Service
    expectTypeOf<Extract<Failure<ReturnType<S["retrieve"]>>, CallOutcomeUnknown>>().toEqualTypeOf<never>()
  })
})
