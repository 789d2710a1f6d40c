/**
 * The typed errors of the SDK. Each has a readable `message` and carries no secret: no token, client
 * secret, nonce or function secret ever reaches a field of an error.
 *
 * @since 0.1.0
 */
import { ParseResult, Schema } from "effect"
import { ItemReference } from "./ErrorEnvelope.js"
import { CallHandle } from "./FunctionCall.js"
import { CallId, EpochMillis, FunctionId, SessionId } from "./Ids.js"
import { isSecretKey, nestsDeeperThan, plausibleRequestId, redactSample, scrubText } from "./internal/redact.js"

export { redactSample }

/** The request an error came from, without query string, headers or body. */
export class RequestDescription extends Schema.Class<RequestDescription>("RequestDescription")({
  method: Schema.String,
  path: Schema.String
}) {}

const apiFields = {
  /** The HTTP status. */
  status: Schema.Int,
  /** The `code` of the error envelope, when there was one. */
  code: Schema.optionalWith(Schema.Int, { exact: true }),
  /** The server's message. */
  message: Schema.String,
  /** The `x-request-id` of the response, to quote to Cognite support. */
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  /** The request that failed. */
  request: Schema.optionalWith(RequestDescription, { exact: true })
}

/** 400 or 422: the request was malformed; `missing` / `duplicated` name the items at fault. */
export class BadRequest extends Schema.TaggedError<BadRequest>("@effect-cdf/BadRequest")("BadRequest", {
  ...apiFields,
  missing: Schema.Array(ItemReference),
  duplicated: Schema.Array(ItemReference)
}) {}

/** 401: the token is missing, expired or not accepted. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("@effect-cdf/Unauthorized")("Unauthorized", {
  ...apiFields
}) {}

/** 403: the credentials lack a capability (for example `functionsAcl:RUN` or `sessionsAcl:CREATE`). */
export class Forbidden extends Schema.TaggedError<Forbidden>("@effect-cdf/Forbidden")("Forbidden", {
  ...apiFields
}) {}

/** 404, or 400 with `missing`: a resource does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>("@effect-cdf/NotFound")("NotFound", {
  ...apiFields,
  missing: Schema.Array(ItemReference)
}) {}

/** 409: the request conflicts with existing state, for example a duplicated external id. */
export class Conflict extends Schema.TaggedError<Conflict>("@effect-cdf/Conflict")("Conflict", {
  ...apiFields,
  duplicated: Schema.Array(ItemReference)
}) {}

/** 429: a rate or concurrency limit was hit; `retryAfterMillis` is the server's hint when it gave one. */
export class RateLimited extends Schema.TaggedError<RateLimited>("@effect-cdf/RateLimited")("RateLimited", {
  ...apiFields,
  retryAfterMillis: Schema.optionalWith(Schema.Number.pipe(Schema.finite(), Schema.nonNegative()), { exact: true })
}) {}

/** 5xx: the service failed. */
export class ServerError extends Schema.TaggedError<ServerError>("@effect-cdf/ServerError")("ServerError", {
  ...apiFields
}) {}

/** Any other status the API answered with (for example 405 or 413). */
export class UnexpectedStatus
  extends Schema.TaggedError<UnexpectedStatus>("@effect-cdf/UnexpectedStatus")("UnexpectedStatus", {
    ...apiFields
  })
{}

/** An error the API answered with. */
export type ApiError =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | Conflict
  | RateLimited
  | ServerError
  | UnexpectedStatus

/** The response to a request never arrived, or arrived broken. */
export class TransportError extends Schema.TaggedError<TransportError>("@effect-cdf/TransportError")("TransportError", {
  /**
   * - `ConnectFailed`: the request provably never left (connection refused, DNS failure);
   * - `Timeout`: an attempt took longer than its timeout;
   * - `ConnectionLost`: the connection failed after the request may have been sent;
   * - `Other`: anything else the transport reported.
   */
  reason: Schema.Literal("ConnectFailed", "Timeout", "ConnectionLost", "Other"),
  request: RequestDescription,
  description: Schema.String
}) {
  override get message(): string {
    return `${this.reason} on ${this.request.method} ${this.request.path}: ${this.description}`
  }
}

/** What arrived does not have the shape the API documents. `sample` is short and redacted. */
export class DecodeError extends Schema.TaggedError<DecodeError>("@effect-cdf/DecodeError")("DecodeError", {
  /** What was being decoded, for example `FunctionCall` or `response body`. */
  subject: Schema.String,
  /** What is wrong with it. */
  issue: Schema.String,
  /** A short, redacted sample of what arrived. */
  sample: Schema.String,
  request: Schema.optionalWith(RequestDescription, { exact: true }),
  requestId: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    return `Could not decode ${this.subject}: ${this.issue}`
  }
}

/** The function ran and failed: its message and trace (the Python traceback). */
export class CallFailed extends Schema.TaggedError<CallFailed>("@effect-cdf/CallFailed")("CallFailed", {
  functionId: FunctionId,
  callId: CallId,
  /** The error message of the function. */
  reason: Schema.String,
  trace: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    return `Call ${this.callId} of function ${this.functionId} failed: ${this.reason}`
  }
}

