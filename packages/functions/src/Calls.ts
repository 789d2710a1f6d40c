/**
 * Calling functions and waiting for them.
 *
 * `call` gets a nonce, sends `POST /functions/{id}/call` once (it is never re-sent: when its answer is lost
 * after the body may have left, the call is reconciled by listing the function's recent calls), then polls
 * `GET /functions/{id}/calls/{callId}` on a schedule that starts fast and backs off, until the call ends or
 * a deadline passes; calls of one function waiting at the same time on the default schedule are polled
 * together by the client's shared poller, one `POST /functions/{id}/calls/byids` per tick. Interrupting it
 * aborts the request in flight and sends nothing more.
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
import type { FunctionCall, Ids } from "@effect-cdf/core"
import type { CallFailed, CallTimedOut, PollDeadlineExceeded } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import type { HttpClient } from "@effect/platform"
import type { ConfigError, Duration, Effect, Option, Schedule, Schema, Stream } from "effect"
import { Context, Layer } from "effect"
import type * as FunctionDef from "./FunctionDef.js"
import type { FunctionRef } from "./FunctionRef.js"
import * as internal from "./internal/calls.js"
import { fromEnv } from "./internal/env.js"
import type { OwnedElsewhere } from "./internal/reconcile.js"
import type { ReadError, WriteError } from "./ServiceError.js"
import type { NonceOptions, Sessions } from "./Sessions.js"

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
  /** The session made for this call alone, when the nonce was not given: what reconciliation reads. */
  readonly sessionId?: Ids.SessionId | undefined
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
   * (`timeoutMinutes` from `GET /functions/limits`, read once per `CdfClient`) plus one minute of grace.
   */
  readonly deadline?: Duration.DurationInput | undefined
  /**
   * The poll schedule; by default `Polling.PollSchedule` (unless replaced, 250 ms, x1.5, capped at 5 s,
   * jittered); for `call`, shared with the other calls of the function waiting then. A schedule given here
   * polls this call on its own.
   */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/** How to start a call: where its nonce comes from (see `Sessions.NonceOptions`), and reconciliation. */
export interface StartOptions extends NonceOptions {
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
  /**
   * Runs once the call is known to exist, before `call` waits, and cannot be interrupted: the place to
   * keep the handle (print it, store it) so an interrupted wait can be resumed with `Calls.await`.
   */
  readonly onStarted?: ((started: Started) => Effect.Effect<void>) | undefined
  /**
   * Runs before each `POST .../call` is sent (again after a 429), and cannot be interrupted: the place
   * for a durable caller to record what `Calls.reconcile` needs should the process die mid-send.
   */
  readonly onSending?: ((sending: Sending) => Effect.Effect<void>) | undefined
}

/** What is known of a call about to be sent: enough for `Calls.reconcile` to find it later. */
export interface Sending {
  readonly functionId: Ids.FunctionId
  /** When it is sent (epoch ms): `ReconcileOptions.sentAt`. */
  readonly sentAt: number
  /** The session made for this call alone, when the nonce was not given: `ReconcileOptions.sessionId`. */
  readonly sessionId?: Ids.SessionId | undefined
}

