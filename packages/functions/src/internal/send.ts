/**
 * Sending one call: a nonce (from a session made for it alone, unless one is given), `POST .../call`
 * sent once, a lost answer reconciled, a `429` waited out and sent again with a fresh nonce.
 */
import { FunctionCall, type Ids } from "@effect-cdf/core"
import { CallOutcomeUnknown, RequestDescription } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import { Clock, type Duration, Effect, Option } from "effect"
import type { StartOptions } from "../Calls.js"
import type { Sessions } from "../Sessions.js"
import { onlyWrite } from "./api.js"
import { encode } from "./encode.js"
import { logInterruptedSend } from "./interrupted.js"
import { throttledSend } from "./pacing.js"
import type { makeReconciler } from "./reconciler.js"

const encodeCallBody = encode(FunctionCall.CallFunctionRequest, "call request")

/** What sending needs from the calls service. */
export interface SendDeps {
  readonly client: CdfClient.Service
  readonly sessions: Sessions.Service
  readonly reconcileWith: ReturnType<typeof makeReconciler>["reconcileWith"]
  readonly throttleTimeout: Duration.Duration
}

/** Sends a call: the call as created (or found), how the send went, when it left and with which session. */
export const sendCall = (
  deps: SendDeps,
  call: {
    readonly functionId: Ids.FunctionId
    readonly data: Readonly<Record<string, unknown>>
    readonly options: StartOptions
  }
) => {
  const { functionId, options } = call
  // one send: a fresh nonce each time, so a send waited out behind a 429 never carries an expired one
  const sendOnce = Effect.gen(function*() {
    const issued = yield* deps.sessions.issue(options)
    const body = yield* encodeCallBody({ data: call.data, nonce: issued.nonce })
    const sentAt = yield* Clock.currentTimeMillis
    // a durable caller records what finds the call before it can exist
    if (options.onSending !== undefined) {
      yield* Effect.uninterruptible(options.onSending({
        functionId,
        sentAt,
        ...(Option.isSome(issued.sessionId) ? { sessionId: issued.sessionId.value } : {})
      }))
    }
    const sent = yield* onlyWrite(deps.client.executeWithMetadata({
      operation: "cdf.Calls.call",
      method: "POST",
      path: path`/functions/${functionId}/call`,
      safety: "unsafe",
      body,
      schema: FunctionCall.FunctionCall
    })).pipe(
      Effect.map((result) => ({ ...result, reconciled: false })),
      // a 2xx whose body cannot be read also created a call whose id we do not know
      Effect.catchTag("DecodeError", (error) =>
        Effect.fail(
          new CallOutcomeUnknown({
            functionId,
            request: error.request ?? new RequestDescription({ method: "POST", path: `/functions/${functionId}/call` }),
            sentAt,
            reason: `the answer could not be read (${error.issue})`
          })
        )),
      Effect.catchTag(
        "CallOutcomeUnknown",
        (lost) =>
          deps.reconcileWith(functionId, sentAt, issued.sessionId, {
            window: options.reconcileWindow,
            excludeCallIds: options.excludeCallIds
          }, lost).pipe(
            Effect.map((value) => ({ value, attempts: 1, retryDelayMillis: 0, reconciled: true }))
          )
      ),
      Effect.onInterrupt(() => logInterruptedSend(functionId, sentAt, issued.sessionId))
    )
    return { ...sent, sentAt, issued }
  })
  return throttledSend(sendOnce, deps.throttleTimeout)
}
