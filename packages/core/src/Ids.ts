/**
 * Identifiers of the Cognite API: internal ids are integers in 1..2^53-1, external ids are strings of
 * 1..255 characters.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** The largest internal id the API hands out: 2^53-1 (`Number.MAX_SAFE_INTEGER`). */
export const MAX_INTERNAL_ID = Number.MAX_SAFE_INTEGER

/** An internal id of any resource: an integer in 1..2^53-1. */
export const InternalId = Schema.Int.pipe(
  Schema.between(1, MAX_INTERNAL_ID, {
    message: () => "an internal id is an integer from 1 to 2^53-1"
  })
).annotations({ identifier: "InternalId" })

/** The id of a function. */
export const FunctionId = InternalId.pipe(Schema.brand("FunctionId"))
/** The id of a function. */
export type FunctionId = typeof FunctionId.Type

/** The id of a function call. */
export const CallId = InternalId.pipe(Schema.brand("CallId"))
/** The id of a function call. */
export type CallId = typeof CallId.Type

/** The id of a function schedule. */
export const ScheduleId = InternalId.pipe(Schema.brand("ScheduleId"))
/** The id of a function schedule. */
export type ScheduleId = typeof ScheduleId.Type

/** The id of a session. */
export const SessionId = InternalId.pipe(Schema.brand("SessionId"))
/** The id of a session. */
export type SessionId = typeof SessionId.Type

/** The id of a file in the Files API (a function's zipped source). */
export const FileId = InternalId.pipe(Schema.brand("FileId"))
/** The id of a file in the Files API. */
export type FileId = typeof FileId.Type

/** An external id: a string of 1..255 characters chosen by the user. */
export const ExternalId = Schema.String.pipe(
  Schema.minLength(1, { message: () => "an external id is at least 1 character" }),
  Schema.maxLength(255, { message: () => "an external id is at most 255 characters" }),
  Schema.brand("ExternalId")
).annotations({ identifier: "ExternalId" })
/** An external id. */
export type ExternalId = typeof ExternalId.Type

/** A point in time as milliseconds since the Unix epoch (a non-negative integer). */
export const EpochMillis = Schema.Int.pipe(Schema.nonNegative()).annotations({ identifier: "EpochMillis" })

/** One resource named by its internal id. */
export const ById = Schema.Struct({ id: InternalId })
/** One resource named by its external id. */
export const ByExternalId = Schema.Struct({ externalId: ExternalId })

/** One resource named by its internal id or its external id. */
export const Identifier = Schema.Union(ById, ByExternalId)
/** One resource named by its internal id or its external id. */
export type Identifier = typeof Identifier.Type
