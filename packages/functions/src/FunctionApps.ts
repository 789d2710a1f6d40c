/**
 * Function Apps (preview): call a route of a function app and get its envelope back, decoded. Requests
 * carry `cdf-version: 20230101-beta`.
 *
 * Synchronously, `POST /function-apps/{externalId}/calls` answers when the call has ended. Asynchronously
 * (`async: true`, header `Prefer: respond-async`), it answers `202` with a `Location` to poll; that URL is
 * only requested when it is on the configured CDF origin, polled on the same schedule and deadline as
 * `Calls.call`.
 *
 * @example
 * ```ts
 * import { FunctionApps } from "@effect-cdf/functions"
 * import { Effect, Schema } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const apps = yield* FunctionApps.FunctionApps
 *   const result = yield* apps.call("items-app", { method: "GET", path: "/items/123" }, {
 *     schema: Schema.Struct({ id: Schema.String, name: Schema.String })
 *   })
 *   return result.envelope._tag === "AppSuccess" ? result.envelope.data.name : result.envelope.message
 * })
 * ```
 *
 * @since 0.1.0
 */
import { FunctionApp, FunctionCall, Ids, Items, Scrub } from "@effect-cdf/core"
import {
  CallFailed,
  CallTimedOut,
  DecodeError,
  decodeError,
  InvalidInput,
  PollDeadlineExceeded,
  redactSample
} from "@effect-cdf/core/Errors"
import type { CdfClient as CdfClientNs } from "@effect-cdf/http/CdfClient"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import type { RawResponse } from "@effect-cdf/http/CdfRequest"
import { path } from "@effect-cdf/http/CdfRequest"
import type { HttpClient } from "@effect/platform"
import type { Schedule } from "effect"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import type { ConfigError } from "effect"
import { cachedLimits, resolveFunctionId } from "./internal/api.js"
import { encode } from "./internal/encode.js"
import { fromEnv } from "./internal/env.js"
import { validCallId } from "./internal/ids.js"
import * as Polling from "./Polling.js"
import { type NonceSource, Sessions } from "./Sessions.js"

/** The `cdf-version` Function Apps need. */
export const CDF_VERSION = "20230101-beta"

/** What to send to an app: the route and its body. */
export interface AppRequest {
  readonly method: FunctionApp.AppMethod
  /** The route, starting with `/`; a query string is passed to the app as it is. */
  readonly path: string
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** An app's success envelope, with `data` decoded. */
export interface AppSuccess<A> {
  readonly _tag: "AppSuccess"
  readonly status_code: number
  readonly data: A
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** What an app answered: its success envelope with decoded data, or its error envelope. */
export type AppResponse<A> = AppSuccess<A> | FunctionApp.AppError

/** The result of an app call that completed. */
export interface AppResult<A> {
  readonly callId: Ids.CallId
  readonly functionId: Ids.FunctionId
  readonly envelope: AppResponse<A>
  /** Polls of the `Location` URL (0 for a synchronous call). */
  readonly polls: number
}

/** Options of an app call. */
export interface AppCallOptions<A, I> {
  /** Decodes the `data` of a success envelope; without it `data` is `unknown`. */
  readonly schema?: Schema.Schema<A, I> | undefined
  /** Ask for `202` + `Location` and poll it, instead of holding one request open. */
  readonly async?: boolean | undefined
  readonly nonce?: Redacted.Redacted<string> | string | undefined
  readonly nonceSource?: NonceSource | undefined
  /** How long to poll an asynchronous call; default the project's call timeout plus a minute. */
  readonly deadline?: Duration.DurationInput | undefined
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/** Every error an app call can end with. */
export type AppCallError = CdfClientNs.Error | CallFailed | CallTimedOut | PollDeadlineExceeded | DecodeError

/** Calls Function Apps and reads their calls. */
export class FunctionApps extends Context.Tag("@effect-cdf/functions/FunctionApps")<
  FunctionApps,
  FunctionApps.Service
>() {}

/** The types of the `FunctionApps` service. */
export declare namespace FunctionApps {
  /** What the Function Apps service offers. */
  export interface Service {
    /**
     * Calls a route of an app. A call that `Failed` or timed out fails with `CallFailed` / `CallTimedOut`;
     * a completed call gives the app's envelope, success or error, decoded.
     */
    readonly call: <A = unknown, I = unknown>(
      externalId: string,
      request: AppRequest,
      options?: AppCallOptions<A, I>
    ) => Effect.Effect<AppResult<A>, AppCallError>
    /** The calls of an app. */
    readonly listCalls: (externalId: string) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCall>, AppCallError>
    /** The response of one app call: `None` when there is none. */
    readonly response: (externalId: string, callId: number) => Effect.Effect<Option.Option<unknown>, AppCallError>
    /** The log lines of one app call. */
    readonly logs: (
      externalId: string,
      callId: number
    ) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCallLogEntry>, AppCallError>
  }
}

const encodeRequest = encode(FunctionApp.FunctionAppCallRequest, "Function App request")
const decodeRequestData = Schema.decodeUnknown(FunctionApp.FunctionAppRequestData, { onExcessProperty: "error" })
const decodeResult = Schema.decodeUnknownEither(FunctionApp.FunctionAppCallResult)
const decodeEnvelope = Schema.decodeUnknownEither(FunctionApp.AppEnvelope)
const decodeXid = Schema.decodeUnknownEither(Ids.ExternalId)
const decodeCallId = Schema.decodeUnknownEither(Ids.CallId)

const textDecoder = new TextDecoder()

const parseJson = (bytes: Uint8Array): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(textDecoder.decode(bytes)))
  } catch {
    return Either.left(textDecoder.decode(bytes.subarray(0, 300)))
  }
}

