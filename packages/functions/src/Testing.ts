/**
 * In-memory services for your own tests: no HTTP, no emulator. Register a handler per function as an
 * Effect; calls run it after a simulated duration on the effect `Clock` (so `TestClock` drives it), and
 * every call is recorded for assertions.
 *
 * `layerTest` provides `Calls`, `Functions` (the registered functions, `Ready`; `create` and `deploy`
 * register more), `Sessions`, `FunctionApps` (the app's handler receives the request envelope as `data`
 * and returns its envelope) and `TestFunctions` (registration and the record of calls). Schedules are not
 * part of it: test them against the emulator.
 *
 * @example
 * ```ts
 * import { Calls, Testing } from "@effect-cdf/functions"
 * import { Effect } from "effect"
 *
 * const TestLive = Testing.layerTest({
 *   functions: {
 *     "double": { handler: (data) => Effect.succeed({ y: Number((data as { x: number }).x) * 2 }), duration: "3 seconds" }
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 */
import {
  CogniteFunction,
  ErrorEnvelope,
  FunctionApp,
  FunctionCall,
  FunctionsLimits,
  Ids,
  Session
} from "@effect-cdf/core"
import {
  CallFailed,
  CallOutcomeUnknown,
  CallTimedOut,
  decodeError,
  InvalidInput,
  NotFound,
  PollDeadlineExceeded,
  RequestDescription
} from "@effect-cdf/core/Errors"
import {
  Cause,
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  FiberSet,
  Layer,
  Option,
  Redacted,
  Ref,
  Schema,
  Stream
} from "effect"
import * as Calls from "./Calls.js"
import * as FunctionApps from "./FunctionApps.js"
import { isFunctionDef } from "./FunctionDef.js"
import * as FunctionRef from "./FunctionRef.js"
import * as Functions from "./Functions.js"
import * as Polling from "./Polling.js"
import * as Sessions from "./Sessions.js"

/** What a handler gets besides its data. */
export interface HandlerContext {
  readonly functionId: Ids.FunctionId
  readonly callId: Ids.CallId
  /** Adds a line to the call's logs, stamped with the effect `Clock`. */
  readonly log: (message: string) => Effect.Effect<void>
}

/** A test handler: succeeds with the response, or fails (its error's message becomes the call's error). */
export type Handler = (data: unknown, context: HandlerContext) => Effect.Effect<unknown, unknown>

/** A function of the test layer. */
export interface TestFunctionSpec {
  readonly handler: Handler
  /** How long a call runs (on the effect `Clock`) before the handler's result is its outcome. Default 0. */
  readonly duration?: Duration.DurationInput | undefined
  readonly name?: string | undefined
}

/** A call as the test layer recorded it. */
export interface RecordedCall {
  readonly functionId: Ids.FunctionId
  readonly externalId: string | undefined
  readonly callId: Ids.CallId
  readonly data: unknown
  readonly status: FunctionCall.CallStatus
  readonly response: Option.Option<unknown>
  readonly error: Option.Option<FunctionCall.CallError>
}

/** The options of `layerTest`. */
export interface Options {
  /** Functions by external id: a handler, or a handler with a duration. */
  readonly functions?: Readonly<Record<string, Handler | TestFunctionSpec>> | undefined
  /** The project's limits; by default 9 minutes, 1 MB responses. */
  readonly limits?: Partial<Pick<FunctionsLimits.FunctionsLimits, "timeoutMinutes" | "responseSizeMb">> | undefined
}

/** Registration and the record of calls in the test layer. */
export class TestFunctions extends Context.Tag("@effect-cdf/functions/TestFunctions")<
  TestFunctions,
  TestFunctions.Service
>() {}

/** The types of the `TestFunctions` service. */
export declare namespace TestFunctions {
  /** What the test layer lets a test do. */
  export interface Service {
    /** Registers (or replaces) the handler of a function by external id; returns its id. */
    readonly register: (externalId: string, spec: Handler | TestFunctionSpec) => Effect.Effect<Ids.FunctionId>
    /** Every call made so far, in order, with its state now. */
    readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  }
}

