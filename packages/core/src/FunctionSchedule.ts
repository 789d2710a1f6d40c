/**
 * Function schedules: the resource, its create shape (5-field cron, exactly one function reference, a
 * nonce only with a function id), the list filter and the input data.
 *
 * @since 0.1.0
 */
import { Cron, Either, Schema } from "effect"
import { Description, FunctionName, TimeRange } from "./CogniteFunction.js"
import { EpochMillis, ExternalId, FunctionId, ScheduleId, SessionId } from "./Ids.js"
import { JsonObject, optional, optionalExact } from "./internal/schema.js"

/**
 * A session id as schedules report it: the spec types it as a string, the service returns a number.
 * Both decode to a `SessionId`; it encodes as a number.
 */
export const SessionIdFromWire = Schema.Union(
  SessionId,
  Schema.compose(
    Schema.NumberFromString,
    SessionId
  )
)

/** Why a cron expression is not one the API accepts, or `undefined` when it is. */
export const cronProblem = (expression: string): string | undefined => {
  if (expression.length > 1024) return "a cron expression is at most 1024 characters"
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== 5) {
    return `"${expression.slice(0, 60)}" is not a 5-field cron expression (minute hour day-of-month month day-of-week)`
  }
  const parsed = Cron.parse(expression)
  return Either.isLeft(parsed)
    ? `"${expression.slice(0, 60)}" is not a valid cron expression: ${parsed.left.message}`
    : undefined
}

const cronSamples = ["*/5 * * * *", "0 0 1 1 *", "36 2 13 5 *", "0 */2 * * 1-5", "15 4 * * 0"]

/** A 5-field Unix cron expression, checked with effect's `Cron`. */
export const CronExpression = Schema.String.pipe(
  Schema.filter((expression) => cronProblem(expression) ?? true, {
    identifier: "CronExpression",
    arbitrary: () => (fc) => fc.constantFrom(...cronSamples)
  })
)

/** A schedule as the API returns it. Its `data` and `nonce` are write-only: read the data back with input_data. */
export class FunctionSchedule extends Schema.Class<FunctionSchedule>("FunctionSchedule")({
  id: ScheduleId,
  name: Schema.String,
  createdTime: EpochMillis,
  cronExpression: Schema.String,
  description: optional(Schema.String),
  when: optional(Schema.String),
  functionId: optional(FunctionId),
  functionExternalId: optional(ExternalId),
  sessionId: optional(SessionIdFromWire)
}) {}

/**
 * What `POST /functions/schedules` takes: exactly one of `functionId` / `functionExternalId`; a nonce
 * binds a session and then requires `functionId`.
 */
export class FunctionScheduleWrite extends Schema.Class<FunctionScheduleWrite>("FunctionScheduleWrite")(
  Schema.Struct({
    name: FunctionName,
    cronExpression: CronExpression,
    functionId: optionalExact(FunctionId),
    functionExternalId: optionalExact(ExternalId),
    description: optionalExact(Description),
    data: optionalExact(JsonObject),
    nonce: optionalExact(Schema.Redacted(Schema.String))
  }).pipe(
    Schema.filter((write) => {
      const byId = write.functionId !== undefined
      const byXid = write.functionExternalId !== undefined
      if (byId === byXid) return "a schedule names exactly one of functionId and functionExternalId"
      if (write.nonce !== undefined && !byId) return "a schedule with a nonce must name its function by functionId"
      return true
    })
  )
) {}

/** The filter of `POST /functions/schedules/list`. */
export class FunctionScheduleFilter extends Schema.Class<FunctionScheduleFilter>("FunctionScheduleFilter")(
  Schema.Struct({
    name: optionalExact(Schema.String),
    functionId: optionalExact(FunctionId),
    functionExternalId: optionalExact(ExternalId),
    createdTime: optionalExact(TimeRange),
    cronExpression: optionalExact(Schema.String)
  }).pipe(
    Schema.filter((filter) =>
      filter.functionId === undefined || filter.functionExternalId === undefined ||
      "a schedule filter names at most one of functionId and functionExternalId"
    )
  )
) {}

/** The body of `POST /functions/schedules/list`. Schedule lists are not paginated. */
export const FunctionScheduleListRequest = Schema.Struct({
  filter: optionalExact(FunctionScheduleFilter),
  limit: optionalExact(Schema.Int.pipe(Schema.positive()))
})

/** The body of `GET /functions/schedules/{id}/input_data`: `data` is absent when none was set. */
export class FunctionScheduleInputData extends Schema.Class<FunctionScheduleInputData>("FunctionScheduleInputData")({
  id: ScheduleId,
  data: optional(JsonObject)
}) {}
