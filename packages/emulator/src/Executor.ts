/**
 * Deploying functions and running calls: a fiber per deployment and per call, all in the emulator's
 * scope, with the running-call limits, the response size limit and the execution counters.
 *
 * @since 0.1.0
 */
import { CogniteFunction, FunctionCall, Ids } from "@effect-cdf/core"
import { Cause, Context, Deferred, Effect, FiberSet, Layer, Option } from "effect"
import { type CodeBundle, HandlerRuntime, type RunOutcome, unzipBundle } from "./HandlerRuntime.js"
import { type ApiFailure, badRequest, jsonSize, tooManyRequests } from "./internal/http.js"
import type { Limits } from "./Limits.js"
import { State, type StoredCall, type StoredFunction } from "./State.js"

/** The prefix of a `functionPath` that names a handler registered in-process. */
export const IN_PROCESS_PREFIX = "inprocess:"

/** Where a scheduled call comes from. */
export interface ScheduleOrigin {
  readonly scheduleId: number
  readonly scheduledTime: number
}

/** Deploys functions and runs calls. */
export class Executor extends Context.Tag("@effect-cdf/emulator/Executor")<Executor, Executor.Service>() {}

/** The executor's service. */
export declare namespace Executor {
  /** The executor's service. */
  export interface Service {
    /** Starts deploying a function in the background: `Queued -> Deploying -> Ready | Failed`. */
    readonly deploy: (functionId: number) => Effect.Effect<void>
    /** Prepares a restored function's handler again and waits for it: `Ready` again, or `Failed`. */
    readonly restore: (functionId: number) => Effect.Effect<void>
    /** Starts a call in the background and returns it `Running`. */
    readonly start: (
      functionId: number,
      data: Readonly<Record<string, unknown>>,
      origin?: ScheduleOrigin
    ) => Effect.Effect<StoredCall, ApiFailure>
  }
}

/** What the executor needs besides the state and the runtime. */
export interface ExecutorOptions {
  readonly limits: Limits
  /** A pause before `Deploying` and one before `Ready`, so both states are observable. Default 0. */
  readonly deployDelayMillis?: number | undefined
}

const emptyBundle: CodeBundle = { files: new Map() }

const outcomeLogs = (outcome: RunOutcome): ReadonlyArray<{ readonly timestamp: number; readonly message: string }> =>
  outcome.logs

