/**
 * Function calls: the call resource with both shapes of its error, the statuses, logs, the response
 * envelope and the list filter.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { TimeRange } from "./CogniteFunction.js"
import { CallId, EpochMillis, FunctionId, ScheduleId } from "./Ids.js"
import { JsonObject, openLiteral, optional, optionalExact } from "./internal/schema.js"

/** The statuses the API documents today. */
export const KnownCallStatus = Schema.Literal("Running", "Completed", "Failed", "Timeout")
/** The statuses the API documents today. */
export type KnownCallStatus = typeof KnownCallStatus.Type

/**
 * A call's status. A value the API adds later decodes as an `UnknownCallStatus` string: it never fails
 * decoding and is never taken for a terminal status.
 */
export const CallStatus = openLiteral(["Running", "Completed", "Failed", "Timeout"], "UnknownCallStatus")
/** A call's status. */
export type CallStatus = typeof CallStatus.Type

/** The statuses after which a call changes no more. */
export type TerminalCallStatus = "Completed" | "Failed" | "Timeout"

/** Whether a call has ended. Only the three documented terminal statuses count; an unknown one does not. */
export const isTerminal = (status: CallStatus): status is TerminalCallStatus =>
  status === "Completed" || status === "Failed" || status === "Timeout"

/** Whether a status is one the API did not document when this library was written. */
export const isUnknownStatus = (status: CallStatus): boolean => !Schema.is(KnownCallStatus)(status)

/** Why a call failed or timed out, in the one shape this library uses. */
export class CallError extends Schema.Class<CallError>("CallError")({
  message: Schema.String,
  trace: optional(Schema.String)
}) {}

const CallErrorObject = Schema.Struct({
  message: Schema.String,
  trace: optional(Schema.String)
})

/**
 * A call's `error` as it arrives: `{message, trace?}` in the current API and a bare string on some
 * documented revisions. Both decode into a `CallError`; it encodes as the object form.
 */
export const CallErrorFromWire = Schema.transform(
  Schema.Union(Schema.String, CallErrorObject),
  Schema.typeSchema(CallError),
  {
    strict: true,
    decode: (wire) => typeof wire === "string" ? new CallError({ message: wire }) : new CallError(wire),
    encode: (error) =>
      error.trace === undefined ? { message: error.message } : { message: error.message, trace: error.trace }
  }
)

/** A function call as the API returns it. */
export class FunctionCall extends Schema.Class<FunctionCall>("FunctionCall")({
  id: CallId,
  status: CallStatus,
  startTime: EpochMillis,
  functionId: FunctionId,
  endTime: optional(EpochMillis),
  scheduleId: optional(ScheduleId),
  scheduledTime: optional(EpochMillis),
  error: optional(CallErrorFromWire)
}) {}

/** The body of `POST /functions/{id}/call`. The nonce is a credential and is written only to the wire. */
export const CallFunctionRequest = Schema.Struct({
  data: optionalExact(JsonObject),
  nonce: Schema.Redacted(Schema.String)
})

/** One line a call printed to stdout or stderr. */
export class FunctionCallLogEntry extends Schema.Class<FunctionCallLogEntry>("FunctionCallLogEntry")({
  timestamp: optional(EpochMillis),
  message: optional(Schema.String)
}) {}

/** The body of `GET .../calls/{callId}/logs`. */
export const FunctionCallLogs = Schema.Struct({ items: Schema.Array(FunctionCallLogEntry) })

/**
 * The body of `GET .../calls/{callId}/response`: `response` is absent when the function returned nothing.
 * The spec requires `callId` and `functionId`, but its own example omits them, and the official SDKs read
 * only `response`: they are optional here.
 */
export class FunctionCallResponse extends Schema.Class<FunctionCallResponse>("FunctionCallResponse")({
  callId: optional(CallId),
  functionId: optional(FunctionId),
  response: Schema.optionalWith(Schema.Unknown, { exact: true })
}) {}

/** The filter of `POST /functions/{id}/calls/list`. */
export class FunctionCallFilter extends Schema.Class<FunctionCallFilter>("FunctionCallFilter")({
  scheduleId: optionalExact(ScheduleId),
  status: optionalExact(KnownCallStatus),
  startTime: optionalExact(TimeRange),
  endTime: optionalExact(TimeRange)
}) {}

/** The body of `POST /functions/{id}/calls/list`: pass `nextCursor` back as `cursor`. */
export const FunctionCallListRequest = Schema.Struct({
  filter: optionalExact(FunctionCallFilter),
  limit: optionalExact(Schema.Int.pipe(Schema.positive())),
  cursor: optionalExact(Schema.String)
})

/**
 * Everything needed to resume waiting on a call: serialisable, so it can be stored and handed to
 * `Calls.await` later, in this process or another.
 */
export class CallHandle extends Schema.Class<CallHandle>("CallHandle")({
  functionId: FunctionId,
  callId: CallId,
  startedAt: EpochMillis
}) {}
