/**
 * Reconciling a call whose `POST .../call` answer was lost. A call object carries no session, no data and
 * no caller, and `calls/list` filters only by schedule, status and times: nothing on a listed call says
 * whose it is. The one positive evidence a client has is the session it created for this call alone:
 * CDF binds a nonce once, when a call is created with it, and the session's status shows whether that
 * happened (`READY`: never used; `ACTIVE`: used). So:
 *
 * - no session of our own (the nonce was given): nothing is adopted, the outcome is unknown;
 * - session `READY`: the call was not created; the session is revoked so the lost request, if it is still
 *   on its way, can never create it (`NotCreated`: calling again is safe);
 * - session `ACTIVE`: the call exists; it is adopted only when exactly one call of the function, not
 *   scheduled and not known to be someone else's, started between the send and the moment the session
 *   was seen bound (each widened by the skew window); several leave the outcome unknown (`Created`).
 */
import { FunctionCall, type Ids, Items } from "@effect-cdf/core"
import { CallOutcomeUnknown } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import { Clock, Duration, Effect, Option } from "effect"
import type { Sessions } from "../Sessions.js"

/** Call ids that are not this call's: a set, or a predicate (a store other workflows write). */
export type OwnedElsewhere = ReadonlySet<number> | ((callId: Ids.CallId) => boolean)

/** What reconciliation needs to know about the lost send. */
export interface Lost {
  readonly functionId: Ids.FunctionId
  /** When the POST was sent (epoch ms). */
  readonly sentAt: number
  /** The session made for this call alone, if any. */
  readonly sessionId: Option.Option<Ids.SessionId>
  /** How far before `sentAt` a call may have started and still be this one (clock skew). */
  readonly window: Duration.Duration
  /** Calls known not to be this one. */
  readonly excluded: OwnedElsewhere
  /** The unknown outcome to refine. */
  readonly error: CallOutcomeUnknown
}

/** Looks at the list this many times (it may lag behind the create), a second apart, then more. */
const LOOKUPS = 3
const CallPage = Items.ItemsWithCursor(FunctionCall.FunctionCall)

const isExcluded = (excluded: OwnedElsewhere, id: Ids.CallId) =>
  typeof excluded === "function" ? excluded(id) : excluded.has(id)

/** Finds the lost call, or fails with a `CallOutcomeUnknown` that says what was proven. */
export const reconcile = Effect.fnUntraced(function*(
  client: CdfClient.Service,
  sessions: Sessions.Service,
  lost: Lost
) {
  const skew = Duration.toMillis(lost.window)
  const since = Math.max(0, lost.sentAt - skew)
  const fail = (
    evidence: "NotCreated" | "Created" | "None",
    reason: string,
    candidates: ReadonlyArray<Ids.CallId> = []
  ) =>
    Effect.fail(
      new CallOutcomeUnknown({
        functionId: lost.functionId,
        request: lost.error.request,
        sentAt: lost.error.sentAt,
        reason: `${lost.error.reason}; ${reason}. The call was not sent again`,
        evidence,
        ...(Option.isSome(lost.sessionId) ? { sessionId: lost.sessionId.value } : {}),
        ...(candidates.length > 0 ? { candidates: candidates.slice(0, 20) } : {})
      })
    )

  const candidatesUntil = (until: number) =>
    client.execute({
      operation: "cdf.Calls.list",
      method: "POST",
      path: path`/functions/${lost.functionId}/calls/list`,
      safety: "safe",
      body: { filter: { startTime: { min: since, max: until } }, limit: 100 },
      schema: CallPage
    }).pipe(
      Effect.map((page) =>
        page.items.filter((call) =>
          call.startTime >= since && call.startTime <= until && call.scheduleId === undefined &&
          !isExcluded(lost.excluded, call.id)
        )
      )
    )

  if (Option.isNone(lost.sessionId)) {
    const seen = (yield* Effect.orElseSucceed(candidatesUntil((yield* Clock.currentTimeMillis) + skew), () => []))
      .map((call) => call.id)
    return yield* fail(
      "None",
      "its nonce was given, so no session shows whether it was used, and a listed call carries nothing that " +
        `says whose it is${seen.length > 0 ? ` (${seen.length} calls started since the send)` : ""}`,
      seen
    )
  }
  const sessionId = lost.sessionId.value
  const status = yield* sessions.retrieve([sessionId]).pipe(
    Effect.map((items) => Option.fromNullable(items.find((s) => s.id === sessionId)?.status)),
    Effect.catchAll((error) => Effect.succeed(Option.some(`unreadable (${error._tag})`)))
  )
  const seenAt = yield* Clock.currentTimeMillis
  const state = Option.getOrElse(status, () => "not found")
  if (state === "READY") {
    const revoked = yield* sessions.revoke([sessionId]).pipe(
      Effect.map((items) => items.some((s) => s.id === sessionId && s.status === "REVOKED")),
      Effect.orElseSucceed(() => false)
    )
    return revoked
      ? yield* fail(
        "NotCreated",
        `the call's own session ${sessionId} was never used, so the call was not created; the session is now ` +
          "revoked, so the lost request cannot create it later: calling again is safe"
      )
      : yield* fail(
        "None",
        `the call's own session ${sessionId} was not used yet, but it could not be revoked, so the lost request ` +
          "may still create the call"
      )
  }
  if (state !== "ACTIVE") {
    return yield* fail("None", `the call's own session ${sessionId} is ${state}, which proves nothing`)
  }
  // the session is bound, so our call exists and started before the session was seen bound
  for (let lookup = 1; lookup <= LOOKUPS; lookup++) {
    // the server's clock may run ahead of ours by the same skew
    const found = yield* candidatesUntil(seenAt + skew).pipe(Effect.either)
    if (found._tag === "Left") {
      return yield* fail("Created", `its session was used but listing the calls failed (${found.left._tag})`)
    }
    const ids = found.right.map((call) => call.id)
    if (found.right.length === 1) {
      yield* Effect.logInfo("adopted the call found after the answer to POST .../call was lost").pipe(
        Effect.annotateLogs({ functionId: lost.functionId, callId: ids[0], sessionId })
      )
      return found.right[0]
    }
    if (ids.length > 1) {
      return yield* fail(
        "Created",
        `its session was used, so the call exists, but ${ids.length} calls started in the window ` +
          `(ids ${ids.slice(0, 5).join(", ")}) and nothing on a call tells whose it is`,
        ids
      )
    }
    if (lookup < LOOKUPS) yield* Effect.sleep(Duration.seconds(lookup))
  }
  return yield* fail("Created", "its session was used, so the call exists, but no listed call matches it yet")
})