/** Makes the executor; its fibers live in the current scope. */
export const make = (options: ExecutorOptions) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const runtime = yield* HandlerRuntime
    const fibers = yield* FiberSet.make()
    const delay = options.deployDelayMillis ?? 0
    const limits = options.limits

    const memoryMbOf = (fn: CogniteFunction.CogniteFunction) =>
      Math.round((fn.memory ?? limits.memoryGb.default) * 1024)

    const update = (
      functionId: number,
      f: (fn: CogniteFunction.CogniteFunction) => CogniteFunction.CogniteFunction
    ) => {
      const stored = store.functions.get(functionId)
      if (stored !== undefined) {
        stored.fn = f(stored.fn)
        store.touch("function", functionId)
      }
      return stored
    }

    const runDeploy = (functionId: number) =>
      Effect.gen(function*() {
        if (delay > 0) yield* Effect.sleep(delay)
        const stored = update(functionId, (fn) => new CogniteFunction.CogniteFunction({ ...fn, status: "Deploying" }))
        if (stored === undefined) return
        const path = stored.fn.functionPath ?? "handler.py"
        const file = store.files.get(stored.fn.fileId)
        const bytes = file?.bytes
        const bundle = yield* path.startsWith(IN_PROCESS_PREFIX)
          ? (bytes === undefined || bytes.length === 0
            ? Effect.succeed(emptyBundle)
            : unzipBundle(bytes).pipe(Effect.orElseSucceed(() => emptyBundle)))
          : bytes === undefined
          ? Effect.fail({ message: `File ${stored.fn.fileId} has no uploaded content`, trace: undefined })
          : unzipBundle(bytes)
        const handler = yield* runtime.prepare(functionId, bundle, path, {
          memoryMb: memoryMbOf(stored.fn),
          envVars: stored.fn.envVars
        })
        if (delay > 0) yield* Effect.sleep(delay)
        const ready = update(functionId, (fn) => new CogniteFunction.CogniteFunction({ ...fn, status: "Ready" }))
        if (ready !== undefined) ready.handler = handler
      }).pipe(
        Effect.catchAllCause((cause) => {
          const failure = Cause.failureOption(cause)
          const message = Option.isSome(failure)
            ? failure.value.message
            : `Function deployment failed: ${Cause.pretty(cause).slice(0, 500)}`
          const trace = Option.isSome(failure) ? failure.value.trace ?? message : Cause.pretty(cause)
          return Effect.sync(() => {
            update(functionId, (fn) =>
              new CogniteFunction.CogniteFunction({
                ...fn,
                status: "Failed",
                error: new CogniteFunction.FunctionBuildError({ message, trace: trace.slice(-2000) })
              }))
          })
        })
      )

    const finish = (call: StoredCall, outcome: RunOutcome) =>
      Effect.gen(function*() {
        const endTime = yield* now
        const logs = outcomeLogs(outcome)
        if (logs.length >= call.logs.length) call.logs.splice(0, call.logs.length, ...logs)
        const base = { ...call.call, endTime: Ids.EpochMillis.make(endTime) }
        if (outcome.status === "Completed") {
          const size = outcome.response === undefined ? 0 : jsonSize(outcome.response)
          if (size > limits.responseSizeBytes) {
            call.call = new FunctionCall.FunctionCall({
              ...base,
              status: "Failed",
              error: new FunctionCall.CallError({
                message:
                  `The function's response is ${size} bytes, over the limit of ${limits.responseSizeBytes} bytes`,
                trace: ""
              })
            })
          } else {
            call.call = new FunctionCall.FunctionCall({ ...base, status: "Completed" })
            call.response = outcome.response === undefined ? undefined : { value: outcome.response }
          }
        } else {
          const error = outcome.error
          call.call = new FunctionCall.FunctionCall({
            ...base,
            status: outcome.status,
            error: new FunctionCall.CallError({
              message: error.message,
              ...("trace" in error && typeof error.trace === "string" ? { trace: error.trace } : {})
            })
          })
        }
        store.touch("call", call.call.id)
        store.callEnded(call.call.functionId)
        yield* Deferred.succeed(call.done, undefined)
      })

    const runCall = (stored: StoredFunction, call: StoredCall, data: unknown, origin: ScheduleOrigin | undefined) =>
      Effect.gen(function*() {
        const handler = stored.handler
        if (handler === undefined) {
          return yield* finish(call, {
            status: "Failed",
            error: { message: "The function has no deployed handler" },
            logs: []
          })
        }
        const outcome = yield* runtime.run({
          handler,
          data,
          secrets: { ...stored.secrets },
          callInfo: {
            function_id: stored.fn.id,
            call_id: call.call.id,
            schedule_id: origin?.scheduleId ?? null,
            scheduled_time: origin === undefined ? null : new Date(origin.scheduledTime).toISOString()
          },
          timeoutMillis: limits.callTimeoutMillis,
          memoryMb: memoryMbOf(stored.fn),
          responseSizeLimitBytes: limits.responseSizeBytes,
          envVars: { ...stored.fn.envVars },
          onLog: (line) => {
            call.logs.push({ timestamp: line.timestamp, message: line.message })
            store.touch("call", call.call.id)
          }
        })
        yield* finish(call, outcome)
      }).pipe(
        Effect.catchAllDefect((defect) =>
          finish(call, {
            status: "Failed",
            error: { message: `The emulator failed to run the call: ${String(defect)}` },
            logs: []
          })
        )
      )

    const service: Executor.Service = {
      deploy: (functionId) => FiberSet.run(fibers, runDeploy(functionId)).pipe(Effect.asVoid),
      restore: runDeploy,
      start: (functionId, data, origin) =>
        Effect.gen(function*() {
          const stored = store.functions.get(functionId)
          if (stored === undefined) return yield* Effect.fail(badRequest(`Function ${functionId} not found`))
          if (stored.fn.status !== "Ready") {
            return yield* Effect.fail(
              badRequest(`Function ${functionId} is not ready to be called: its status is ${stored.fn.status}`)
            )
          }
          if (store.runningCalls(functionId) >= limits.maxRunningCallsPerFunction) {
            return yield* Effect.fail(tooManyRequests(
              `Function ${functionId} already has ${limits.maxRunningCallsPerFunction} running calls (the limit)`
            ))
          }
          if (store.runningCalls() >= limits.maxRunningCallsPerProject) {
            return yield* Effect.fail(tooManyRequests(
              `The project already has ${limits.maxRunningCallsPerProject} running calls (the limit)`
            ))
          }
          const t = yield* now
          const id = store.newId(store.calls)
          const call: StoredCall = {
            call: new FunctionCall.FunctionCall({
              id: Ids.CallId.make(id),
              status: "Running",
              startTime: Ids.EpochMillis.make(t),
              functionId: stored.fn.id,
              ...(origin === undefined ? {} : {
                scheduleId: Ids.ScheduleId.make(origin.scheduleId),
                scheduledTime: Ids.EpochMillis.make(origin.scheduledTime)
              })
            }),
            logs: [],
            response: undefined,
            done: yield* Deferred.make<void>()
          }
          store.calls.set(id, call)
          store.callStarted(functionId)
          stored.fn = new CogniteFunction.CogniteFunction({ ...stored.fn, lastCalled: Ids.EpochMillis.make(t) })
          store.executions.set(functionId, (store.executions.get(functionId) ?? 0) + 1)
          store.touch("call", id)
          store.touch("function", functionId)
          store.touch("execution", functionId)
          yield* FiberSet.run(fibers, runCall(stored, call, data, origin))
          return call
        })
    }
    return service
  })

/** The executor layer. */
export const layer = (options: ExecutorOptions) => Layer.scoped(Executor, make(options))