/** The function ran past the service's call timeout and was stopped by the service. */
export class CallTimedOut extends Schema.TaggedError<CallTimedOut>("@effect-cdf/CallTimedOut")("CallTimedOut", {
  functionId: FunctionId,
  callId: CallId,
  reason: Schema.String
}) {
  override get message(): string {
    return `Call ${this.callId} of function ${this.functionId} timed out on the server: ${this.reason}`
  }
}

/**
 * The client stopped waiting at its deadline; the call may still be running. `handle` resumes waiting
 * with `Calls.await(handle)`.
 */
export class PollDeadlineExceeded
  extends Schema.TaggedError<PollDeadlineExceeded>("@effect-cdf/PollDeadlineExceeded")("PollDeadlineExceeded", {
    handle: CallHandle,
    /** How long the client waited, in milliseconds. */
    waitedMillis: Schema.Number.pipe(Schema.finite(), Schema.nonNegative()),
    /** The last status seen. */
    lastStatus: Schema.String
  })
{
  override get message(): string {
    return `Stopped waiting for call ${this.handle.callId} of function ${this.handle.functionId} after ${
      Math.round(this.waitedMillis / 1000)
    } s (last status ${this.lastStatus}); it may still be running`
  }
}

/**
 * A request that must not be repeated (creating a call, a function, a schedule) may or may not have
 * taken effect: its response was lost after the body may have been sent, and reconciliation could not
 * tell. It was not sent again.
 */
export class CallOutcomeUnknown
  extends Schema.TaggedError<CallOutcomeUnknown>("@effect-cdf/CallOutcomeUnknown")("CallOutcomeUnknown", {
    functionId: Schema.optionalWith(FunctionId, { exact: true }),
    request: RequestDescription,
    /** When the request was sent (epoch ms): look for the call among those started since. */
    sentAt: EpochMillis,
    reason: Schema.String,
    /**
     * What reconciliation could prove: `NotCreated` (the call's own session was never bound and is now
     * revoked, so calling again is safe), `Created` (the session was bound, so the call exists, but which
     * listed call it is cannot be told), `None` (no evidence either way).
     */
    evidence: Schema.optionalWith(Schema.Literal("NotCreated", "Created", "None"), { exact: true }),
    /** The session created for this call alone, when there was one: its status is the evidence. */
    sessionId: Schema.optionalWith(SessionId, { exact: true }),
    /** Calls that started in the window and are not known to be someone else's (at most 20). */
    candidates: Schema.optionalWith(Schema.Array(CallId), { exact: true })
  })
{
  override get message(): string {
    return `The outcome of ${this.request.method} ${this.request.path} is unknown and it was not sent again: ${this.reason}`
  }
}

/** Input was rejected before anything was sent. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>("@effect-cdf/InvalidInput")("InvalidInput", {
  /** What was checked, for example `FunctionWrite` or `cron expression`. */
  subject: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    return `Invalid ${this.subject}: ${this.issue}`
  }
}

/** A token could not be obtained from the identity provider. */
export class AuthenticationFailed
  extends Schema.TaggedError<AuthenticationFailed>("@effect-cdf/AuthenticationFailed")("AuthenticationFailed", {
    status: Schema.optionalWith(Schema.Int, { exact: true }),
    description: Schema.String
  })
{
  override get message(): string {
    return `Could not get a token${this.status === undefined ? "" : ` (HTTP ${this.status})`}: ${this.description}`
  }
}

/** The server handed back a URL on another origin; it was not requested and no credential was sent there. */
export class UntrustedUrl extends Schema.TaggedError<UntrustedUrl>("@effect-cdf/UntrustedUrl")("UntrustedUrl", {
  /** The origin of the URL (scheme, host, port), never its path or query. */
  origin: Schema.String,
  expectedOrigin: Schema.String
}) {
  override get message(): string {
    return `Refused to follow a URL on ${this.origin}: only ${this.expectedOrigin} receives requests`
  }
}

/** A function's deployment ended in `Failed`; `reason` and `trace` come from the build. */
export class DeployFailed extends Schema.TaggedError<DeployFailed>("@effect-cdf/DeployFailed")("DeployFailed", {
  functionId: FunctionId,
  reason: Schema.String,
  trace: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    return `Function ${this.functionId} failed to deploy: ${this.reason}`
  }
}

/**
 * Every error a call of a function can end with (`Calls.call`: sending it and waiting for it), as a
 * schema: durable calls store it and decode it back.
 */
export const CallError = Schema.Union(
  BadRequest,
  Unauthorized,
  Forbidden,
  NotFound,
  Conflict,
  RateLimited,
  ServerError,
  UnexpectedStatus,
  TransportError,
  DecodeError,
  CallFailed,
  CallTimedOut,
  PollDeadlineExceeded,
  CallOutcomeUnknown,
  InvalidInput,
  AuthenticationFailed
)
/** Every error a call of a function can end with. */
export type CallError = typeof CallError.Type

