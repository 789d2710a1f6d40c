/** Reconciliation wired to a client: the reads of calls and sessions it needs, and `Calls.reconcile`. */
import { FunctionCall, Ids, Items } from "@effect-cdf/core"
import { CallOutcomeUnknown, InvalidInput, RequestDescription } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import { Duration, Effect, Option, Schema } from "effect"
import type { ReconcileOptions } from "../Calls.js"
import type { FunctionRef } from "../FunctionRef.js"
import type { Sessions } from "../Sessions.js"
import { read, resolveFunctionId } from "./api.js"
import { excludes, type KnownCalls, type OwnedElsewhere, reconcile } from "./reconcile.js"

const CallPage = Items.ItemsWithCursor(FunctionCall.FunctionCall)
const DEFAULT_RECONCILE_WINDOW = Duration.seconds(30)

const validId = <A>(schema: Schema.Schema<A, number>, subject: string, value: number) =>
  Schema.decodeUnknown(schema)(value).pipe(
    Effect.mapError(() => new InvalidInput({ subject, issue: `${value} is not a valid ${subject}` }))
  )

/** How one client reconciles: its calls list, its sessions, the calls it started. */
export const makeReconciler = (client: CdfClient.Service, sessions: Sessions.Service, known: KnownCalls) => {
  const listBetween = (functionId: number) => (min: number, max: number) =>
    read(client, {
      operation: "cdf.Calls.list",
      method: "POST",
      path: path`/functions/${functionId}/calls/list`,
      safety: "safe",
      body: { filter: { startTime: { min, max } }, limit: 100 },
      schema: CallPage
    }).pipe(Effect.map((page) => page.items))

  /** Reconciliation of a lost send. */
  const reconcileWith = (
    functionId: Ids.FunctionId,
    sentAt: number,
    sessionId: Option.Option<Ids.SessionId>,
    options: {
      readonly window?: Duration.DurationInput | undefined
      readonly excludeCallIds?: OwnedElsewhere | undefined
    },
    lost: CallOutcomeUnknown
  ) =>
    reconcile({
      functionId,
      sentAt,
      sessionId,
      window: Duration.decode(options.window ?? DEFAULT_RECONCILE_WINDOW),
      excluded: excludes(known, options.excludeCallIds),
      lost,
      listBetween: listBetween(functionId),
      sessionStatus: (id) =>
        Effect.map(sessions.retrieve([id]), (items) => Option.fromNullable(items.find((s) => s.id === id)?.status)),
      revoke: (id) =>
        Effect.map(sessions.revoke([id]), (items) => items.some((s) => s.id === id && s.status === "REVOKED"))
    })

  /** `Calls.reconcile`: for a caller that recorded the send itself. */
  const reconcileLost = Effect.fn("Calls.reconcile")(function*(fn: FunctionRef, lost: ReconcileOptions) {
    const functionId = yield* resolveFunctionId(client, fn)
    const sessionId = lost.sessionId === undefined
      ? Option.none()
      : Option.some(yield* validId(Ids.SessionId, "session id", lost.sessionId))
    const sentAt = yield* validId(Ids.EpochMillis, "sentAt", lost.sentAt)
    return yield* reconcileWith(
      functionId,
      sentAt,
      sessionId,
      lost,
      new CallOutcomeUnknown({
        functionId,
        request: new RequestDescription({ method: "POST", path: `/functions/${functionId}/call` }),
        sentAt,
        reason: "the answer to the call was lost"
      })
    )
  })

  return { reconcileWith, reconcileLost }
}
