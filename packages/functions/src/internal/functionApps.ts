/** The body of the `FunctionApps` service: a call, its `Location` polled with `Polling.until`, its envelope read. */
import { FunctionApp, FunctionCall, Ids, Items, Scrub } from "@effect-cdf/core"
import { DecodeError, decodeError, InvalidInput, PollDeadlineExceeded, redactSample } from "@effect-cdf/core/Errors"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import type { RawResponse } from "@effect-cdf/http/CdfRequest"
import { path } from "@effect-cdf/http/CdfRequest"
import { Clock, Duration, Effect, Either, Option, Redacted, Schema } from "effect"
import type { AppCallError, AppCallOptions, AppRequest, AppResult, FunctionApps } from "../FunctionApps.js"
import * as Polling from "../Polling.js"
import { Sessions } from "../Sessions.js"
import { cachedLimits, onlyWrite, read, resolveFunctionId } from "./api.js"
import { encode } from "./encode.js"
import { validCallId } from "./ids.js"
import { decodeResponse, failIfFailed } from "./outcome.js"

/** The `cdf-version` Function Apps need. */
export const CDF_VERSION = "20230101-beta"

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

const callIdFromLocation = (location: string): Option.Option<Ids.CallId> => {
  const match = /\/calls\/(\d+)/.exec(location)
  return match === null ? Option.none() : Either.getRight(decodeCallId(Number(match[1])))
}

type AnySchema = Schema.Schema<unknown, unknown> | undefined

/** The body of a completed call, decoded: the result, then the app's envelope inside it. */
const readResult = Effect.fnUntraced(function*(raw: RawResponse, schema: AnySchema, polls: number) {
  const json = parseJson(raw.body)
  if (Either.isLeft(json)) {
    return yield* new DecodeError({
      subject: "Function App result",
      issue: "the body is not JSON",
      sample: redactSample(json.left)
    })
  }
  const result = decodeResult(json.right)
  if (Either.isLeft(result)) return yield* decodeError("Function App result", result.left, json.right)
  const { callId, functionId, runtimeStatus } = result.right
  yield* failIfFailed({ functionId, callId, status: runtimeStatus, error: result.right.error }, "app")
  const envelope = decodeEnvelope(result.right.response)
  if (Either.isLeft(envelope)) {
    return yield* decodeError("Function App envelope", envelope.left, result.right.response)
  }
  if (envelope.right._tag === "AppError") {
    return { callId, functionId, envelope: envelope.right, polls } satisfies AppResult<unknown>
  }
  const success = envelope.right
  const data = yield* decodeResponse(schema, success.data, `data of Function App call ${callId}`)
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
  } satisfies AppResult<unknown>
})