/** Every error of the SDK, as a schema: errors can cross process boundaries and be decoded back. */
export const CdfError = Schema.Union(...CallError.members, UntrustedUrl, DeployFailed)
/** Every error of the SDK. */
export type CdfError = typeof CdfError.Type

/** What an API error response says, before it becomes a typed error. */
export interface ApiErrorInput {
  readonly status: number
  readonly code?: number | undefined
  readonly message: string
  readonly missing?: ReadonlyArray<ItemReference> | undefined
  readonly duplicated?: ReadonlyArray<ItemReference> | undefined
  readonly requestId?: string | undefined
  readonly request?: RequestDescription | undefined
  readonly retryAfterMillis?: number | undefined
  /**
   * The secrets the request carried (its nonce, a client secret): a server may echo them in its message,
   * its `x-request-id` or the items it names, and they are cut out of all three.
   */
  readonly secrets?: ReadonlyArray<string> | undefined
}

const scrubReference = (ref: ItemReference, secrets: ReadonlyArray<string>): ItemReference => {
  if (ref.externalId === undefined) return ref
  const externalId = scrubText(ref.externalId, secrets)
  return externalId === ref.externalId ? ref : new ItemReference({ ...ref, externalId })
}

/**
 * The typed error for an API error response, by meaning, as the official SDKs classify them: 400/422
 * with `missing` and any 404 are `NotFound`, 409 is `Conflict`, and so on.
 */
export const apiError = (input: ApiErrorInput): ApiError => {
  const secrets = input.secrets ?? []
  const requestId = plausibleRequestId(input.requestId, secrets)
  const base = {
    status: input.status,
    message: input.message.length > 0 ? scrubText(input.message, secrets) : `HTTP ${input.status}`,
    ...(input.code === undefined ? {} : { code: input.code }),
    ...(requestId === undefined ? {} : { requestId }),
    ...(input.request === undefined ? {} : { request: input.request })
  }
  const missing = (input.missing ?? []).slice(0, 1_000).map((ref) => scrubReference(ref, secrets))
  const duplicated = (input.duplicated ?? []).slice(0, 1_000).map((ref) => scrubReference(ref, secrets))
  switch (input.status) {
    case 400:
    case 422:
      return missing.length > 0 ? new NotFound({ ...base, missing }) : new BadRequest({ ...base, missing, duplicated })
    case 401:
      return new Unauthorized(base)
    case 403:
      return new Forbidden(base)
    case 404:
      return new NotFound({ ...base, missing })
    case 409:
      return new Conflict({ ...base, duplicated })
    case 429:
      return new RateLimited({
        ...base,
        ...(input.retryAfterMillis === undefined ? {} : { retryAfterMillis: input.retryAfterMillis })
      })
    default:
      return input.status >= 500 ? new ServerError(base) : new UnexpectedStatus(base)
  }
}

/**
 * The issues of a schema failure as one line: paths named, at most five, a value under a key that names
 * a secret never quoted, known secrets cut out. A value nested deeper than the formatter can walk is
 * described, not formatted.
 */
export const formatIssues = (
  error: ParseResult.ParseError,
  actual: unknown,
  secrets: ReadonlyArray<string> = []
): string => {
  if (nestsDeeperThan(actual)) return "the value nests too deeply to be read (over 64 levels)"
  let issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>
  try {
    issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  } catch {
    // a value built to exhaust the stack while it is described
    return "the value could not be described (it nests too deeply)"
  }
  const text = issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join(".")
    const secret = issue.path.some((key) => typeof key === "string" && isSecretKey(key))
    // under a secret-named key the checks' own words are kept, the value they quote is not
    const message = secret
      ? `${
        redactSample(issue.message.replace(/,?\s*actual[\s\S]*$/, ""), 200, secrets)
      } (value not shown: it may be a secret)`
      : redactSample(issue.message, 200, secrets)
    return path.length > 0 ? `${path}: ${message}` : message
  })
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : ""
  return text.join("; ") + more
}

/** An `InvalidInput` from a schema failure on what a user gave; `secrets` are cut out of the issue. */
export const invalidInput = (
  subject: string,
  error: ParseResult.ParseError,
  actual: unknown,
  secrets: ReadonlyArray<string> = []
): InvalidInput => new InvalidInput({ subject, issue: formatIssues(error, actual, secrets) })

/**
 * A `DecodeError` from a schema failure: the issues name their paths, an issue under a key that
 * names a secret never quotes the value, and `secrets` (the request's own) are cut out of everything.
 */
export const decodeError = (
  subject: string,
  error: ParseResult.ParseError,
  actual: unknown,
  context?: {
    readonly request?: RequestDescription | undefined
    readonly requestId?: string | undefined
    readonly secrets?: ReadonlyArray<string> | undefined
  }
): DecodeError => {
  const secrets = context?.secrets ?? []
  const requestId = plausibleRequestId(context?.requestId, secrets)
  return new DecodeError({
    subject,
    issue: formatIssues(error, actual, secrets),
    sample: redactSample(actual, 240, secrets),
    ...(context?.request === undefined ? {} : { request: context.request }),
    ...(requestId === undefined ? {} : { requestId })
  })
}
