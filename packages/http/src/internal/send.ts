import { ErrorEnvelope } from "@effect-cdf/core"
import {
  type ApiError,
  apiError,
  AuthenticationFailed,
  CallOutcomeUnknown,
  redactSample,
  TransportError
} from "@effect-cdf/core/Errors"
import { HttpClient, HttpClientRequest, HttpTraceContext } from "@effect/platform"
import type { Headers, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Cause, type Clock, Duration, Effect, Exit, FiberRef, Option, Random, Redacted, Schedule, Schema } from "effect"
import type * as Auth from "../Auth.js"
import type * as CdfConfig from "../CdfConfig.js"
import type * as CdfRequest from "../CdfRequest.js"
import * as Retry from "../Retry.js"
import { isTimedOut, leanOf } from "./lean.js"
import type { Prepared } from "./request.js"
import { liveClock, timeoutFail } from "./timeout.js"
import { classify, type Failure, scrub, utf8 } from "./transport.js"

/** A complete answer: status, headers and the body as text (JSON requests) or bytes (raw requests). */
export interface Received {
  readonly status: number
  readonly headers: Headers.Headers
  readonly text: string | undefined
  readonly bytes: Uint8Array | undefined
}

/** The errors `send` ends with. */
export type SendError = ApiError | TransportError | CallOutcomeUnknown | AuthenticationFailed

/** What a client shares between its requests. */
export interface Shared {
  readonly config: CdfConfig.CdfConfig
  readonly auth: Auth.Auth.Service
  readonly http: HttpClient.HttpClient
  readonly budget: Retry.RetryBudget
}

const RETRY_STATUSES = new Set([502, 503, 504])
const encoder = new TextEncoder()

/** The body of an answer as text. */
export const textOf = (received: Received): string => received.text ?? utf8(received.bytes ?? new Uint8Array())

/** The body of an answer as bytes. */
export const bytesOf = (received: Received): Uint8Array => received.bytes ?? encoder.encode(received.text ?? "")

/** An attempt that did not succeed, with what the retry schedule needs to decide and the error it ends as. */
class Failed {
  constructor(
    readonly retryable: boolean,
    readonly cost: number,
    readonly hintMillis: number | undefined,
    /** What the attempt ended with, for logs and spans: `HTTP 503`, `Timeout`, ... */
    readonly label: string,
    /** The status of the answer, when there was one. */
    readonly status: number | undefined,
    readonly error: () => SendError,
    /** A 401 to a request that carried `token`. */
    readonly rejected: Redacted.Redacted<string> | undefined = undefined
  ) {}
}

/** What one request has done so far: its span and `Metadata` report it. */
interface Progress {
  attempts: number
  retryDelayMillis: number
  lastRetryCost: number
  refreshed: Redacted.Redacted<string> | undefined
  authRetried: boolean
}

const decodeEnvelope = Schema.decodeUnknownOption(Schema.parseJson(ErrorEnvelope.ErrorEnvelope))

const apiFailure = (shared: Shared, prepared: Prepared, received: Received, now: number): ApiError => {
  const text = textOf(received)
  const envelope = decodeEnvelope(text)
  const requestId = received.headers["x-request-id"]
  const retryAfterMillis = Retry.parseRetryAfter(received.headers, now)
  const secrets = prepared.secrets()
  return apiError({
    status: received.status,
    // A server may echo what it was sent: cut the request's own secrets out of what it says.
    message: scrub(
      Option.match(envelope, {
        onNone: () => text.trim().length > 0 ? redactSample(text.trim(), 300) : "",
        onSome: (body) => redactSample(body.message, 1000)
      }),
      secrets
    ),
    ...Option.match(envelope, {
      onNone: () => ({}),
      onSome: (body) => ({
        ...(body.code === undefined ? {} : { code: body.code }),
        missing: body.missing,
        duplicated: body.duplicated
      })
    }),
    request: prepared.description,
    // core's one scrubbing path: the request id, missing and duplicated lose the request's secrets too
    secrets,
    ...(requestId === undefined ? {} : { requestId }),
    ...(retryAfterMillis === undefined
      ? {}
      : { retryAfterMillis: Retry.clampHint(retryAfterMillis, shared.config.retry.maxRetryAfterMillis) })
  })
}