/** A Function Apps service over a CDF client and a sessions service. */
export const make = Effect.gen(function*() {
  const client = yield* CdfClient
  const sessions = yield* Sessions
  const defaultDeadline = Polling.defaultDeadline(cachedLimits(client))

  /** Polls a `Location` until it answers 200 (202 means still running). */
  const pollLocation = Effect.fnUntraced(function*(
    accepted: RawResponse,
    location: string,
    functionId: Ids.FunctionId,
    sentAt: number,
    options: AppCallOptions<unknown, unknown>
  ) {
    const budget = options.deadline === undefined ? yield* defaultDeadline : Duration.decode(options.deadline)
    const ended = yield* Polling.until({
      poll: client.executeRaw({
        operation: "cdf.FunctionApps.poll",
        method: "GET",
        url: location,
        safety: "safe",
        cdfVersion: CDF_VERSION
      }).pipe(Effect.catchTag("CallOutcomeUnknown", Effect.die)),
      isDone: (raw) => raw.status !== 202,
      deadline: Math.ceil(sentAt + Duration.toMillis(budget)),
      schedule: options.schedule,
      initial: Option.some(accepted)
    })
    if (ended._tag === "Done") return yield* readResult(ended.value, options.schema, ended.polls)
    const callId = callIdFromLocation(location)
    if (Option.isNone(callId)) {
      return yield* new DecodeError({ subject: "Function App Location", issue: "it names no call id", sample: "" })
    }
    return yield* new PollDeadlineExceeded({
      handle: new FunctionCall.CallHandle({ functionId, callId: callId.value, startedAt: sentAt }),
      waitedMillis: (yield* Clock.currentTimeMillis) - sentAt,
      lastStatus: "Running"
    })
  })

  const callTraced = Effect.fn("FunctionApps.call")(function*(
    externalId: string,
    request: AppRequest,
    options: AppCallOptions<unknown, unknown>
  ) {
    const xid = yield* validXid(externalId)
    const data = yield* decodeRequestData(request).pipe(
      Effect.mapError((error) => new InvalidInput({ subject: "Function App request", issue: error.message }))
    )
    const nonce = yield* sessions.nonce(options)
    const body = yield* encodeRequest({ data, nonce })
    // an app is a function with this external id: its id goes in the handle of a wait that times out
    const functionId = options.async === true
      ? Option.some(yield* resolveFunctionId(client, { externalId: xid }))
      : Option.none()
    const sentAt = yield* Clock.currentTimeMillis
    const raw = yield* onlyWrite(client.executeRaw({
      operation: "cdf.FunctionApps.call",
      method: "POST",
      path: path`/function-apps/${xid}/calls`,
      // a call runs the function: never sent twice
      safety: "unsafe",
      cdfVersion: CDF_VERSION,
      body,
      ...(options.async === true ? { headers: { prefer: "respond-async" } } : {})
    }))
    // an app may echo its request (the nonce included) in what it answers: never in an error of ours
    const scrubNonce = (error: AppCallError) => Scrub.error(error, [Redacted.value(nonce)])
    if (raw.status !== 202) return yield* readResult(raw, options.schema, 0).pipe(Effect.mapError(scrubNonce))
    const location = raw.headers["location"]
    if (location === undefined || location.length === 0) {
      return yield* new DecodeError({
        subject: "Function App 202 answer",
        issue: "it has no Location header to poll",
        sample: ""
      })
    }
    const id = Option.isSome(functionId) ? functionId.value : yield* resolveFunctionId(client, { externalId: xid })
    return yield* pollLocation(raw, location, id, sentAt, options).pipe(Effect.mapError(scrubNonce))
  })

  // The overloads of `FunctionApps.Service["call"]`: the schema given types the envelope's data.
  function call<A, I>(
    externalId: string,
    request: AppRequest,
    options: AppCallOptions<A, I> & { readonly schema: Schema.Schema<A, I> }
  ): Effect.Effect<AppResult<A>, AppCallError>
  function call(
    externalId: string,
    request: AppRequest,
    options?: AppCallOptions & { readonly schema?: undefined }
  ): Effect.Effect<AppResult<unknown>, AppCallError>
  function call(
    externalId: string,
    request: AppRequest,
    options: AppCallOptions<unknown, unknown> = {}
  ): Effect.Effect<AppResult<unknown>, AppCallError> {
    return callTraced(externalId, request, options)
  }

  const listCalls = Effect.fn("FunctionApps.listCalls")(function*(externalId: string) {
    const xid = yield* validXid(externalId)
    const page = yield* read(client, {
      operation: "cdf.FunctionApps.listCalls",
      method: "GET",
      path: path`/function-apps/${xid}/calls`,
      cdfVersion: CDF_VERSION,
      schema: Items.Items(FunctionCall.FunctionCall)
    })
    return page.items
  })

  // a call's response and its logs: sub-resources of the call, read the same way
  const callPart = Effect.fnUntraced(function*<A, I>(
    externalId: string,
    callId: number,
    part: "response" | "logs",
    schema: Schema.Schema<A, I, never>
  ) {
    const xid = yield* validXid(externalId)
    const id = yield* validCallId(callId)
    return yield* read(client, {
      operation: `cdf.FunctionApps.${part}`,
      method: "GET",
      // each path literal whole, so its template (the span's route) names the part
      path: part === "response"
        ? path`/function-apps/${xid}/calls/${id}/response`
        : path`/function-apps/${xid}/calls/${id}/logs`,
      cdfVersion: CDF_VERSION,
      schema
    })
  })

  const response = Effect.fn("FunctionApps.response")(function*(externalId: string, callId: number) {
    const body = yield* callPart(externalId, callId, "response", FunctionCall.FunctionCallResponse)
    return "response" in body ? Option.some(body.response) : Option.none()
  })

  const logs = Effect.fn("FunctionApps.logs")(function*(externalId: string, callId: number) {
    return (yield* callPart(externalId, callId, "logs", FunctionCall.FunctionCallLogs)).items
  })

  const service: FunctionApps.Service = { call, listCalls, response, logs }
  return service
})