const validXid = (externalId: string) =>
  Either.match(decodeXid(externalId), {
    onLeft: () =>
      Effect.fail(new InvalidInput({ subject: "app external id", issue: "an external id is 1..255 characters" })),
    onRight: Effect.succeed
  })

/** A Function Apps service over a CDF client and a sessions service. */
export const make = Effect.gen(function*() {
  const client = yield* CdfClient
  const sessions = yield* Sessions
  const defaultDeadline = Polling.defaultDeadline(yield* cachedLimits(client))

  /** The body of a completed call, decoded: the result, then the app's envelope inside it. */
  const readResult = <A, I>(
    raw: RawResponse,
    schema: Schema.Schema<A, I> | undefined,
    polls: number
  ): Effect.Effect<AppResult<A>, AppCallError> =>
    Effect.gen(function*() {
      const json = parseJson(raw.body)
      if (Either.isLeft(json)) {
        return yield* Effect.fail(
          new DecodeError({
            subject: "Function App result",
            issue: "the body is not JSON",
            sample: redactSample(json.left)
          })
        )
      }
      const result = decodeResult(json.right)
      if (Either.isLeft(result)) return yield* Effect.fail(decodeError("Function App result", result.left, json.right))
      const { callId, functionId, runtimeStatus } = result.right
      if (runtimeStatus === "Failed") {
        return yield* Effect.fail(
          new CallFailed({
            functionId,
            callId,
            reason: result.right.error?.message ?? "the app failed without a message",
            ...(result.right.error?.trace === undefined ? {} : { trace: result.right.error.trace })
          })
        )
      }
      if (runtimeStatus === "Timeout") {
        return yield* Effect.fail(
          new CallTimedOut({
            functionId,
            callId,
            reason: result.right.error?.message ?? "the app ran past the service's call timeout"
          })
        )
      }
      const envelope = decodeEnvelope(result.right.response)
      if (Either.isLeft(envelope)) {
        return yield* Effect.fail(decodeError("Function App envelope", envelope.left, result.right.response))
      }
      if (envelope.right._tag === "AppError") return { callId, functionId, envelope: envelope.right, polls }
      const success = envelope.right
      const data = schema === undefined
        // without a schema `data` is `unknown` (A defaults to it): handed over as it arrived
        ? (success.data as A)
        : yield* Schema.decodeUnknown(schema)(success.data).pipe(
          Effect.mapError((error) => decodeError(`data of Function App call ${callId}`, error, success.data))
        )
      return {
        callId,
        functionId,
        polls,
        envelope: {
          _tag: "AppSuccess" as const,
          status_code: success.status_code,
          data,
          ...(success.headers === undefined ? {} : { headers: success.headers })
        }
      }
    })

  /** Polls a `Location` until it answers 200 (202 means still running). */
  const pollLocation = Effect.fnUntraced(function*<A, I>(
    location: string,
    functionId: Ids.FunctionId,
    sentAt: number,
    options: AppCallOptions<A, I>
  ) {
    const budget = options.deadline === undefined ? yield* defaultDeadline : Duration.decode(options.deadline)
    const deadline = Math.ceil(sentAt + Duration.toMillis(budget))
    const pace = yield* Polling.pacer(options.schedule ?? Polling.defaultSchedule)
    let polls = 0
    while (true) {
      const now = yield* Clock.currentTimeMillis
      yield* Effect.sleep(Duration.millis(Polling.sleepMillis(yield* pace.next, now, deadline)))
      const raw = yield* client.executeRaw({
        operation: "cdf.FunctionApps.poll",
        method: "GET",
        url: location,
        safety: "safe",
        cdfVersion: CDF_VERSION
      })
      polls++
      if (raw.status !== 202) return yield* readResult(raw, options.schema, polls)
      const after = yield* Clock.currentTimeMillis
      if (after >= deadline) {
        const callId = callIdFromLocation(location)
        if (Option.isNone(callId)) {
          return yield* Effect.fail(
            new DecodeError({ subject: "Function App Location", issue: "it names no call id", sample: "" })
          )
        }
        return yield* Effect.fail(
          new PollDeadlineExceeded({
            handle: new FunctionCall.CallHandle({ functionId, callId: callId.value, startedAt: sentAt }),
            waitedMillis: after - sentAt,
            lastStatus: "Running"
          })
        )
      }
    }
  })

  const call = Effect.fn("FunctionApps.call")(function*<A = unknown, I = unknown>(
    externalId: string,
    request: AppRequest,
    options: AppCallOptions<A, I> = {}
  ) {
    const xid = yield* validXid(externalId)
    const data = yield* decodeRequestData(request).pipe(
      Effect.mapError((error) => new InvalidInput({ subject: "Function App request", issue: error.message }))
    )
    const nonce = options.nonce === undefined
      ? yield* sessions.nonce(options.nonceSource)
      : Redacted.isRedacted(options.nonce)
      ? options.nonce
      : Redacted.make(options.nonce)
    const body = yield* encodeRequest({ data, nonce })
    // an app may echo its request (the nonce included) in what it answers: never in an error of ours
    const scrubNonce = (error: AppCallError) => Scrub.error(error, [Redacted.value(nonce)])
    // an app is a function with this external id: its id goes in the handle of a wait that times out
    const functionId = options.async === true
      ? Option.some(yield* resolveFunctionId(client, { externalId: xid }))
      : Option.none()
    const sentAt = yield* Clock.currentTimeMillis
    const raw = yield* client.executeRaw({
      operation: "cdf.FunctionApps.call",
      method: "POST",
      path: path`/function-apps/${xid}/calls`,
      // a call runs the function: never sent twice
      safety: "unsafe",
      cdfVersion: CDF_VERSION,
      body,
      ...(options.async === true ? { headers: { prefer: "respond-async" } } : {})
    })
    if (raw.status === 202) {
      const location = raw.headers["location"]
      if (location === undefined || location.length === 0) {
        return yield* Effect.fail(
          new DecodeError({
            subject: "Function App 202 answer",
            issue: "it has no Location header to poll",
            sample: ""
          })
        )
      }
      const id = Option.isSome(functionId) ? functionId.value : yield* resolveFunctionId(client, { externalId: xid })
      return yield* pollLocation(location, id, sentAt, options).pipe(Effect.mapError(scrubNonce))
    }
    return yield* readResult(raw, options.schema, 0).pipe(Effect.mapError(scrubNonce))
  })

  const listCalls = Effect.fn("FunctionApps.listCalls")(function*(externalId: string) {
    const xid = yield* validXid(externalId)
    const page = yield* client.execute({
      operation: "cdf.FunctionApps.listCalls",
      method: "GET",
      path: path`/function-apps/${xid}/calls`,
      safety: "safe",
      cdfVersion: CDF_VERSION,
      schema: Items.Items(FunctionCall.FunctionCall)
    })
    return page.items
  })

  const response = Effect.fn("FunctionApps.response")(function*(externalId: string, callId: number) {
    const xid = yield* validXid(externalId)
    const id = yield* validCallId(callId)
    const body = yield* client.execute({
      operation: "cdf.FunctionApps.response",
      method: "GET",
      path: path`/function-apps/${xid}/calls/${id}/response`,
      safety: "safe",
      cdfVersion: CDF_VERSION,
      schema: FunctionCall.FunctionCallResponse
    })
    return "response" in body ? Option.some(body.response) : Option.none()
  })

  const logs = Effect.fn("FunctionApps.logs")(function*(externalId: string, callId: number) {
    const xid = yield* validXid(externalId)
    const id = yield* validCallId(callId)
    const body = yield* client.execute({
      operation: "cdf.FunctionApps.logs",
      method: "GET",
      path: path`/function-apps/${xid}/calls/${id}/logs`,
      safety: "safe",
      cdfVersion: CDF_VERSION,
      schema: FunctionCall.FunctionCallLogs
    })
    return body.items
  })

  return FunctionApps.of({ call, listCalls, response, logs })
})

const callIdFromLocation = (location: string): Option.Option<Ids.CallId> => {
  const match = /\/calls\/(\d+)/.exec(location)
  return match === null ? Option.none() : Either.getRight(decodeCallId(Number(match[1])))
}

/** The Function Apps service; needs a `CdfClient` and `Sessions`. */
export const layer: Layer.Layer<FunctionApps, never, CdfClient | Sessions> = Layer.effect(FunctionApps, make)

/**
 * The service with its client, auth and sessions from the `COGNITE_*` variables; only the `HttpClient` is
 * left to provide. To use several services, prefer `CogniteFunctions.layerConfig`: one client for all.
 */
export const layerConfig: Layer.Layer<FunctionApps, ConfigError.ConfigError, HttpClient.HttpClient> = layer.pipe(
  Layer.provide(fromEnv)
)