/** The verdict on an answer: a 2xx is a success; anything else fails with what decides its retry. */
const judgeResponse = (
  shared: Shared,
  prepared: Prepared,
  safety: Retry.Safety,
  received: Received,
  token: Redacted.Redacted<string> | undefined,
  sentAt: number,
  now: number
): Effect.Effect<Received, Failed> => {
  const status = received.status
  if (status >= 200 && status < 300) return Effect.succeed(received)
  const policy = shared.config.retry
  const autoRetryable = received.headers["cdf-is-auto-retryable"]
  const retryable = status === 429 ||
    (safety === "safe" &&
      (RETRY_STATUSES.has(status) || (autoRetryable !== undefined && autoRetryable.trim().toLowerCase() !== "false")))
  const error = () => {
    const failure = apiFailure(shared, prepared, received, now)
    return safety === "unsafe" && status >= 500
      ? new CallOutcomeUnknown({
        request: prepared.description,
        sentAt,
        reason: `HTTP ${status}${
          failure.requestId === undefined ? "" : ` (request id ${failure.requestId})`
        }: ${failure.message}`
      })
      : failure
  }
  return Effect.fail(
    new Failed(
      retryable,
      policy.budget.retryCost,
      Retry.parseRetryAfter(received.headers, now),
      `HTTP ${status}`,
      status,
      error,
      status === 401 ? token : undefined
    )
  )
}

const judgeFailure = (
  shared: Shared,
  prepared: Prepared,
  safety: Retry.Safety,
  { description, kind }: Failure,
  sentAt: number
): Failed => {
  const budget = shared.config.retry.budget
  return new Failed(
    kind === "ConnectFailed" || (safety === "safe" && kind !== "NotSent"),
    kind === "Timeout" ? budget.timeoutRetryCost : budget.retryCost,
    undefined,
    kind,
    undefined,
    () =>
      safety === "unsafe" && kind !== "ConnectFailed" && kind !== "NotSent"
        ? new CallOutcomeUnknown({
          request: prepared.description,
          sentAt,
          reason: scrub(`${kind === "Other" ? "transport error" : kind}: ${description}`, prepared.secrets())
        })
        : new TransportError({
          reason: kind === "NotSent" ? "Other" : kind,
          request: prepared.description,
          description: scrub(description, prepared.secrets())
        })
  )
}

const authFailed = (error: AuthenticationFailed) =>
  new Failed(false, 0, undefined, "AuthenticationFailed", undefined, () => error)

const read = (
  response: HttpClientResponse.HttpClientResponse,
  as: "text" | "bytes"
): Effect.Effect<Received, HttpClientError.ResponseError> =>
  as === "text"
    ? Effect.map(
      response.text,
      (text) => ({ status: response.status, headers: response.headers, text, bytes: undefined })
    )
    : Effect.map(response.arrayBuffer, (buffer) => ({
      status: response.status,
      headers: response.headers,
      text: undefined,
      bytes: new Uint8Array(buffer)
    }))

/**
 * A span for an attempt, made after the fact, only when a request took more than one attempt (or its one
 * attempt failed): the request's own span is the only one a plain success costs.
 */
const attemptSpan = (
  clock: Clock.Clock,
  method: string,
  prepared: Prepared,
  n: number,
  startNanos: bigint,
  label: string | number
) =>
  Effect.withFiberRuntime<void>((fiber) => {
    if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) return Effect.void
    const parent = Option.fromNullable(fiber.currentSpan)
    const span = fiber.currentTracer.span(
      `http.client ${method}`,
      parent,
      fiber.currentContext,
      [],
      startNanos,
      "client"
    )
    span.attribute("http.request.method", method)
    span.attribute("url.template", prepared.template)
    span.attribute("url.path", prepared.description.path)
    span.attribute("cdf.attempt", n)
    span.attribute(typeof label === "number" ? "http.response.status_code" : "cdf.failure", label)
    span.end(clock.unsafeCurrentTimeNanos(), Exit.void)
    return Effect.void
  })

