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
import type { FunctionCall, Ids } from "@effect-cdf/core"
import { CallOutcomeUnknown } from "@effect-cdf/core/Errors"
import { Clock, Duration, Effect, Option } from "effect"
import type { ReadError } from "../ServiceError.js"

/** The ids of the calls a client started (the latest 10,000): reconciliation never adopts one of them. */
export class KnownCalls {
  private readonly ids = new Set<number>()
  /** Remembers a call this client started. */
  add(callId: number): void {
    this.ids.add(callId)
    if (this.ids.size > 10_000) {
      const oldest = this.ids.values().next()
      if (oldest.done !== true) this.ids.delete(oldest.value)
    }
  }
  /** Whether this client started the call. */
  has(callId: number): boolean {
    return this.ids.has(callId)
  }
}

/** Call ids that are not this call's: a set, or a predicate (a store other workflows write). */
export type OwnedElsewhere = ReadonlySet<number> | ((callId: Ids.CallId) => boolean)

/** Whether a call is known not to be the lost one: this client's own, or named by the caller. */
export const excludes = (known: KnownCalls, more: OwnedElsewhere | undefined) => (callId: Ids.CallId): boolean =>
  known.has(callId) || (more === undefined ? false : typeof more === "function" ? more(callId) : more.has(callId))

/** What reconciliation needs to know about the lost send, and how it reads the service. */
export interface Lost {
  readonly functionId: Ids.FunctionId
  /** When the POST was sent (epoch ms). */
  readonly sentAt: number
  /** The session made for this call alone, if any. */
  readonly sessionId: Option.Option<Ids.SessionId>
  /** How far a call's start may be off our clock and still be this one (clock skew), both ways. */
  readonly window: Duration.Duration
  /** Calls known not to be this one. */
  readonly excluded: (callId: Ids.CallId) => boolean
  /** The unknown outcome to refine. */
  readonly lost: CallOutcomeUnknown
  /** One page of the function's calls that started in `[min, max]`. */
  readonly listBetween: (min: number, max: number) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCall>, ReadError>
  /** The status of a session, `None` when it does not exist. */
  readonly sessionStatus: (id: Ids.SessionId) => Effect.Effect<Option.Option<string>, ReadError>
  /** Revokes a session; whether it is now revoked. */
  readonly revoke: (id: Ids.SessionId) => Effect.Effect<boolean, ReadError>
}

/** Looks at the list this many times (it may lag behind the create), 1 s then 2 s apart. */
const LOOKUPS = 3

/** Finds the lost call, or fails with a `CallOutcomeUnknown` that says what was proven. */
export const reconcile = Effect.fnUntraced(function*(lost: Lost) {
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
        request: lost.lost.request,
        sentAt: lost.lost.sentAt,
        reason: `${lost.lost.reason}; ${reason}. The call was not sent again`,
        evidence,
        ...(Option.isSome(lost.sessionId) ? { sessionId: lost.sessionId.value } : {}),
        ...(candidates.length > 0 ? { candidates: candidates.slice(0, 20) } : {})
      })
    )

  const candidatesUntil = (until: number) =>
    lost.listBetween(since, until).pipe(
      Effect.map((page) =>
        page.filter((call) =>
          call.startTime >= since && call.startTime <= until && call.scheduleId === undefined &&
          !lost.excluded(call.id)
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
  const state = yield* lost.sessionStatus(sessionId).pipe(
    Effect.map(Option.getOrElse(() => "not found")),
    Effect.catchAll((error) => Effect.succeed(`unreadable (${error._tag})`))
  )
  const seenAt = yield* Clock.currentTimeMillis
  if (state === "READY") {
    const revoked = yield* Effect.orElseSucceed(lost.revoke(sessionId), () => false)
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
