/**
 * Calling functions and waiting for them.
 *
 * `call` gets a nonce, sends `POST /functions/{id}/call` once (it is never re-sent: when its answer is lost
 * after the body may have left, the call is reconciled by listing the function's recent calls), then polls
 * `GET /functions/{id}/calls/{callId}` on a schedule that starts fast and backs off, until the call ends or
 * a deadline passes. Interrupting it aborts the request in flight and sends nothing more.
 *
 * @example
 * ```ts
 * import { Calls } from "@effect-cdf/functions"
 * import { Effect, Schema } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const calls = yield* Calls.Calls
 *   const result = yield* calls.call("my-function", { x: 1 }, {
 *     schema: Schema.Struct({ y: Schema.Number }),
 *     deadline: "2 minutes"
 *   })
 *   return result.response.y
 * })
 * ```
 *
 * @since 0.1.0
 */
import { CogniteFunction, FunctionCall, Ids, Items } from "@effect-cdf/core"
import {
  CallFailed,
  CallOutcomeUnknown,
  CallTimedOut,
  type DecodeError,
  decodeError,
  InvalidInput,
  PollDeadlineExceeded,
  RequestDescription
} from "@effect-cdf/core/Errors"
import type { CdfClient as CdfClientNs } from "@effect-cdf/http/CdfClient"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { HttpClient } from "@effect/platform"
import type { Schedule } from "effect"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Redacted, Ref, Schema, Stream } from "effect"
import type { ConfigError } from "effect"
import type * as FunctionDef from "./FunctionDef.js"
import { isFunctionDef } from "./FunctionDef.js"
import type { FunctionRef } from "./FunctionRef.js"
import { cachedLimits, resolveFunctionId } from "./internal/api.js"
import { encode } from "./internal/encode.js"
import { fromEnv } from "./internal/env.js"
import { validCallId } from "./internal/ids.js"
import { type OwnedElsewhere, reconcile } from "./internal/reconcile.js"
import * as Polling from "./Polling.js"
import { type NonceSource, Sessions } from "./Sessions.js"

/** How a call was waited for: what it cost and what was seen. */
export interface CallReport {
  /** Attempts of `POST .../call` (only a 429 or a request that never left is retried). */
  readonly attempts: number
  /** Time spent between attempts of the POST, in milliseconds. */
  readonly retryDelayMillis: number
  /** Polls of the call's status. */
  readonly polls: number
  /** The statuses seen, in order, without repeats (`Running`, then `Completed`, ...). */
  readonly statuses: ReadonlyArray<string>
  /** Milliseconds from sending the call (or from resuming) until it ended. */
  readonly waitedMillis: number
  /** Whether the call was adopted by reconciliation after its POST's answer was lost. */
  readonly reconciled: boolean
}

/** A call that was started and not waited for. */
export interface Started {
  /** The call as `POST .../call` answered (or as reconciliation found it). */
  readonly call: FunctionCall.FunctionCall
  /** Serialisable: give it to `Calls.await` to wait for the call, here or in another process. */
  readonly handle: FunctionCall.CallHandle
  readonly report: CallReport
}

/** A call that completed: its response, decoded with the schema given, and how it went. */
export interface Completed<A> {
  readonly call: FunctionCall.FunctionCall
  readonly handle: FunctionCall.CallHandle
  readonly response: A
  readonly report: CallReport
}