/**
 * Sends a prepared request until it succeeds or its safety class, its attempts, its deadline or the client's
 * retry budget says stop. The token wait and the attempt share one timeout (the attempt timeout, cut to the
 * deadline); a 401 refreshes the token once per request; retries are a `Schedule`.
 */
export const send = (
  shared: Shared,
  prepared: Prepared,
  safety: Retry.Safety,
  deadline: Duration.DurationInput | undefined,
  as: "text" | "bytes"
): Effect.Effect<Received & CdfRequest.Metadata, SendError> =>
  Effect.clockWith((clock) =>
    Effect.withFiberRuntime((fiber) => {
      const { auth, budget, config, http } = shared
      const policy = config.retry
      const startedAt = clock.unsafeCurrentTimeMillis()
      const deadlineAt = startedAt + Retry.toTimerMillis(deadline ?? config.deadline)
      const attemptTimeoutMillis = Duration.toMillis(config.attemptTimeout)
      const progress: Progress = {
        attempts: 0,
        retryDelayMillis: 0,
        lastRetryCost: 0,
        refreshed: undefined,
        authRetried: false
      }
      const method = prepared.request.method
      const span = fiber.currentSpan
      const lean = leanOf(http)
      const base = span !== undefined && span._tag === "Span" && fiber.getFiberRef(HttpClient.currentTracerPropagation)
        ? HttpClientRequest.setHeaders(prepared.request, HttpTraceContext.toHeaders(span))
        : prepared.request

      const attempt: Effect.Effect<Received, Failed> = Effect.suspend(() => {
        const n = ++progress.attempts
        const startNanos = clock.unsafeCurrentTimeNanos()
        const now = clock.unsafeCurrentTimeMillis()
        const timeoutMillis = Math.max(0, Math.min(attemptTimeoutMillis, deadlineAt - now))
        let sentAt: number | undefined
        const timedOut = (at: number) =>
          judgeFailure(shared, prepared, safety, {
            _tag: "Failure",
            kind: "Timeout",
            description: `no complete answer within ${Math.round(timeoutMillis)} ms`
          }, at)
        const exchange = (
          token: Redacted.Redacted<string> | undefined,
          within: number | undefined
        ): Effect.Effect<Received, Failed> => {
          const at = clock.unsafeCurrentTimeMillis()
          sentAt = at
          if (token !== undefined) prepared.sentToken(Redacted.value(token))
          const request = token === undefined ? base : HttpClientRequest.bearerToken(base, token)
          return (lean !== undefined && within !== undefined
            ? lean.executeWithin(request, within)
            : http.execute(request))
            .pipe(
              Effect.flatMap((response) => read(response, as)),
              Effect.matchEffect({
                onFailure: (error) =>
                  Effect.fail(
                    isTimedOut(error) ? timedOut(at) : judgeFailure(shared, prepared, safety, classify(error), at)
                  ),
                onSuccess: (received) =>
                  judgeResponse(shared, prepared, safety, received, token, at, clock.unsafeCurrentTimeMillis())
              })
            )
        }
        const refreshed = progress.refreshed
        progress.refreshed = undefined
        const ready = prepared.anonymous ? undefined : refreshed ?? auth.cached?.(now)
        // A lean client on the live clock keeps the limit with a timer of its own; a token known at once needs no
        // wait. Otherwise the token wait and the exchange share one timeout.
        const bounded = prepared.anonymous || ready !== undefined
          ? (lean !== undefined && clock === liveClock
            ? exchange(ready, timeoutMillis)
            : timeoutFail(exchange(ready, undefined), timeoutMillis, () => timedOut(sentAt ?? now)))
          : timeoutFail(
            Effect.flatMap(Effect.mapError(auth.token, authFailed), (token) => exchange(token, undefined)),
            timeoutMillis,
            () =>
              sentAt === undefined
                ? authFailed(
                  new AuthenticationFailed({
                    description: `no token within ${Math.round(timeoutMillis)} ms (the request's time limit)`
                  })
                )
                : timedOut(sentAt)
          )
        const label = (exit: Exit.Exit<Received, Failed>) =>
          Exit.isSuccess(exit)
            ? exit.value.status
            : Option.match(Cause.failureOption(exit.cause), {
              onNone: () => "Interrupted",
              onSome: (failed) => failed.status ?? failed.label
            })
        // A first attempt that succeeds needs no span of its own; a failed one, or any later one, gets one.
        return n === 1
          ? Effect.tapError(bounded, (failed) =>
            attemptSpan(clock, method, prepared, n, startNanos, failed.status ?? failed.label))
          : Effect.onExit(bounded, (exit) =>
            attemptSpan(clock, method, prepared, n, startNanos, label(exit)))
      })

      // A 401 refreshes the token once per request and tries again at once, outside the retry budget.
      const authorized: Effect.Effect<Received, Failed> = Effect.catchIf(
        attempt,
        (failed) => failed.rejected !== undefined && !progress.authRetried,
        (failed) => {
          progress.authRetried = true
          const rejected = failed.rejected
          if (rejected === undefined) return Effect.fail(failed)
          const left = Math.max(0, Math.min(attemptTimeoutMillis, deadlineAt - clock.unsafeCurrentTimeMillis()))
          return auth.refresh(rejected).pipe(
            Effect.timeoutFail({
              duration: Duration.millis(left),
              onTimeout: () =>
                new AuthenticationFailed({
                  description: `no token within ${Math.round(left)} ms (the request's time limit)`
                })
            }),
            Effect.mapError(authFailed),
            Effect.flatMap((fresh) => {
              if (Redacted.value(fresh) === Redacted.value(rejected)) return Effect.fail(failed)
              progress.refreshed = fresh
              return attempt
            })
          )
        }
      )

      // Built only when an attempt failed: a plain success never allocates it.
      const retries = () =>
        Schedule.identity<Failed>().pipe(
          Schedule.whileInput((failed) => failed.retryable && progress.attempts < policy.maxAttempts),
          Schedule.mapEffect((failed) =>
            Effect.map(Random.next, (random) => ({
              failed,
              delay: Retry.delayMillis(policy, progress.attempts, random, failed.hintMillis)
            }))
          ),
          Schedule.checkEffect((_, { delay, failed }) =>
            clock.unsafeCurrentTimeMillis() + delay >= deadlineAt ? Effect.succeed(false) : budget.acquire(failed.cost)
          ),
          Schedule.tapOutput(({ delay, failed }) => {
            progress.retryDelayMillis += delay
            progress.lastRetryCost = failed.cost
            return Effect.logDebug("CDF request will be retried").pipe(
              Effect.annotateLogs({
                operation: prepared.template,
                attempt: progress.attempts,
                outcome: failed.label,
                delayMillis: delay
              })
            )
          }),
          Schedule.addDelay(({ delay }) => Duration.millis(delay))
        )

      const annotate = (attributes: Record<string, unknown>) => {
        if (span === undefined || span._tag !== "Span") return
        for (const key in attributes) span.attribute(key, attributes[key])
      }

      // The failure that starts the retries is replayed into the schedule, so the schedule decides about it too.
      const retried = Effect.catchAll(authorized, (first) => {
        let replay: Failed | undefined = first
        return Effect.retry(
          Effect.suspend(() => {
            if (replay === undefined) return authorized
            const failed = replay
            replay = undefined
            return Effect.fail(failed)
          }),
          retries()
        )
      })

      return Effect.matchEffect(retried, {
        onFailure: (failed) => {
          annotate({ "cdf.attempts": progress.attempts, "cdf.failure": failed.label })
          return Effect.fail(failed.error())
        },
        onSuccess: (received) => {
          annotate(
            progress.attempts === 1
              ? { "cdf.attempts": 1, "http.response.status_code": received.status }
              : {
                "cdf.attempts": progress.attempts,
                "http.response.status_code": received.status,
                "cdf.retry_delay_ms": progress.retryDelayMillis
              }
          )
          return Effect.as(
            budget.release(progress.lastRetryCost > 0 ? progress.lastRetryCost : policy.budget.successRefund),
            { ...received, attempts: progress.attempts, retryDelayMillis: progress.retryDelayMillis }
          )
        }
      })
    })
  )
