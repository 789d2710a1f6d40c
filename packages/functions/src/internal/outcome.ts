/** How an ended call's status becomes its outcome: the one place `Failed` and `Timeout` become typed errors. */
import type { FunctionCall, Ids } from "@effect-cdf/core"
import { CallFailed, CallTimedOut, type DecodeError, decodeError } from "@effect-cdf/core/Errors"
import { Effect, Option, Schema } from "effect"

/** What the outcome of a call is read from: a call (`status`) or a Function App result (`runtimeStatus`). */
export interface Ended {
  readonly functionId: Ids.FunctionId
  readonly callId: Ids.CallId
  readonly status: string
  readonly error?: FunctionCall.CallError | undefined
}

/** A `Failed` call as `CallFailed`, a `Timeout` as `CallTimedOut`, anything else `None`; `what` names the runner. */
export const failure = (ended: Ended, what: "function" | "app"): Option.Option<CallFailed | CallTimedOut> => {
  const { callId, error, functionId } = ended
  switch (ended.status) {
    case "Failed":
      return Option.some(
        new CallFailed({
          functionId,
          callId,
          reason: error?.message ?? `the ${what} failed without a message`,
          ...(error?.trace === undefined ? {} : { trace: error.trace })
        })
      )
    case "Timeout":
      return Option.some(
        new CallTimedOut({
          functionId,
          callId,
          reason: error?.message ?? `the ${what} ran past the service's call timeout`
        })
      )
    default:
      return Option.none()
  }
}

/** Fails with the failure of an ended call, if it has one. */
export const failIfFailed = (ended: Ended, what: "function" | "app"): Effect.Effect<void, CallFailed | CallTimedOut> =>
  Option.match(failure(ended, what), { onNone: () => Effect.void, onSome: Effect.fail })

/** Decodes a response with the schema given; without one it is `unknown`, handed over as it arrived. */
export const decodeResponse = <A, I>(
  schema: Schema.Schema<A, I> | undefined,
  value: unknown,
  subject: string
): Effect.Effect<A | unknown, DecodeError> =>
  schema === undefined
    ? Effect.succeed(value)
    : Schema.decodeUnknown(schema)(value).pipe(Effect.mapError((error) => decodeError(subject, error, value)))
