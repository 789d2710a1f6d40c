/** The body of the `Calls` service: starting a call, waiting for it with `Polling.until`, reading calls. */
import type { Ids } from "@effect-cdf/core"
import { CogniteFunction, FunctionCall, Items } from "@effect-cdf/core"
import { decodeError, InvalidInput, PollDeadlineExceeded } from "@effect-cdf/core/Errors"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { Schedule } from "effect"
import { Clock, Duration, Effect, Either, Option, Ref, Schema, Stream } from "effect"
import type {
  CallError,
  CallOptions,
  CallRef,
  CallReport,
  Calls,
  Completed,
  ListOptions,
  Started,
  StartOptions,
  WaitError,
  WaitOptions
} from "../Calls.js"
import type * as FunctionDef from "../FunctionDef.js"
import { isFunctionDef } from "../FunctionDef.js"
import type { FunctionRef } from "../FunctionRef.js"
import * as Polling from "../Polling.js"
import { Sessions } from "../Sessions.js"
import { cachedLimits, read, readPages, resolveFunctionId, retrieveCall } from "./api.js"
import { validCallId } from "./ids.js"
import { logInterruptedWait } from "./interrupted.js"
import { decodeResponse, failIfFailed } from "./outcome.js"
import { gateFor, type PacingOptions } from "./pacing.js"
import { pollerFor, untilEnded } from "./poller.js"
import { transientPollError } from "./polling.js"
import { KnownCalls } from "./reconcile.js"
import { makeReconciler } from "./reconciler.js"
import { sendCall } from "./send.js"

/** The running-call limits a client paces its calls to. */
export type { PacingOptions }

const CallItems = Items.Items(FunctionCall.FunctionCall)
const decodeInputData = Schema.decodeUnknownEither(CogniteFunction.FunctionInput)

/** A report with nothing in it yet. */
export const emptyReport: CallReport = {
  attempts: 0,
  retryDelayMillis: 0,
  polls: 0,
  statuses: [],
  waitedMillis: 0,
  reconciled: false
}

const withStatus = (report: CallReport, status: string): CallReport =>
  report.statuses[report.statuses.length - 1] === status
    ? report
    : { ...report, statuses: [...report.statuses, status] }

const validData = (data: unknown): Effect.Effect<Readonly<Record<string, unknown>>, InvalidInput> =>
  data === undefined ? Effect.succeed({}) : Either.match(decodeInputData(data), {
    onLeft: () => Effect.fail(new InvalidInput({ subject: "call data", issue: "a function's data is a JSON object" })),
    onRight: Effect.succeed
  })

const stripUndefined = (value: object): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [
      k,
      typeof v === "object" && v !== null && !Array.isArray(v) ? stripUndefined(v) : v
    ])
  )

type AnySchema = Schema.Schema<unknown, unknown> | undefined