/** What `Calls.reconcile` needs to know about a send whose answer was lost. */
export interface ReconcileOptions {
  /** When the POST was sent (epoch ms). */
  readonly sentAt: number
  /** The session created for that call alone; without it nothing can be proven and nothing is adopted. */
  readonly sessionId?: number | undefined
  /** Clock skew allowed around the send; default 30 s. */
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

/** Every error waiting for a started call can end with: a read's, or the call's own outcome. */
export type WaitError = ReadError | CallFailed | CallTimedOut | PollDeadlineExceeded

/** Every error calling a function can end with: starting it (a write) and waiting for it. */
export type CallError = WriteError | WaitError

/** Call ids that are someone else's: a `Set`, or a predicate over a shared store. */
export type { OwnedElsewhere }

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
        input: NoInfer<I>,
        options?: StartOptions & WaitOptions
      ): Effect.Effect<Completed<O>, CallError>
      <A, I>(
        fn: FunctionRef,
        data: Readonly<Record<string, unknown>> | undefined,
        options: CallOptions<A, I> & { readonly schema: Schema.Schema<A, I> }
      ): Effect.Effect<Completed<A>, CallError>
      (
        fn: FunctionRef,
        data?: Readonly<Record<string, unknown>> | undefined,
        options?: StartOptions & WaitOptions & { readonly schema?: undefined }
      ): Effect.Effect<Completed<unknown>, CallError>
    }
    /** Starts a call and does not wait: the handle resumes waiting later with `await`. */
    readonly start: (
      fn: FunctionRef,
      data?: Readonly<Record<string, unknown>> | undefined,
      options?: StartOptions
    ) => Effect.Effect<Started, WriteError>
    /**
     * Finds the call a lost `POST .../call` may have created, on positive evidence only (the status of the
     * session made for that call alone; see `docs/reliability.md`): the call, or `CallOutcomeUnknown`
     * saying what was proven (`evidence`). `call` and `start` do this themselves; this is for a caller
     * that recorded `sentAt` and the session id before sending (a durable workflow).
     */
    readonly reconcile: (
      fn: FunctionRef,
      lost: ReconcileOptions
    ) => Effect.Effect<FunctionCall.FunctionCall, WriteError>
    /** Waits for a started call, from its handle (which may come from another process). */
    readonly await: {
      <A, I>(
        handle: FunctionCall.CallHandle,
        options: WaitOptions & { readonly schema: Schema.Schema<A, I> }
      ): Effect.Effect<Completed<A>, WaitError>
      (
        handle: FunctionCall.CallHandle,
        options?: WaitOptions & { readonly schema?: undefined }
      ): Effect.Effect<Completed<unknown>, WaitError>
    }
    /** One call. */
    readonly retrieve: (fn: FunctionRef, callId: number) => Effect.Effect<FunctionCall.FunctionCall, ReadError>
    /** Many calls of one function (`POST .../calls/byids`, chunks of 10,000). */
    readonly retrieveMany: (
      fn: FunctionRef,
      callIds: ReadonlyArray<number>,
      options?: { readonly ignoreUnknownIds?: boolean | undefined }
    ) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCall>, ReadError>
    /** A function's calls, newest first as the API lists them, every page as a `Stream`. */
    readonly list: (fn: FunctionRef, options?: ListOptions) => Stream.Stream<FunctionCall.FunctionCall, ReadError>
    /** A call's response: `None` when the function returned nothing. */
    readonly response: (fn: FunctionRef, callId: number) => Effect.Effect<Option.Option<unknown>, ReadError>
    /** A call's log lines. */
    readonly logs: (
      fn: FunctionRef,
      callId: number
    ) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCallLogEntry>, ReadError>
    /**
     * The log lines of a call as they are printed: polls the logs on the poll schedule while the call
     * runs, emits each new line once, and ends when the call has ended and its last lines are out.
     */
    readonly followLogs: (
      call: CallRef,
      options?: { readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined }
    ) => Stream.Stream<FunctionCall.FunctionCallLogEntry, ReadError>
  }
}

/**
 * The running-call limits a client paces its calls to (every call of one `CdfClient` shares them): CDF's
 * documented 100 per function and 250 per project by default, and how long a `429` is waited out.
 */
export type PacingOptions = internal.PacingOptions

/** The calls service over a CDF client and a sessions service. */
export const make: Effect.Effect<Calls.Service, never, CdfClient | Sessions> = internal.make()

/** The calls service with its client's pacing set to `pacing` (limits raised for the project, say). */
export const makeWith = (pacing: PacingOptions): Effect.Effect<Calls.Service, never, CdfClient | Sessions> =>
  internal.make(pacing)

/** The calls service; needs a `CdfClient` and `Sessions`. */
export const layer: Layer.Layer<Calls, never, CdfClient | Sessions> = Layer.effect(Calls, make)

/** The calls service with the given pacing. */
export const layerWith = (pacing: PacingOptions): Layer.Layer<Calls, never, CdfClient | Sessions> =>
  Layer.effect(Calls, makeWith(pacing))

/**
 * The service with its client, auth and sessions from the `COGNITE_*` variables; only the `HttpClient` is
 * left to provide. To use several services, prefer `CogniteFunctions.layerConfig`: one client for all.
 */
export const layerConfig: Layer.Layer<Calls, ConfigError.ConfigError, HttpClient.HttpClient> = layer.pipe(
  Layer.provide(fromEnv)
)