/** How to wait. */
export interface WaitOptions {
  /**
   * How long to wait at most, counted from when the call was sent. Default: the project's call timeout
   * (`timeoutMinutes` from `GET /functions/limits`, read once per client) plus one minute of grace.
   */
  readonly deadline?: Duration.DurationInput | undefined
  /** The poll schedule; `Polling.defaultSchedule` by default (250 ms, x1.5, capped at 5 s, jittered). */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/** How to start a call. */
export interface StartOptions {
  /** A nonce to use as it is (a string is wrapped in `Redacted` at once). */
  readonly nonce?: Redacted.Redacted<string> | string | undefined
  /** Where to get a nonce when none is given; default the client's configured source. */
  readonly nonceSource?: NonceSource | undefined
  /**
   * How far before the send a call may have started and still be taken for this one when the POST's
   * answer was lost (clock skew). Default 30 s.
   */
  readonly reconcileWindow?: Duration.DurationInput | undefined
  /**
   * Calls reconciliation must never adopt because they are known to be someone else's (for example the
   * calls other workflows recorded in a shared store). The calls this client started are always excluded.
   */
  readonly excludeCallIds?: OwnedElsewhere | undefined
}

/** What `Calls.reconcile` needs to know about a send whose answer was lost. */
export interface ReconcileOptions {
  /** When the POST was sent (epoch ms). */
  readonly sentAt: number
  /** The session created for that call alone; without it nothing can be proven and nothing is adopted. */
  readonly sessionId?: number | undefined
  /** Clock skew allowed before `sentAt`; default 30 s. */
  readonly window?: Duration.DurationInput | undefined
  /** Calls known to be someone else's: never adopted. */
  readonly excludeCallIds?: OwnedElsewhere | undefined
}

/** Options of `call`: start, wait, and the schema of the response. */
export interface CallOptions<A = unknown, I = unknown> extends StartOptions, WaitOptions {
  /** Decodes the call's response; without it the response is `unknown`. */
  readonly schema?: Schema.Schema<A, I> | undefined
}

/** Options of `list`. */
export interface ListOptions {
  readonly filter?: {
    readonly status?: FunctionCall.KnownCallStatus | undefined
    readonly scheduleId?: number | undefined
    readonly startTime?: { readonly min?: number | undefined; readonly max?: number | undefined } | undefined
    readonly endTime?: { readonly min?: number | undefined; readonly max?: number | undefined } | undefined
  } | undefined
  /** Items per page; default 100. */
  readonly pageSize?: number | undefined
  /** The most items to return in all; default every item. */
  readonly limit?: number | undefined
}

/** Every error calling a function can end with. */
export type CallError =
  | CdfClientNs.Error
  | CallFailed
  | CallTimedOut
  | PollDeadlineExceeded
  | CallOutcomeUnknown
  | DecodeError
  | InvalidInput

/** A call named by its function and its id. */
export interface CallRef {
  readonly functionId: number
  readonly callId: number
}

/** Calls functions and waits for them, reads calls, their responses and logs. */
export class Calls extends Context.Tag("@effect-cdf/functions/Calls")<Calls, Calls.Service>() {}

/** The types of the `Calls` service. */
export declare namespace Calls {
  /** What the calls service offers. */
  export interface Service {
    /**
     * Calls a function and waits until the call ends: `Completed` gives its response (decoded with
     * `options.schema`, or with the definition's output schema); `Failed` fails with `CallFailed`, `Timeout`
     * with `CallTimedOut`, the deadline with `PollDeadlineExceeded` (whose `handle` resumes waiting).
     */
    readonly call: {
      <I, IE, O, OE>(
        definition: FunctionDef.FunctionDef<I, IE, O, OE>,
        input: I,
        options?: StartOptions & WaitOptions
      ): Effect.Effect<Completed<O>, CallError>
      <A = unknown, I = unknown>(
        fn: FunctionRef,
        data?: Readonly<Record<string, unknown>> | undefined,
        options?: CallOptions<A, I>
      ): Effect.Effect<Completed<A>, CallError>
    }
    /** Starts a call and does not wait: the handle resumes waiting later with `await`. */
    readonly start: (
      fn: FunctionRef,
      data?: Readonly<Record<string, unknown>> | undefined,
      options?: StartOptions
    ) => Effect.Effect<Started, CallError>
    /**
     * Finds the call a lost `POST .../call` may have created, on positive evidence only (the status of the
     * session made for that call alone; see `docs/reliability.md`): the call, or `CallOutcomeUnknown`
     * saying what was proven. `call` and `start` do this themselves; this is for a caller that recorded
     * `sentAt` and the session id before sending (a durable workflow).
     */
    readonly reconcile: (
      fn: FunctionRef,
      lost: ReconcileOptions
    ) => Effect.Effect<FunctionCall.FunctionCall, CallOutcomeUnknown | CdfClientNs.Error | InvalidInput>
    /** Waits for a started call, from its handle (which may come from another process). */
    readonly await: <A = unknown, I = unknown>(
      handle: FunctionCall.CallHandle,
      options?: WaitOptions & { readonly schema?: Schema.Schema<A, I> | undefined }
    ) => Effect.Effect<Completed<A>, CallError>
    /** One call. */
    readonly retrieve: (fn: FunctionRef, callId: number) => Effect.Effect<FunctionCall.FunctionCall, CallError>
    /** Many calls of one function (`POST .../calls/byids`, chunks of 10,000). */
    readonly retrieveMany: (
      fn: FunctionRef,
      callIds: ReadonlyArray<number>,
      options?: { readonly ignoreUnknownIds?: boolean | undefined }
    ) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCall>, CallError>
    /** A function's calls, newest first as the API lists them, every page as a `Stream`. */
    readonly list: (fn: FunctionRef, options?: ListOptions) => Stream.Stream<FunctionCall.FunctionCall, CallError>
    /** A call's response: `None` when the function returned nothing. */
    readonly response: (fn: FunctionRef, callId: number) => Effect.Effect<Option.Option<unknown>, CallError>
    /** A call's log lines. */
    readonly logs: (
      fn: FunctionRef,
      callId: number
    ) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCallLogEntry>, CallError>
    /**
     * The log lines of a call as they are printed: polls the logs on the poll schedule while the call
     * runs, emits each new line once, and ends when the call has ended and its last lines are out.
     */
    readonly followLogs: (
      call: CallRef,
      options?: { readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined }
    ) => Stream.Stream<FunctionCall.FunctionCallLogEntry, CallError>
  }
}

const CallItems = Items.Items(FunctionCall.FunctionCall)
const encodeCallBody = encode(FunctionCall.CallFunctionRequest, "call request")
const decodeInputData = Schema.decodeUnknownEither(CogniteFunction.FunctionInput)
const DEFAULT_RECONCILE_WINDOW = Duration.seconds(30)

const emptyReport: CallReport = {
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

/** A calls service over a CDF client and a sessions service. */
export const make = Effect.gen(function*() {
  const client = yield* CdfClient
  const sessions = yield* Sessions

  const limits = yield* cachedLimits(client)
  const defaultDeadline = Polling.defaultDeadline(limits)

  /** Never adopted: the calls this client started, and those the caller says are someone else's. */
  const ownedElsewhere = (more: OwnedElsewhere | undefined): OwnedElsewhere =>
    more === undefined
      ? known
      : (callId) => known.has(callId) || (typeof more === "function" ? more(callId) : more.has(callId))

  /** The ids of the calls this client started (the latest 10,000): reconciliation never adopts one of them. */
  const known = new Set<number>()
  const remember = (callId: number) => {
    known.add(callId)
    if (known.size > 10_000) {
      const oldest = known.values().next()
      if (oldest.done !== true) known.delete(oldest.value)
    }
  }

  const getCall = (functionId: number, callId: number) =>
    client.execute({
      operation: "cdf.Calls.retrieve",
      method: "GET",
      path: path`/functions/${functionId}/calls/${callId}`,
      safety: "safe",
      schema: FunctionCall.FunctionCall
    })

  const getResponse = (functionId: number, callId: number) =>
    client.execute({
      operation: "cdf.Calls.response",
      method: "GET",
      path: path`/functions/${functionId}/calls/${callId}/response`,
      safety: "safe",
      schema: FunctionCall.FunctionCallResponse
    })

  const getLogs = (functionId: number, callId: number) =>
    client.execute({
      operation: "cdf.Calls.logs",
      method: "GET",
      path: path`/functions/${functionId}/calls/${callId}/logs`,
      safety: "safe",
      schema: FunctionCall.FunctionCallLogs
    }).pipe(Effect.map((logs) => logs.items))

  const startWith = Effect.fnUntraced(function*(
    functionId: Ids.FunctionId,
    data: Readonly<Record<string, unknown>>,
    options: StartOptions
  ) {
    const issued = options.nonce === undefined
      ? yield* sessions.issue(options.nonceSource)
      : {
        nonce: Redacted.isRedacted(options.nonce) ? options.nonce : Redacted.make(options.nonce),
        sessionId: Option.none()
      }
    const body = yield* encodeCallBody({ data, nonce: issued.nonce })
    const sentAt = yield* Clock.currentTimeMillis
    const window = Duration.decode(options.reconcileWindow ?? DEFAULT_RECONCILE_WINDOW)
    const posted = yield* client.executeWithMetadata({
      operation: "cdf.Calls.call",
      method: "POST",
      path: path`/functions/${functionId}/call`,
      safety: "unsafe",
      body,
      schema: FunctionCall.FunctionCall
    }).pipe(
      Effect.map((result) => ({ ...result, reconciled: false })),
      // a 2xx whose body cannot be read also created a call whose id we do not know
      Effect.catchTag("DecodeError", (error) =>
        Effect.fail(
          new CallOutcomeUnknown({
            functionId,
            request: error.request ?? new RequestDescription({ method: "POST", path: `/functions/${functionId}/call` }),
            sentAt,
            reason: `the answer could not be read (${error.issue})`
          })
        )),
      Effect.catchTag("CallOutcomeUnknown", (error) =>
        reconcile(client, sessions, {
          functionId,
          sentAt,
          sessionId: issued.sessionId,
          window,
          excluded: ownedElsewhere(options.excludeCallIds),
          error
        }).pipe(
          Effect.map((value) => ({ value, attempts: 1, retryDelayMillis: 0, reconciled: true }))
        ))
    )
    const call = posted.value
    remember(call.id)
    const handle = new FunctionCall.CallHandle({
      functionId,
      callId: call.id,
      startedAt: sentAt
    })
    const report: CallReport = withStatus(
      {
        ...emptyReport,
        attempts: posted.attempts,
        retryDelayMillis: posted.retryDelayMillis,
        reconciled: posted.reconciled
      },
      call.status
    )
    yield* Effect.annotateCurrentSpan({ functionId, callId: call.id })
    return { call, handle, report } satisfies Started
  })

  /** Polls until the call ends or the deadline passes; `first` is the last state known, if any. */
  const waitUntilEnded = Effect.fnUntraced(function*(
    handle: FunctionCall.CallHandle,
    first: Option.Option<FunctionCall.FunctionCall>,
    report: CallReport,
    options: WaitOptions
  ) {
    const startedWaiting = yield* Clock.currentTimeMillis
    const budget = options.deadline === undefined ? yield* defaultDeadline : Duration.decode(options.deadline)
    // a new call's deadline counts from its send; a resumed wait's from when it resumes
    const deadline = Math.ceil((Option.isSome(first) ? handle.startedAt : startedWaiting) + Duration.toMillis(budget))
    const pace = yield* Polling.pacer(options.schedule ?? Polling.defaultSchedule)
    const warned = new Set<string>()
    let state = report
    let call = first
    while (true) {
      if (Option.isSome(call)) {
        const status = call.value.status
        state = withStatus(state, status)
        if (FunctionCall.isTerminal(status)) break
        if (FunctionCall.isUnknownStatus(status) && !warned.has(status)) {
          warned.add(status)
          yield* Effect.logWarning(`call status "${status}" is unknown to this client: polling on until the deadline`)
            .pipe(Effect.annotateLogs({ functionId: handle.functionId, callId: handle.callId }))
        }
      }
      const now = yield* Clock.currentTimeMillis
      if (now >= deadline && Option.isSome(call)) {
        return yield* Effect.fail(
          new PollDeadlineExceeded({
            handle,
            waitedMillis: now - handle.startedAt,
            lastStatus: call.value.status
          })
        )
      }
      if (Option.isSome(call)) {
        // a schedule that ends means waiting ends: the last poll is made at the deadline
        yield* Effect.sleep(Duration.millis(Polling.sleepMillis(yield* pace.next, now, deadline)))
      }
      const polled = yield* getCall(handle.functionId, handle.callId).pipe(Effect.either)
      state = { ...state, polls: state.polls + 1 }
      if (Either.isRight(polled)) {
        call = Option.some(polled.right)
        continue
      }
      const error = polled.left
      // the transport already retried transient failures; keep polling on them until the deadline
      if (error._tag === "RateLimited" || error._tag === "ServerError" || error._tag === "TransportError") {
        const after = error._tag === "RateLimited" ? error.retryAfterMillis ?? 0 : 0
        const left = deadline - (yield* Clock.currentTimeMillis)
        if (after > 0 && left > 0) yield* Effect.sleep(Duration.millis(Math.min(after, left)))
        if (Option.isNone(call)) {
          call = Option.some(
            new FunctionCall.FunctionCall({
              id: handle.callId,
              functionId: handle.functionId,
              startTime: handle.startedAt,
              status: "Running"
            })
          )
        }
        continue
      }
      return yield* Effect.fail(error)
    }
    const ended = yield* Clock.currentTimeMillis
    const final = Option.getOrThrow(call)
    return { call: final, report: { ...state, waitedMillis: ended - startedWaiting } }
  })

  /** A call that ended: the response when it completed, a typed failure otherwise. */
  const outcome = <A, I>(
    call: FunctionCall.FunctionCall,
    handle: FunctionCall.CallHandle,
    report: CallReport,
    schema: Schema.Schema<A, I> | undefined
  ): Effect.Effect<Completed<A>, CallError> => {
    switch (call.status) {
      case "Failed":
        return Effect.fail(
          new CallFailed({
            functionId: handle.functionId,
            callId: handle.callId,
            reason: call.error?.message ?? "the function failed without a message",
            ...(call.error?.trace === undefined ? {} : { trace: call.error.trace })
          })
        )
      case "Timeout":
        return Effect.fail(
          new CallTimedOut({
            functionId: handle.functionId,
            callId: handle.callId,
            reason: call.error?.message ?? "the function ran past the service's call timeout"
          })
        )
      default:
        return getResponse(handle.functionId, handle.callId).pipe(
          Effect.flatMap((body) => {
            if (schema === undefined) {
              // without a schema the response is `unknown` (A defaults to it): it is handed over as it arrived
              return Effect.succeed<Completed<A>>({ call, handle, report, response: body.response as A })
            }
            return Schema.decodeUnknown(schema)(body.response).pipe(
              Effect.mapError((error) => decodeError(`response of call ${handle.callId}`, error, body.response)),
              Effect.map((response) => ({ call, handle, report, response }))
            )
          })
        )
    }
  }

  const awaitWith = <A, I>(
    handle: FunctionCall.CallHandle,
    first: Option.Option<FunctionCall.FunctionCall>,
    report: CallReport,
    options: WaitOptions & { readonly schema?: Schema.Schema<A, I> | undefined }
  ) =>
    waitUntilEnded(handle, first, report, options).pipe(
      Effect.flatMap((ended) => outcome(ended.call, handle, ended.report, options.schema))
    )

  const validData = (data: unknown): Effect.Effect<Readonly<Record<string, unknown>>, InvalidInput> =>
    data === undefined ? Effect.succeed({}) : Either.match(decodeInputData(data), {
      onLeft: () =>
        Effect.fail(new InvalidInput({ subject: "call data", issue: "a function's data is a JSON object" })),
      onRight: Effect.succeed
    })

  const start = Effect.fn("Calls.start")(function*(
    fn: FunctionRef,
    data?: Readonly<Record<string, unknown>> | undefined,
    options: StartOptions = {}
  ) {
    const input = yield* validData(data)
    const functionId = yield* resolveFunctionId(client, fn)
    return yield* startWith(functionId, input, options)
  })

  const callRef = Effect.fn("Calls.call")(function*<A, I>(
    fn: FunctionRef,
    data: Readonly<Record<string, unknown>> | undefined,
    options: CallOptions<A, I>
  ) {
    const started = yield* start(fn, data, options)
    return yield* awaitWith(started.handle, Option.some(started.call), started.report, options)
  })

  const callDef = Effect.fn("Calls.call")(function*<I, IE, O, OE>(
    definition: FunctionDef.FunctionDef<I, IE, O, OE>,
    input: I,
    options: StartOptions & WaitOptions
  ) {
    const encoded = yield* Schema.encode(definition.input)(input).pipe(
      Effect.mapError((error) =>
        new InvalidInput({ subject: `input of ${definition.externalId}`, issue: decodeError("input", error, {}).issue })
      )
    )
    const data = yield* validData(encoded)
    const functionId = yield* resolveFunctionId(client, { externalId: definition.externalId })
    const started = yield* startWith(functionId, data, options)
    return yield* awaitWith(started.handle, Option.some(started.call), started.report, {
      ...options,
      schema: definition.output
    })
  })

  // one implementation behind the two typed signatures of `call`
  const call = ((
    target: FunctionRef | FunctionDef.Any,
    data?: unknown,
    options: CallOptions<unknown, unknown> = {}
  ): Effect.Effect<Completed<unknown>, CallError> =>
    isFunctionDef(target)
      ? callDef(target, data, options)
      : Effect.flatMap(validData(data), (input) => callRef(target, input, options))) as Calls.Service["call"]

  const awaitHandle = Effect.fn("Calls.await")(function*<A, I>(
    handle: FunctionCall.CallHandle,
    options: WaitOptions & { readonly schema?: Schema.Schema<A, I> | undefined } = {}
  ) {
    return yield* awaitWith(handle, Option.none(), emptyReport, options)
  })

  const reconcileLost = Effect.fn("Calls.reconcile")(function*(fn: FunctionRef, lost: ReconcileOptions) {
    const functionId = yield* resolveFunctionId(client, fn)
    const sessionId = lost.sessionId === undefined
      ? Option.none()
      : Option.some(yield* validId(Ids.SessionId, "session id", lost.sessionId))
    const sentAt = yield* validId(Ids.EpochMillis, "sentAt", lost.sentAt)
    return yield* reconcile(client, sessions, {
      functionId,
      sentAt,
      sessionId,
      window: Duration.decode(lost.window ?? DEFAULT_RECONCILE_WINDOW),
      excluded: ownedElsewhere(lost.excludeCallIds),
      error: new CallOutcomeUnknown({
        functionId,
        request: new RequestDescription({ method: "POST", path: `/functions/${functionId}/call` }),
        sentAt,
        reason: "the answer to the call was lost"
      })
    })
  })

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
      client.execute({
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

  const list = (fn: FunctionRef, options: ListOptions = {}): Stream.Stream<FunctionCall.FunctionCall, CallError> =>
    Stream.unwrap(Effect.map(resolveFunctionId(client, fn), (functionId) => {
      const filter = options.filter === undefined ? undefined : stripUndefined(options.filter)
      const pageSize = Math.min(options.pageSize ?? 100, options.limit ?? Number.POSITIVE_INFINITY, 10_000)
      const stream = client.paginate({
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
  ): Stream.Stream<FunctionCall.FunctionCallLogEntry, CallError> =>
    Stream.unwrap(Effect.gen(function*() {
      const seen = yield* Ref.make(0)
      const done = yield* Ref.make(false)
      const pace = yield* Polling.pacer(options.schedule ?? Polling.defaultSchedule)
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

  return Calls.of({
    call,
    start,
    reconcile: reconcileLost,
    await: awaitHandle,
    retrieve,
    retrieveMany,
    list,
    response,
    logs,
    followLogs
  })
})

const validId = <A>(schema: Schema.Schema<A, number>, subject: string, value: number) =>
  Schema.decodeUnknown(schema)(value).pipe(
    Effect.mapError(() => new InvalidInput({ subject, issue: `${value} is not a valid ${subject}` }))
  )

const stripUndefined = (value: object): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [
      k,
      typeof v === "object" && v !== null && !Array.isArray(v) ? stripUndefined(v) : v
    ])
  )

/** The calls service; needs a `CdfClient` and `Sessions`. */
export const layer: Layer.Layer<Calls, never, CdfClient | Sessions> = Layer.effect(Calls, make)

/**
 * The service with its client, auth and sessions from the `COGNITE_*` variables; only the `HttpClient` is
 * left to provide. To use several services, prefer `CogniteFunctions.layerConfig`: one client for all.
 */
export const layerConfig: Layer.Layer<Calls, ConfigError.ConfigError, HttpClient.HttpClient> = layer.pipe(
  Layer.provide(fromEnv)
)
