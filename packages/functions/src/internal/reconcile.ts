/**
 * Reconciliation of a call whose `POST .../call` answer was lost: the calls of the function that started since
 * just before the send. Exactly one is adopted; none or several leave the outcome unknown. Nothing is re-sent.
 */
import type { FunctionCall, Ids } from "@effect-cdf/core"
import { CallOutcomeUnknown } from "@effect-cdf/core/Errors"
import { Duration, Effect } from "effect"
import type { ReadError } from "../ServiceError.js"

/** Attempts at finding a call whose POST's answer was lost (the list may lag behind the create). */
const RECONCILE_LOOKUPS = 3

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

/** Finds the call a lost POST created, or fails with `CallOutcomeUnknown` saying why it cannot be told. */
export const reconcile = Effect.fnUntraced(function*(options: {
  readonly functionId: Ids.FunctionId
  readonly sentAt: number
  readonly lost: CallOutcomeUnknown
  readonly window: Duration.Duration
  readonly known: KnownCalls
  /** One page of the function's calls started at or after `min`. */
  readonly listSince: (min: number) => Effect.Effect<ReadonlyArray<FunctionCall.FunctionCall>, ReadError>
}) {
  const { functionId, known, lost } = options
  const since = Math.max(0, options.sentAt - Duration.toMillis(options.window))
  const unknown = (reason: string) =>
    new CallOutcomeUnknown({
      functionId,
      request: lost.request,
      sentAt: lost.sentAt,
      reason: `${lost.reason}; ${reason}. The call was not sent again`
    })
  for (let lookup = 1; lookup <= RECONCILE_LOOKUPS; lookup++) {
    const page = yield* options.listSince(since).pipe(
      Effect.mapError((error) => unknown(`listing the function's calls to find it failed (${error._tag})`))
    )
    // calls this client already knows are not the lost one, nor are scheduled calls
    const candidates = page.filter((call) =>
      call.startTime >= since && call.scheduleId === undefined && !known.has(call.id)
    )
    if (candidates.length === 1) {
      yield* Effect.logInfo("adopted the call found after the answer to POST .../call was lost").pipe(
        Effect.annotateLogs({ functionId, callId: candidates[0].id })
      )
      return candidates[0]
    }
    if (candidates.length > 1) {
      return yield* Effect.fail(unknown(
        `${candidates.length} calls started since (ids ${
          candidates.slice(0, 5).map((c) => c.id).join(", ")
        }): which one is this cannot be told`
      ))
    }
    if (lookup < RECONCILE_LOOKUPS) yield* Effect.sleep(Duration.seconds(lookup))
  }
  return yield* Effect.fail(unknown("no call of the function started since: it was most likely not created"))
})