interface FunctionEntry {
  readonly fn: CogniteFunction.CogniteFunction
  spec: TestFunctionSpec | undefined
}

interface CallEntry {
  call: FunctionCall.FunctionCall
  readonly externalId: string | undefined
  readonly data: unknown
  response: Option.Option<unknown>
  readonly logs: Array<FunctionCall.FunctionCallLogEntry>
  readonly ended: Deferred.Deferred<void>
}

const toSpec = (spec: Handler | TestFunctionSpec): TestFunctionSpec =>
  typeof spec === "function" ? { handler: spec } : spec

const messageOf = (error: unknown): { message: string; trace?: string } =>
  error instanceof Error
    ? { message: `${error.name}: ${error.message}`, ...(error.stack === undefined ? {} : { trace: error.stack }) }
    : typeof error === "string"
    ? { message: error }
    : { message: String(Cause.pretty(Cause.fail(error))).split("\n")[0] ?? "the handler failed" }

const notFound = (what: string, missing: ErrorEnvelope.ItemReference) =>
  new NotFound({ status: 404, message: `${what} not found`, missing: [missing] })

/** In-memory `Calls`, `Functions`, `Sessions`, `FunctionApps` and `TestFunctions`, for your tests. */
export const layerTest = (
  options: Options = {}
): Layer.Layer<Calls.Calls | Functions.Functions | Sessions.Sessions | FunctionApps.FunctionApps | TestFunctions> =>
  Layer.scopedContext(Effect.gen(function*() {
    const fibers = yield* FiberSet.make()
    const functions = new Map<number, FunctionEntry>()
    const calls = new Map<number, CallEntry>()
    const order: Array<number> = []
    const ids = yield* Ref.make(1)
    const nextId = Ref.getAndUpdate(ids, (n) => n + 1)
    const limits = new FunctionsLimits.FunctionsLimits({
      timeoutMinutes: options.limits?.timeoutMinutes ?? 9,
      cpuCores: { min: 1, max: 1, default: 1 },
      memoryGb: { min: 1.5, max: 1.5, default: 1.5 },
      runtimes: ["py310", "py311", "py312", "py313"],
      responseSizeMb: options.limits?.responseSizeMb ?? 1
    })
    const activation = yield* Ref.make<FunctionsLimits.ActivationStatus>("activated")

    const addFunction = (write: {
      readonly name: string
      readonly externalId?: string | undefined
      readonly spec?: TestFunctionSpec | undefined
    }) =>
      Effect.gen(function*() {
        const existing = [...functions.values()].find((e) =>
          write.externalId !== undefined && e.fn.externalId === write.externalId
        )
        if (existing !== undefined) {
          existing.spec = write.spec ?? existing.spec
          return existing.fn
        }
        const id = Ids.FunctionId.make(yield* nextId)
        const fn = new CogniteFunction.CogniteFunction({
          id,
          name: write.name,
          status: "Ready",
          fileId: Ids.FileId.make(id),
          createdTime: yield* Clock.currentTimeMillis,
          functionPath: "handler.py",
          ...(write.externalId === undefined ? {} : { externalId: Ids.ExternalId.make(write.externalId) })
        })
        functions.set(id, { fn, spec: write.spec })
        return fn
      })

    for (const [externalId, spec] of Object.entries(options.functions ?? {})) {
      const full = toSpec(spec)
      yield* addFunction({ name: full.name ?? externalId, externalId, spec: full })
    }

    const find = (ref: FunctionRef.FunctionRef) =>
      Effect.flatMap(FunctionRef.validate(ref), (valid) => {
        const entry = valid._tag === "Id"
          ? functions.get(valid.id)
          : [...functions.values()].find((e) => e.fn.externalId === valid.externalId)
        return entry === undefined
          ? Effect.fail(
            notFound(FunctionRef.describe(valid), new ErrorEnvelope.ItemReference(FunctionRef.toIdentifier(valid)))
          )
          : Effect.succeed(entry)
      })

    const callEntry = (functionId: number, callId: number) => {
      const entry = calls.get(callId)
      return entry === undefined || entry.call.functionId !== functionId
        ? Effect.fail(notFound(`call ${callId}`, new ErrorEnvelope.ItemReference({ id: callId })))
        : Effect.succeed(entry)
    }

    /** Starts a call: recorded Running now, run in the background after the function's duration. */
    const startCall = (entry: FunctionEntry, data: unknown) =>
      Effect.gen(function*() {
        const callId = Ids.CallId.make(yield* nextId)
        const startTime = yield* Clock.currentTimeMillis
        const record: CallEntry = {
          call: new FunctionCall.FunctionCall({ id: callId, functionId: entry.fn.id, status: "Running", startTime }),
          externalId: entry.fn.externalId,
          data,
          response: Option.none(),
          logs: [],
          ended: yield* Deferred.make<void>()
        }
        calls.set(callId, record)
        order.push(callId)
        const end = (status: "Completed" | "Failed" | "Timeout", error?: { message: string; trace?: string }) =>
          Effect.gen(function*() {
            record.call = new FunctionCall.FunctionCall({
              ...record.call,
              status,
              endTime: yield* Clock.currentTimeMillis,
              ...(error === undefined ? {} : { error: new FunctionCall.CallError(error) })
            })
            yield* Deferred.succeed(record.ended, undefined)
          })
        const spec = entry.spec
        const duration = Duration.decode(spec?.duration ?? 0)
        const timeout = Duration.minutes(limits.timeoutMinutes)
        const run = Effect.gen(function*() {
          if (spec === undefined) {
            return yield* end("Failed", { message: `no test handler is registered for ${entry.fn.name}` })
          }
          if (Duration.greaterThanOrEqualTo(duration, timeout)) {
            yield* Effect.sleep(timeout)
            return yield* end("Timeout", { message: "Function timed out" })
          }
          yield* Effect.sleep(duration)
          const context: HandlerContext = {
            functionId: entry.fn.id,
            callId,
            log: (message) =>
              Effect.flatMap(Clock.currentTimeMillis, (timestamp) =>
                Effect.sync(() => {
                  record.logs.push(new FunctionCall.FunctionCallLogEntry({ timestamp, message }))
                }))
          }
          const result = yield* Effect.either(Effect.suspend(() => spec.handler(data, context)))
          if (Either.isLeft(result)) return yield* end("Failed", messageOf(result.left))
          const size = JSON.stringify(result.right ?? null).length
          if (size > limits.responseSizeMb * 1024 * 1024) {
            return yield* end("Failed", { message: `the response is over ${limits.responseSizeMb} MB` })
          }
          record.response = result.right === undefined ? Option.none() : Option.some(result.right)
          yield* end("Completed")
        }).pipe(Effect.catchAllDefect((defect) => end("Failed", messageOf(defect))))
        yield* FiberSet.run(fibers, run)
        return record
      })

    /** Waits for a call to end, up to the deadline; the outcome as `Calls.call` gives it. */
    const awaitCall = <A, I>(
      record: CallEntry,
      startedAt: number,
      report: Calls.CallReport,
      options: Calls.WaitOptions & { readonly schema?: Schema.Schema<A, I> | undefined }
    ) =>
      Effect.gen(function*() {
        const handle = new FunctionCall.CallHandle({
          functionId: record.call.functionId,
          callId: record.call.id,
          startedAt
        })
        const budget = options.deadline === undefined
          ? Duration.sum(Duration.minutes(limits.timeoutMinutes), Polling.DEFAULT_GRACE)
          : Duration.decode(options.deadline)
        const waitFrom = yield* Clock.currentTimeMillis
        const left = Math.max(0, startedAt + Duration.toMillis(budget) - waitFrom)
        const ended = yield* Deferred.await(record.ended).pipe(Effect.timeoutOption(Duration.millis(left)))
        const now = yield* Clock.currentTimeMillis
        if (Option.isNone(ended)) {
          return yield* Effect.fail(
            new PollDeadlineExceeded({ handle, waitedMillis: now - startedAt, lastStatus: record.call.status })
          )
        }
        const call = record.call
        const done: Calls.CallReport = {
          ...report,
          statuses: [...report.statuses.filter((s) => s !== call.status), call.status],
          waitedMillis: now - waitFrom
        }
        if (call.status === "Failed") {
          return yield* Effect.fail(
            new CallFailed({
              functionId: call.functionId,
              callId: call.id,
              reason: call.error?.message ?? "failed",
              ...(call.error?.trace === undefined ? {} : { trace: call.error.trace })
            })
          )
        }
        if (call.status === "Timeout") {
          return yield* Effect.fail(
            new CallTimedOut({
              functionId: call.functionId,
              callId: call.id,
              reason: call.error?.message ?? "timed out"
            })
          )
        }
        const raw = Option.getOrUndefined(record.response)
        const response = options.schema === undefined
          // without a schema the response is `unknown` (A defaults to it)
          ? (raw as A)
          : yield* Schema.decodeUnknown(options.schema)(raw).pipe(
            Effect.mapError((error) => decodeError(`response of call ${call.id}`, error, raw))
          )
        return { call, handle, response, report: done } satisfies Calls.Completed<A>
      })

    const validData = (data: unknown) =>
      data === undefined || (typeof data === "object" && data !== null && !Array.isArray(data))
        ? Effect.succeed(data ?? {})
        : Effect.fail(new InvalidInput({ subject: "call data", issue: "a function's data is a JSON object" }))

    const startedReport = (status: string): Calls.CallReport => ({
      attempts: 1,
      retryDelayMillis: 0,
      polls: 0,
      statuses: [status],
      waitedMillis: 0,
      reconciled: false
    })

    const start: Calls.Calls.Service["start"] = (ref, data) =>
      Effect.gen(function*() {
        const input = yield* validData(data)
        const entry = yield* find(ref)
        const startedAt = yield* Clock.currentTimeMillis
        const record = yield* startCall(entry, input)
        const handle = new FunctionCall.CallHandle({ functionId: entry.fn.id, callId: record.call.id, startedAt })
        return { call: record.call, handle, report: startedReport(record.call.status) }
      })

    const call = ((
      target: FunctionRef.FunctionRef | { readonly _tag: "FunctionDef"; readonly externalId: string },
      data?: unknown,
      options: Calls.CallOptions<unknown, unknown> = {}
    ): Effect.Effect<Calls.Completed<unknown>, Calls.CallError> =>
      Effect.gen(function*() {
        let input = data
        let schema = options.schema
        let ref: FunctionRef.FunctionRef
        if (isFunctionDef(target)) {
          input = yield* Schema.encodeUnknown(target.input)(data).pipe(
            Effect.mapError((error) =>
              new InvalidInput({
                subject: `input of ${target.externalId}`,
                issue: decodeError("input", error, {}).issue
              })
            )
          )
          schema = target.output
          ref = { externalId: target.externalId }
        } else {
          ref = target
        }
        const valid = yield* validData(input)
        const entry = yield* find(ref)
        const startedAt = yield* Clock.currentTimeMillis
        const record = yield* startCall(entry, valid)
        return yield* awaitCall(record, startedAt, startedReport("Running"), { ...options, schema })
      })) as Calls.Calls.Service["call"]

    const awaitHandle: Calls.Calls.Service["await"] = (handle, options = {}) =>
      Effect.flatMap(
        callEntry(handle.functionId, handle.callId),
        (record) => awaitCall(record, handle.startedAt, { ...startedReport(record.call.status), attempts: 0 }, options)
      )

    const callsOf = (ref: FunctionRef.FunctionRef) =>
      Effect.map(
        find(ref),
        (entry) => order.map((id) => calls.get(id)).filter((c): c is CallEntry => c?.call.functionId === entry.fn.id)
      )

    const callsService = Calls.Calls.of({
      call,
      start,
      // the in-memory calls never lose an answer: a lost send of another client cannot be proven here
      reconcile: (ref, lost) =>
        Effect.flatMap(find(ref), (entry) =>
          Effect.fail(
            new CallOutcomeUnknown({
              functionId: entry.fn.id,
              request: new RequestDescription({ method: "POST", path: `/functions/${entry.fn.id}/call` }),
              sentAt: Ids.EpochMillis.make(Math.max(0, Math.floor(lost.sentAt))),
              reason: "the in-memory service loses no answer, so there is no lost call to find",
              evidence: "None"
            })
          )),
      await: awaitHandle,
      retrieve: (ref, callId) =>
        Effect.flatMap(find(ref), (entry) => Effect.map(callEntry(entry.fn.id, callId), (c) => c.call)),
      retrieveMany: (ref, callIds, options = {}) =>
        Effect.flatMap(callsOf(ref), (all) => {
          const found = all.filter((c) => callIds.includes(c.call.id)).map((c) => c.call)
          const missing = callIds.filter((id) => !found.some((c) => c.id === id))
          return missing.length > 0 && options.ignoreUnknownIds !== true
            ? Effect.fail(notFound(`calls ${missing.join(", ")}`, new ErrorEnvelope.ItemReference({ id: missing[0] })))
            : Effect.succeed(found)
        }),
      list: (ref, options = {}) =>
        Stream.unwrap(Effect.map(callsOf(ref), (all) => {
          const status = options.filter?.status
          const listed = all.map((c) => c.call).filter((c) => status === undefined || c.status === status).reverse()
          return Stream.fromIterable(options.limit === undefined ? listed : listed.slice(0, options.limit))
        })),
      response: (ref, callId) =>
        Effect.flatMap(find(ref), (entry) => Effect.map(callEntry(entry.fn.id, callId), (c) => c.response)),
      logs: (ref, callId) =>
        Effect.flatMap(find(ref), (entry) => Effect.map(callEntry(entry.fn.id, callId), (c) => [...c.logs])),
      followLogs: (ref) =>
        Stream.unwrap(
          Effect.map(callEntry(ref.functionId, ref.callId), (record) =>
            Stream.fromEffect(Deferred.await(record.ended)).pipe(
              Stream.flatMap(() =>
                Stream.fromIterable([...record.logs])
              )
            ))
        )
    })

    const functionsService = Functions.Functions.of({
      create: (write) => addFunction({ name: write.name, externalId: write.externalId }),
      deploy: (deploy) => addFunction({ name: deploy.name, externalId: deploy.externalId }),
      list: (listOptions = {}) =>
        Effect.succeed(
          [...functions.values()].map((e) => e.fn).slice(0, listOptions.limit ?? Number.POSITIVE_INFINITY)
        ),
      retrieve: (ref) => Effect.map(find(ref), (e) => e.fn),
      retrieveOption: (ref) =>
        find(ref).pipe(
          Effect.map((e) => Option.some(e.fn)),
          Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
        ),
      retrieveMany: (refs, byIds = {}) =>
        Effect.forEach(refs, (ref) =>
          byIds.ignoreUnknownIds === true
            ? Effect.map(Effect.option(find(ref)), Option.map((e) => e.fn))
            : Effect.map(find(ref), (e) => Option.some(e.fn))).pipe(
            Effect.map((found) => found.flatMap(Option.toArray))
          ),
      delete: (refs, byIds = {}) =>
        Effect.forEach(refs, (ref) =>
          find(ref).pipe(
            Effect.map((e) => functions.delete(e.fn.id)),
            Effect.catchTag("NotFound", (error) => byIds.ignoreUnknownIds === true ? Effect.void : Effect.fail(error))
          ), { discard: true }),
      limits: Effect.succeed(limits),
      status: Effect.map(Ref.get(activation), (status) => new FunctionsLimits.FunctionsStatus({ status })),
      activate: Effect.as(
        Ref.set(activation, "activated"),
        new FunctionsLimits.FunctionsStatus({ status: "activated" })
      )
    })

    const sessionsService = Sessions.Sessions.of({
      defaultSource: { _tag: "TokenExchange" },
      create: () =>
        Effect.map(nextId, (id) =>
          new Session.CreatedSession({
            id: Ids.SessionId.make(id),
            status: "READY",
            nonce: Redacted.make(`test-nonce-${id}`)
          })),
      nonce: (source) =>
        source?._tag === "Nonce" ? Effect.succeed(source.nonce) : Effect.succeed(Redacted.make("test-nonce")),
      issue: (source) =>
        Effect.succeed({
          nonce: source?._tag === "Nonce" ? source.nonce : Redacted.make("test-nonce"),
          sessionId: Option.none()
        }),
      // the in-memory calls never lose an answer, so no session is ever looked up
      retrieve: () => Effect.succeed([]),
      revoke: () => Effect.succeed([])
    })

    const appsService = FunctionApps.FunctionApps.of({
      call: (externalId, request, appOptions = {}) =>
        Effect.gen(function*() {
          const entry = yield* find({ externalId })
          const record = yield* startCall(entry, {
            path: request.path,
            method: request.method,
            body: request.body ?? {}
          })
          const startedAt = yield* Clock.currentTimeMillis
          const done = yield* awaitCall(record, startedAt, startedReport("Running"), {
            ...(appOptions.deadline === undefined ? {} : { deadline: appOptions.deadline })
          })
          const envelope = yield* Schema.decodeUnknown(FunctionApp.AppEnvelope)(done.response).pipe(
            Effect.mapError((error) => decodeError("Function App envelope", error, done.response))
          )
          if (envelope._tag === "AppError") {
            return { callId: done.call.id, functionId: done.call.functionId, envelope, polls: 0 }
          }
          const schema = appOptions.schema
          const data = schema === undefined
            // without a schema `data` is `unknown` (A defaults to it)
            ? (envelope.data as never)
            : yield* Schema.decodeUnknown(schema)(envelope.data).pipe(
              Effect.mapError((error) => decodeError(`data of Function App call ${done.call.id}`, error, envelope.data))
            )
          return {
            callId: done.call.id,
            functionId: done.call.functionId,
            polls: 0,
            envelope: { _tag: "AppSuccess" as const, status_code: envelope.status_code, data }
          }
        }),
      listCalls: (externalId) => Effect.map(callsOf({ externalId }), (all) => all.map((c) => c.call)),
      response: (externalId, callId) => callsService.response({ externalId }, callId),
      logs: (externalId, callId) => callsService.logs({ externalId }, callId)
    })

    const testService = TestFunctions.of({
      register: (externalId, spec) =>
        Effect.map(
          addFunction({ name: toSpec(spec).name ?? externalId, externalId, spec: toSpec(spec) }),
          (fn) => fn.id
        ),
      calls: Effect.sync(() =>
        order.flatMap((id) => {
          const c = calls.get(id)
          return c === undefined ? [] : [{
            functionId: c.call.functionId,
            externalId: c.externalId,
            callId: c.call.id,
            data: c.data,
            status: c.call.status,
            response: c.response,
            error: Option.fromNullable(c.call.error)
          }]
        })
      )
    })

    return Context.make(Calls.Calls, callsService).pipe(
      Context.add(Functions.Functions, functionsService),
      Context.add(Sessions.Sessions, sessionsService),
      Context.add(FunctionApps.FunctionApps, appsService),
      Context.add(TestFunctions, testService)
    )
  }))