/** A calls service over a CDF client and a sessions service. */
export const make = (pacing?: PacingOptions) =>
  Effect.gen(function*() {
    const client = yield* CdfClient
    const sessions = yield* Sessions
    const defaultDeadline = Polling.defaultDeadline(cachedLimits(client))
    const known = new KnownCalls()

    const getCall = (functionId: number, callId: number) => retrieveCall(client, functionId, callId)

    const getResponse = (functionId: number, callId: number) =>
      read(client, {
        operation: "cdf.Calls.response",
        method: "GET",
        path: path`/functions/${functionId}/calls/${callId}/response`,
        safety: "safe",
        schema: FunctionCall.FunctionCallResponse
      })

    const getLogs = (functionId: number, callId: number) =>
      read(client, {
        operation: "cdf.Calls.logs",
        method: "GET",
        path: path`/functions/${functionId}/calls/${callId}/logs`,
        safety: "safe",
        schema: FunctionCall.FunctionCallLogs
      }).pipe(Effect.map((logs) => logs.items))

    const gate = gateFor(client, pacing)
    const poller = pollerFor(client)
    const reconciler = makeReconciler(client, sessions, known)
    const reconcileWith = reconciler.reconcileWith

    const startWith = Effect.fnUntraced(function*(
      functionId: Ids.FunctionId,
      data: Readonly<Record<string, unknown>>,
      options: StartOptions,
      progress: { started?: Started } = {}
    ) {
      const posted = yield* sendCall({ client, sessions, reconcileWith, throttleTimeout: gate.throttleTimeout }, {
        functionId,
        data,
        options
      })
      const { issued, sentAt } = posted
      const call = posted.value
      known.add(call.id)
      const handle = new FunctionCall.CallHandle({ functionId, callId: call.id, startedAt: sentAt })
      const report: CallReport = withStatus(
        {
          ...emptyReport,
          attempts: posted.attempts,
          retryDelayMillis: posted.retryDelayMillis,
          reconciled: posted.reconciled
        },
        call.status
      )
      yield* Effect.annotateCurrentSpan({ "cdf.function.id": functionId, "cdf.call.id": call.id })
      const started: Started = {
        call,
        handle,
        report,
        ...(Option.isSome(issued.sessionId) ? { sessionId: issued.sessionId.value } : {})
      }
      progress.started = started
      // the caller keeps the handle before any wait can be interrupted
      if (options.onStarted !== undefined) yield* Effect.uninterruptible(options.onStarted(started))
      return started
    })

    /**
     * Starts a call and waits for it; an interrupt once the call is known logs the handle that resumes the
     * wait (an interrupt during the send logs what finds it).
     */
    const startAndAwait = (
      functionId: Ids.FunctionId,
      data: Readonly<Record<string, unknown>>,
      options: StartOptions & WaitOptions & { readonly schema?: AnySchema }
    ) => {
      const progress: { started?: Started } = {}
      // the slot is held until the call is seen ended (the service's slot is free by then), not while its
      // response is read: at most the limit of calls run at once
      return gate.withSlot(
        functionId,
        startWith(functionId, data, options, progress).pipe(
          Effect.flatMap((started) =>
            Effect.flatMap(Polling.PollSchedule, (fallback) =>
              Effect.map(
                waitUntilEnded(started.handle, Option.some(started.call), started.report, {
                  ...options,
                  schedule: options.schedule ?? gate.whileQueued(functionId, fallback),
                  queued: options.schedule === undefined ? () => gate.queued(functionId) : undefined
                }),
                (ended) => ({ handle: started.handle, ended })
              ))
          )
        )
      ).pipe(
        Effect.flatMap(({ ended, handle }) => finish(handle, ended, options)),
        Effect.onInterrupt(() =>
          progress.started === undefined ? Effect.void : logInterruptedWait(progress.started.handle)
        )
      )
    }

    /** Polls until the call ends or the deadline passes; `first` is the last state known, if any. */
    const waitUntilEnded = Effect.fnUntraced(function*(
      handle: FunctionCall.CallHandle,
      first: Option.Option<FunctionCall.FunctionCall>,
      report: CallReport,
      options: WaitOptions & { readonly queued?: (() => boolean) | undefined }
    ) {
      const startedWaiting = yield* Clock.currentTimeMillis
      const budget = options.deadline === undefined ? yield* defaultDeadline : Duration.decode(options.deadline)
      // a new call's deadline counts from its send; a resumed wait's from when it resumes
      const deadline = Math.ceil((Option.isSome(first) ? handle.startedAt : startedWaiting) + Duration.toMillis(budget))
      const warned = new Set<string>()
      let state = report
      const ended = yield* untilEnded(poller, handle, options.queued, {
        poll: getCall(handle.functionId, handle.callId),
        isDone: (call) => FunctionCall.isTerminal(call.status),
        deadline,
        schedule: options.schedule,
        initial: first,
        onValue: (call) => {
          state = withStatus(state, call.status)
          if (!FunctionCall.isUnknownStatus(call.status) || warned.has(call.status)) return Effect.void
          warned.add(call.status)
          return Effect.logWarning(
            `call status "${call.status}" is unknown to this client: polling on until the deadline`
          )
            .pipe(Effect.annotateLogs({ functionId: handle.functionId, callId: handle.callId }))
        },
        transient: transientPollError
      })
      const now = yield* Clock.currentTimeMillis
      const lastStatus = ended._tag === "Done"
        ? ended.value.status
        : Option.match(ended.last, { onNone: () => "Running", onSome: (call) => call.status })
      state = { ...state, polls: state.polls + ended.polls, waitedMillis: now - startedWaiting }
      yield* Effect.annotateCurrentSpan({
        "cdf.function.id": handle.functionId,
        "cdf.call.id": handle.callId,
        "cdf.call.polls": state.polls,
        "cdf.call.status": lastStatus,
        "cdf.call.waited_ms": state.waitedMillis
      })
      if (ended._tag === "DeadlineReached") {
        return yield* new PollDeadlineExceeded({ handle, waitedMillis: now - handle.startedAt, lastStatus })
      }
      return { call: ended.value, report: state }
    })

    /** Waits for a call and reads its outcome: the response when it completed, a typed failure otherwise. */
    const awaitWith = Effect.fnUntraced(function*(
      handle: FunctionCall.CallHandle,
      first: Option.Option<FunctionCall.FunctionCall>,
      report: CallReport,
      options: WaitOptions & { readonly schema?: AnySchema }
    ) {
      return yield* finish(handle, yield* waitUntilEnded(handle, first, report, options), options)
    })

    /** A call seen ended: its response when it completed, a typed failure otherwise. */
    const finish = Effect.fnUntraced(function*(
      handle: FunctionCall.CallHandle,
      ended: { readonly call: FunctionCall.FunctionCall; readonly report: CallReport },
      options: { readonly schema?: AnySchema }
    ) {
      const call = ended.call
      yield* failIfFailed({
        functionId: handle.functionId,
        callId: handle.callId,
        status: call.status,
        error: call.error
      }, "function")
      const body = yield* getResponse(handle.functionId, handle.callId)
      const response = yield* decodeResponse(options.schema, body.response, `response of call ${handle.callId}`)
      return { call, handle, report: ended.report, response } satisfies Completed<unknown>
    })

    const start = Effect.fn("Calls.start")(function*(
      fn: FunctionRef,
      data?: Readonly<Record<string, unknown>> | undefined,
      options: StartOptions = {}
    ) {
      const input = yield* validData(data)
      const functionId = yield* resolveFunctionId(client, fn)
      // a started call keeps running on the server; its slot here is held only while it is sent
      return yield* gate.withSlot(functionId, startWith(functionId, input, options))
    })

    const callRef = Effect.fn("Calls.call")(
      function*(fn: FunctionRef, data: unknown, options: CallOptions<unknown, unknown>) {
        const input = yield* validData(data)
        const functionId = yield* resolveFunctionId(client, fn)
        return yield* startAndAwait(functionId, input, options)
      }
    )

    const callDef = Effect.fn("Calls.call")(function*(
      definition: FunctionDef.Any,
      input: unknown,
      options: StartOptions & WaitOptions
    ) {
      const encoded = yield* Schema.encodeUnknown(definition.input)(input).pipe(
        Effect.mapError((error) =>
          new InvalidInput({
            subject: `input of ${definition.externalId}`,
            issue: decodeError("input", error, {}).issue
          })
        )
      )
      const data = yield* validData(encoded)
      const functionId = yield* resolveFunctionId(client, { externalId: definition.externalId })
      return yield* startAndAwait(functionId, data, { ...options, schema: definition.output })
    })

    // The overloads of `Calls.Service["call"]`: the schema given (or the definition's) types the response.
    function call<I, IE, O, OE>(
      definition: FunctionDef.FunctionDef<I, IE, O, OE>,
      input: NoInfer<I>,
      options?: StartOptions & WaitOptions
    ): Effect.Effect<Completed<O>, CallError>
    function call<A, I>(
      fn: FunctionRef,
      data: Readonly<Record<string, unknown>> | undefined,
      options: CallOptions<A, I> & { readonly schema: Schema.Schema<A, I> }
    ): Effect.Effect<Completed<A>, CallError>
    function call(
      fn: FunctionRef,
      data?: Readonly<Record<string, unknown>> | undefined,
      options?: StartOptions & WaitOptions & { readonly schema?: undefined }
    ): Effect.Effect<Completed<unknown>, CallError>
    function call(
      target: FunctionRef | FunctionDef.Any,
      data?: unknown,
      options: CallOptions<unknown, unknown> = {}
    ): Effect.Effect<Completed<unknown>, CallError> {
      return isFunctionDef(target) ? callDef(target, data, options) : callRef(target, data, options)
    }

    const awaitTraced = Effect.fn("Calls.await")(function*(
      handle: FunctionCall.CallHandle,
      options: WaitOptions & { readonly schema?: AnySchema } = {}
    ) {
      return yield* awaitWith(handle, Option.none(), emptyReport, options)
    })
    function awaitHandle<A, I>(
      handle: FunctionCall.CallHandle,
      options: WaitOptions & { readonly schema: Schema.Schema<A, I> }
    ): Effect.Effect<Completed<A>, WaitError>
    function awaitHandle(
      handle: FunctionCall.CallHandle,
      options?: WaitOptions & { readonly schema?: undefined }
    ): Effect.Effect<Completed<unknown>, WaitError>
    function awaitHandle(
      handle: FunctionCall.CallHandle,
      options?: WaitOptions & { readonly schema?: AnySchema }
    ): Effect.Effect<Completed<unknown>, WaitError> {
      return awaitTraced(handle, options)
    }

    const retrieve = Effect.fn("Calls.retrieve")(function*(fn: FunctionRef, callId: number) {
      const functionId = yield* resolveFunctionId(client, fn)
      return yield* getCall(functionId, yield* validCallId(callId))
    })

    const retrieveMany = Effect.fn("Calls.retrieveMany")(function*(
      fn: FunctionRef,
      callIds: ReadonlyArray<number>,
      options: { readonly ignoreUnknownIds?: boolean | undefined } = {}
    ) {
      const functionId = yield* resolveFunctionId(client, fn)
      const ids = yield* Effect.forEach(callIds, validCallId)
      const pages = yield* client.chunked(ids, Items.ItemLimits.callsByIds, (chunk) =>
        read(client, {
          operation: "cdf.Calls.retrieveMany",
          method: "POST",
          path: path`/functions/${functionId}/calls/byids`,
          safety: "safe",
          body: {
            items: chunk.map((id) => ({ id })),
            ...(options.ignoreUnknownIds === undefined ? {} : { ignoreUnknownIds: options.ignoreUnknownIds })
          },
          schema: CallItems
        }))
      return pages.flatMap((page) => page.items)
    })

    const list = (fn: FunctionRef, options: ListOptions = {}) =>
      Stream.unwrap(Effect.map(resolveFunctionId(client, fn), (functionId) => {
        const filter = options.filter === undefined ? undefined : stripUndefined(options.filter)
        const pageSize = Math.min(options.pageSize ?? 100, options.limit ?? Number.POSITIVE_INFINITY, 10_000)
        const stream = readPages(client, {
          operation: "cdf.Calls.list",
          method: "POST",
          path: path`/functions/${functionId}/calls/list`,
          safety: "safe",
          body: {
            ...(filter === undefined || Object.keys(filter).length === 0 ? {} : { filter }),
            limit: Math.max(1, pageSize)
          },
          item: FunctionCall.FunctionCall
        })
        return options.limit === undefined ? stream : Stream.take(stream, options.limit)
      }))

    const response = Effect.fn("Calls.response")(function*(fn: FunctionRef, callId: number) {
      const functionId = yield* resolveFunctionId(client, fn)
      const body = yield* getResponse(functionId, yield* validCallId(callId))
      return "response" in body ? Option.some(body.response) : Option.none()
    })

    const logs = Effect.fn("Calls.logs")(function*(fn: FunctionRef, callId: number) {
      const functionId = yield* resolveFunctionId(client, fn)
      return yield* getLogs(functionId, yield* validCallId(callId))
    })

    const followLogs = (
      ref: CallRef,
      options: { readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined } = {}
    ) =>
      Stream.unwrap(Effect.gen(function*() {
        const seen = yield* Ref.make(0)
        const done = yield* Ref.make(false)
        const pace = yield* Polling.pacer(options.schedule ?? (yield* Polling.PollSchedule))
        // one round: read the status first, then the logs, so lines printed before the end are never missed
        const round = Effect.gen(function*() {
          if (yield* Ref.get(done)) return Option.none()
          const call = yield* getCall(ref.functionId, ref.callId)
          const lines = yield* getLogs(ref.functionId, ref.callId)
          const from = yield* Ref.get(seen)
          yield* Ref.set(seen, Math.max(from, lines.length))
          if (FunctionCall.isTerminal(call.status)) {
            yield* Ref.set(done, true)
          } else {
            const delay = yield* pace.next
            yield* Effect.sleep(Duration.millis(Option.getOrElse(delay, () => 5_000)))
          }
          return Option.some(lines.slice(from))
        })
        return Stream.repeatEffectOption(
          round.pipe(
            Effect.mapError(Option.some),
            Effect.flatMap(Option.match({
              onNone: () => Effect.fail(Option.none()),
              onSome: Effect.succeed
            }))
          )
        ).pipe(Stream.flattenIterables)
      }))

    const service: Calls.Service = {
      call,
      start,
      reconcile: reconciler.reconcileLost,
      await: awaitHandle,
      retrieve,
      retrieveMany,
      list,
      response,
      logs,
      followLogs
    }
    return service
  })
