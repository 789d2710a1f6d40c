/**
 * What an interrupted call leaves behind: the identity of a call that was started, so it can be resumed
 * (`Calls.await(handle)`) or reconciled (`Calls.reconcile(fn, { sentAt, sessionId })`). A finalizer logs
 * it at Warning level; nothing else is sent.
 */
import type { FunctionCall, Ids } from "@effect-cdf/core"
import { Effect, Option } from "effect"

/** Interrupted while waiting: the call exists and its handle resumes the wait. */
export const logInterruptedWait = (handle: FunctionCall.CallHandle) =>
  Effect.logWarning(
    `interrupted while waiting for call ${handle.callId} of function ${handle.functionId}: it may still be ` +
      `running; resume with Calls.await(${JSON.stringify(handle)})`
  ).pipe(
    Effect.annotateLogs({
      functionId: handle.functionId,
      callId: handle.callId,
      startedAt: handle.startedAt
    })
  )

/** Interrupted while `POST .../call` was in flight: the call may or may not exist. */
export const logInterruptedSend = (
  functionId: Ids.FunctionId,
  sentAt: number,
  sessionId: Option.Option<Ids.SessionId>
) =>
  Effect.logWarning(
    `interrupted while POST /functions/${functionId}/call was in flight: the call may have been created; find ` +
      `it with Calls.reconcile(${functionId}, ${
        JSON.stringify({ sentAt, ...(Option.isSome(sessionId) ? { sessionId: sessionId.value } : {}) })
      })`
  ).pipe(
    Effect.annotateLogs({
      functionId,
      sentAt,
      ...(Option.isSome(sessionId) ? { sessionId: sessionId.value } : {})
    })
  )
