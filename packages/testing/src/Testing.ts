/**
 * The ready test layer for code that uses Cognite Functions: the real `Calls`, `Functions`, `Schedules`,
 * `Sessions` and `FunctionApps` over the emulator served in memory (no socket), on the effect `Clock`, so
 * `TestClock` drives calls, their timeouts and schedules. Functions are handlers written in code as
 * Effects; every call they get is recorded for assertions. There is one client and one server: what a test
 * sees is what the SDK does against CDF's API.
 *
 * @example
 * ```ts
 * import { Calls } from "@effect-cdf/functions"
 * import { Testing } from "@effect-cdf/testing"
 * import { Effect, Fiber, TestClock } from "effect"
 *
 * const TestLive = Testing.layerTest({
 *   functions: {
 *     double: { duration: "3 seconds", handler: (data) => Effect.succeed({ data, doubled: true }) }
 *   }
 * })
 *
 * const test = Effect.gen(function*() {
 *   const calls = yield* Calls.Calls
 *   const fiber = yield* Effect.fork(calls.call("double", { x: 21 }))
 *   yield* TestClock.adjust("3 seconds")
 *   return (yield* Fiber.join(fiber)).response
 * }).pipe(Effect.provide(TestLive))
 * ```
 *
 * @since 0.1.0
 */
import type { FunctionCall, Ids } from "@effect-cdf/core"
import type { Emulator } from "@effect-cdf/emulator"
import { Emulator as EmulatorModule } from "@effect-cdf/emulator"
import type { StartError } from "@effect-cdf/emulator/Emulator"
import type { CogniteFunctions } from "@effect-cdf/functions"
import { PollSchedule } from "@effect-cdf/functions/Polling"
import type { ReadError } from "@effect-cdf/functions/ServiceError"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import type { HttpClient } from "@effect/platform"
import type { Duration, Option } from "effect"
import { Context, Effect, Layer } from "effect"
import * as internal from "./internal/testing.js"

/** What a handler gets besides its data. */
export interface HandlerContext {
  readonly functionId: Ids.FunctionId
  readonly callId: Ids.CallId
  /** The function's secrets, as CDF hands them to a handler. */
  readonly secrets: Readonly<Record<string, string>>
  /** Adds a line to the call's logs (`Calls.logs`), stamped with the effect `Clock`. */
  readonly log: (message: string) => Effect.Effect<void>
}

/**
 * A test handler: succeeds with the response (JSON), or fails; an `Error`'s `name: message` becomes the call's
 * error (`CallFailed`), as CDF reports an exception.
 */
export type Handler = (data: unknown, context: HandlerContext) => Effect.Effect<unknown, unknown>

/** A function of the test layer. */
export interface TestFunctionSpec {
  readonly handler: Handler
  /**
   * How long a call runs (on the effect `Clock`) before the handler runs. A wait sees the end exactly then: a
   * test that moves the `TestClock` by the duration finds the call ended. A duration at or past the project's
   * timeout ends the call `Timeout` (`CallTimedOut`). Default 0.
   */
  readonly duration?: Duration.DurationInput | undefined
  /** The function's name; default its external id. */
  readonly name?: string | undefined
  /** The secrets the handler receives. */
  readonly secrets?: Readonly<Record<string, string>> | undefined
}

/** A call as the test layer recorded it, with its state on the server now. */
export interface RecordedCall {
  readonly functionId: Ids.FunctionId
  readonly externalId: string
  readonly callId: Ids.CallId
  /** The `data` the handler received. */
  readonly data: unknown
  readonly status: FunctionCall.CallStatus
  /** The response, once the call completed with one. */
  readonly response: Option.Option<unknown>
  /** The error, once the call failed or timed out. */
  readonly error: Option.Option<FunctionCall.CallError>
}

/** The options of `layerTest`. */
export interface Options {
  /** Functions by external id: a handler, or a handler with a duration. */
  readonly functions?: Readonly<Record<string, Handler | TestFunctionSpec>> | undefined
  /** The project's limits; by default 9 minutes and 1 MB responses, as CDF's. */
  readonly limits?:
    | { readonly timeoutMinutes?: number | undefined; readonly responseSizeMb?: number | undefined }
    | undefined
  /** The project's name; default `playground`. */
  readonly project?: string | undefined
}

/** Registration and the record of calls in the test layer. */
export class TestFunctions extends Context.Tag("@effect-cdf/testing/TestFunctions")<
  TestFunctions,
  TestFunctions.Service
>() {}

/** The types of the `TestFunctions` service. */
export declare namespace TestFunctions {
  /** What the test layer lets a test do. */
  export interface Service {
    /** Registers a function by external id, or replaces the handler of one registered before; returns its id. */
    readonly register: (
      externalId: string,
      spec: Handler | TestFunctionSpec
    ) => Effect.Effect<Ids.FunctionId, ReadError>
    /** Every call of a registered function so far, in the order they started, with their state now. */
    readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>, ReadError>
  }
}

/** Everything `layerTest` provides. */
export type Services =
  | CogniteFunctions.Services
  | CdfClient
  | TestFunctions
  | Emulator.Emulator
  | PollSchedule

/**
 * The real services over an in-memory emulator, with the functions of `options` deployed and
 * `TestFunctions` to register more and read the record of calls. Waits poll when the calls they wait for
 * end (`Polling.PollSchedule` is set for that), so a test moves the `TestClock` by a call's duration and no
 * more; a handler that sleeps by itself is seen at the next second.
 */
export const layerTest = (options: Options = {}): Layer.Layer<Services, StartError> =>
  layerFunctions(options).pipe(
    Layer.provideMerge(internal.layerServices),
    Layer.provideMerge(EmulatorModule.layerInMemory(internal.emulatorOptions(options)))
  )

/**
 * The real services (and their `CdfClient`) over the `Emulator` and `HttpClient` in context, authenticated
 * with the emulator's dev token: for composing a test layer over an emulator you configure yourself.
 */
export const layerServices: Layer.Layer<
  CogniteFunctions.Services | CdfClient,
  never,
  Emulator.Emulator | HttpClient.HttpClient
> = internal.layerServices

/**
 * `TestFunctions` and the test poll schedule over services and an emulator you compose yourself (for
 * example an emulator with faults from the start): `layerTest` is this over {@link layerServices} over
 * `Emulator.layerInMemory`.
 */
export const layerFunctions = (
  options: Options = {}
): Layer.Layer<TestFunctions | PollSchedule, never, Emulator.Emulator | CdfClient | CogniteFunctions.Services> =>
  Layer.scopedContext(
    Effect.map(
      internal.make(options),
      ({ schedule, service }) => Context.make(TestFunctions, service).pipe(Context.add(PollSchedule, schedule))
    )
  )

/** Registers a function in a running test layer: `TestFunctions.register` as a standalone effect. */
export const register = (
  externalId: string,
  spec: Handler | TestFunctionSpec
): Effect.Effect<Ids.FunctionId, ReadError, TestFunctions> =>
  Effect.flatMap(TestFunctions, (test) => test.register(externalId, spec))

/** The record of calls: `TestFunctions.calls` as a standalone effect. */
export const recordedCalls: Effect.Effect<ReadonlyArray<RecordedCall>, ReadError, TestFunctions> = Effect.flatMap(
  TestFunctions,
  (test) => test.calls
)
