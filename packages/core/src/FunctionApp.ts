/**
 * Function Apps (preview, `cdf-version: 20230101-beta`): the call request, the synchronous result and the
 * envelopes an app's `handle` returns and the platform passes through.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { CallErrorFromWire } from "./FunctionCall.js"
import { CallId, FunctionId } from "./Ids.js"
import { openLiteral, optional, optionalExact } from "./internal/schema.js"

/** An HTTP method an app routes on. */
export const AppMethod = Schema.Literal("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
/** An HTTP method an app routes on. */
export type AppMethod = typeof AppMethod.Type

/** The request envelope an app receives as its call `data`. */
export class FunctionAppRequestData extends Schema.Class<FunctionAppRequestData>("FunctionAppRequestData")({
  path: Schema.String.pipe(Schema.startsWith("/", { message: () => "an app path starts with /" })),
  method: AppMethod,
  body: optionalExact(Schema.Unknown),
  headers: optionalExact(Schema.Record({ key: Schema.String, value: Schema.String }))
}) {}

/** The body of `POST /function-apps/{externalId}/calls`. */
export const FunctionAppCallRequest = Schema.Struct({
  data: FunctionAppRequestData,
  nonce: Schema.Redacted(Schema.String)
})

/** The run status of an app call: `Running` only comes back from asynchronous polling. */
export const AppRuntimeStatus = openLiteral(["Running", "Completed", "Failed", "Timeout"], "UnknownAppRuntimeStatus")
/** The run status of an app call. */
export type AppRuntimeStatus = typeof AppRuntimeStatus.Type

/** What `POST /function-apps/{externalId}/calls` answers: `response` is present only when `Completed`. */
export class FunctionAppCallResult extends Schema.Class<FunctionAppCallResult>("FunctionAppCallResult")({
  callId: CallId,
  functionId: FunctionId,
  runtimeStatus: AppRuntimeStatus,
  response: Schema.optionalWith(Schema.Unknown, { exact: true }),
  error: optional(CallErrorFromWire)
}) {}

const Headers = Schema.Record({ key: Schema.String, value: Schema.String })

const AppSuccessFields = {
  status_code: Schema.Int.pipe(Schema.lessThan(400)),
  data: Schema.optionalWith(Schema.Unknown, { exact: true }),
  headers: optional(Headers)
}

const AppErrorFields = {
  status_code: Schema.Int,
  error_type: Schema.String,
  message: Schema.String,
  details: Schema.optionalWith(Schema.Unknown, { exact: true }),
  headers: optional(Headers)
}

/** An app's success envelope (`status_code < 400`). */
export class AppSuccess extends Schema.TaggedClass<AppSuccess>("AppSuccess")("AppSuccess", AppSuccessFields) {}

/** An app's error envelope: its status code, the error's type, message and details. */
export class AppError extends Schema.TaggedClass<AppError>("AppError")("AppError", AppErrorFields) {}

/**
 * The envelope an app returns, as the platform passes it through: the error form when it carries an
 * `error_type`, else the success form. On the wire neither carries a tag.
 */
export const AppEnvelope = Schema.Union(
  Schema.transform(Schema.Struct(AppErrorFields), Schema.typeSchema(AppError), {
    strict: true,
    decode: (wire) => new AppError(wire),
    encode: ({ _tag, ...wire }) => wire
  }),
  Schema.transform(Schema.Struct(AppSuccessFields), Schema.typeSchema(AppSuccess), {
    strict: true,
    decode: (wire) => new AppSuccess(wire),
    encode: ({ _tag, ...wire }) => wire
  })
)
/** The envelope an app returns. */
export type AppEnvelope = AppSuccess | AppError
