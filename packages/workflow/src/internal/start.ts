/**
 * The body of the start activity. Each `POST .../call` is recorded in the ledger before it leaves
 * (`onSending`: when, and the session made for that call alone); a re-run that finds only that record asks
 * `Calls.reconcile`, whose evidence is the session: `READY` (the call was not created; the session is now
 * revoked) is the one case in which the POST is sent again, `ACTIVE` adopts the one call it can be, and
 * anything else ends as `CallOutcomeUnknown`, never as a second call.
 */
import { FunctionCall, Ids } from "@effect-cdf/core"
import { CallOutcomeUnknown, RequestDescription } from "@effect-cdf/core/Errors"
import { Calls, Sessions } from "@effect-cdf/functions"
import type { FunctionRef } from "@effect-cdf/functions/FunctionRef"
import { Chunk, Clock, Duration, Effect, Option, Schema, Stream } from "effect"
import type { Entry } from "../CallLedger.js"
import { CallLedger } from "../CallLedger.js"

/** How a start is configured. */
export interface StartConfig {
  readonly key: string
  readonly executionId: string
  readonly fn: FunctionRef
  readonly data: Readonly<Record<string, unknown>>
  readonly reconcileWindow: Duration.Duration
}

/** What a start gives back: the call and how it was found. */
export interface StartResult {
  readonly call: FunctionCall.FunctionCall
  readonly handle: FunctionCall.CallHandle
  readonly report: Calls.CallReport
}

/** The text form of a function reference, as the ledger stores it. */
export const refText = (fn: FunctionRef): string =>
  typeof fn === "number"
    ? `id:${fn}`
    : typeof fn === "string"
    ? `externalId:${fn}`
    : fn.id !== undefined
    ? `id:${fn.id}`
    : `externalId:${fn.externalId}`

// the path as it would be sent; a function named by external id shows that name in place of its id
const requestOf = (fn: FunctionRef) => {
  const text = refText(fn)
  const id = text.startsWith("id:") ? text.slice(3) : JSON.stringify(text.slice(11))
  return new RequestDescription({ method: "POST", path: `/functions/${id}/call` })
}

const started = (call: FunctionCall.FunctionCall, sentAt: number, reconciled: boolean): StartResult => ({
  call,
  handle: new FunctionCall.CallHandle({ functionId: call.functionId, callId: call.id, startedAt: sentAt }),
  report: {
    attempts: reconciled ? 0 : 1,
    retryDelayMillis: 0,
    polls: 0,
    statuses: [call.status],
    waitedMillis: 0,
    reconciled
  }
})

/** How many POSTs one logical call may send, each after the one before was proven not to have created it. */
const MAX_SENDS = 3
/** How long a run waits for another run of the same start that is sending (a shard that moved). */
const OTHER_SENDER_LOOKUPS = 10

/** Another run of this start owns the ledger row: this run must not send (a defect, caught below). */
class NotTheSender {
  readonly _tag = "NotTheSender"
}

/** The call ids any logical call owns, sent near `sentAt`: reconciliation never adopts one of them. */
const ownedNear = (sentAt: number, window: Duration.Duration) =>
  Effect.flatMap(CallLedger, (ledger) => ledger.owned(sentAt - 2 * Duration.toMillis(window) - 60_000))

/** Gives up: the row is marked unknown and the error says which durable call it was. */
const giveUp = (
  config: StartConfig,
  error: CallOutcomeUnknown | { readonly sentAt: number; readonly reason: string }
) =>
  Effect.flatMap(CallLedger, (ledger) => ledger.recordUnknown(config.key)).pipe(
    Effect.zipRight(Effect.fail(
      error instanceof CallOutcomeUnknown
        ? new CallOutcomeUnknown({ ...error, reason: `${error.reason} (durable call ${config.key})` })
        : new CallOutcomeUnknown({
          request: requestOf(config.fn),
          sentAt: error.sentAt,
          reason: `${error.reason}. The call was not sent again (durable call ${config.key})`
        })
    ))
  )

/** A call found for a key: recorded as its call, unless another logical call already owns it. */
const adopt = Effect.fnUntraced(function*(config: StartConfig, call: FunctionCall.FunctionCall, sentAt: number) {
  const ledger = yield* CallLedger
  const recorded = yield* Effect.either(ledger.recordCall(config.key, call.functionId, call.id))
  if (recorded._tag === "Left") {
    return yield* giveUp(config, { sentAt, reason: `call ${call.id} found for it is owned by another durable call` })
  }
  yield* Effect.logInfo("durable call adopted the call found by reconciliation").pipe(
    Effect.annotateLogs({ key: config.key, functionId: call.functionId, callId: call.id })
  )
  return started(call, sentAt, true)
})

/** A session's status, `undefined` when it cannot be read (then `Calls.reconcile` decides alone). */
const sessionStatus = (id: number) =>
  Effect.flatMap(
    Schema.decodeUnknown(Ids.SessionId)(id),
    (sessionId) => Effect.flatMap(Sessions.Sessions, (sessions) => sessions.retrieve([sessionId]))
  ).pipe(
    Effect.map((found) => found.find((session) => session.id === id)?.status),
    Effect.orElseSucceed(() => undefined)
  )

/**
 * Before a POST is sent again after `NotCreated`: the session was seen unused and then revoked, but a lost
 * request held by the server could have bound it between those two reads. Any call of the function that
 * started since the send, is not scheduled and that no logical call owns could be that one: then nothing
 * is sent again (the outcome stays unknown) rather than risking a second execution.
 */
const noStrayCall = Effect.fnUntraced(
  function*(config: StartConfig, fn: FunctionRef, error: { readonly sentAt: number }) {
    const calls = yield* Calls.Calls
    const since = Math.max(0, error.sentAt - Duration.toMillis(config.reconcileWindow))
    const owned = yield* ownedNear(error.sentAt, config.reconcileWindow)
    const listed = yield* calls.list(fn, { filter: { startTime: { min: since } }, limit: 1000 }).pipe(
      Stream.filter((call) => call.scheduleId === undefined && !owned.has(call.id)),
      Stream.take(1),
      Stream.runCollect,
      Effect.either
    )
    if (listed._tag === "Left") {
      return yield* giveUp(config, {
        sentAt: error.sentAt,
        reason: `its session was never used, but listing the calls failed (${listed.left._tag})`
      })
    }
    if (Chunk.isNonEmpty(listed.right)) {
      return yield* giveUp(config, {
        sentAt: error.sentAt,
        reason: `its session was seen unused and is revoked, but call ${Chunk.headNonEmpty(listed.right).id} of the ` +
          "function started since and no durable call owns it: it could be this one"
      })
    }
  }
)

/**
 * An intent without its call id (an earlier run died after the POST may have left): `Calls.reconcile` with
 * the recorded send. `NotCreated` clears the row (a new POST may go); anything but a call found gives up.
 */
const reconcileIntent = Effect.fnUntraced(function*(config: StartConfig, entry: Entry) {
  const calls = yield* Calls.Calls
  const ledger = yield* CallLedger
  const fn = Option.getOrElse(entry.functionId, (): FunctionRef => config.fn)
  if (Option.isSome(entry.sessionId)) {
    const status = yield* sessionStatus(entry.sessionId.value)
    if (status === "READY") {
      // reconciliation will revoke it: said first, so that a crash after the revoke is not taken for a used session
      yield* ledger.markRevoking(config.key, entry.sentAt)
    } else if (status === "REVOKED" && entry.revoking) {
      // an earlier run saw it unused and revoked it, then died before it cleared the row
      yield* noStrayCall(config, fn, entry)
      if (yield* ledger.clear(config.key, entry.sentAt)) return Option.none()
    }
  }
  const found = yield* calls.reconcile(fn, {
    sentAt: entry.sentAt,
    ...(Option.isSome(entry.sessionId) ? { sessionId: entry.sessionId.value } : {}),
    window: config.reconcileWindow,
    excludeCallIds: yield* ownedNear(entry.sentAt, config.reconcileWindow)
  }).pipe(Effect.either)
  if (found._tag === "Right") return Option.some(yield* adopt(config, found.right, entry.sentAt))
  const error = found.left
  if (error._tag === "CallOutcomeUnknown") {
    if (error.evidence === "NotCreated") {
      yield* noStrayCall(config, fn, error)
      if (yield* ledger.clear(config.key, entry.sentAt)) return Option.none()
    }
    return yield* giveUp(config, error)
  }
  return yield* giveUp(config, {
    sentAt: entry.sentAt,
    reason: `the start was interrupted after its POST may have left, and reconciling it failed (${error._tag})`
  })
})

/**
 * One POST, recorded before it leaves. `Some`: the call; `None`: its answer was lost and the session proved
 * it was not created (the row is cleared, a new POST may go), or another run of this start is sending.
 */
const sendOnce = Effect.fnUntraced(function*(config: StartConfig, runId: string) {
  const calls = yield* Calls.Calls
  const ledger = yield* CallLedger
  let sentAt = 0
  const posted = yield* calls.start(config.fn, config.data, {
    reconcileWindow: config.reconcileWindow,
    excludeCallIds: yield* ownedNear(yield* Clock.currentTimeMillis, config.reconcileWindow),
    onSending: (sending) =>
      ledger.recordSending({
        key: config.key,
        executionId: config.executionId,
        functionRef: refText(config.fn),
        runId,
        functionId: sending.functionId,
        sentAt: sending.sentAt,
        sessionId: Option.fromNullable(sending.sessionId)
      }).pipe(
        Effect.flatMap((mine) =>
          mine ? Effect.sync(() => void (sentAt = sending.sentAt)) : Effect.die(new NotTheSender())
        )
      )
  }).pipe(
    Effect.either,
    Effect.catchSomeDefect((defect) =>
      defect instanceof NotTheSender ? Option.some(Effect.succeed(undefined)) : Option.none()
    )
  )
  if (posted === undefined) return Option.none()
  if (posted._tag === "Right") {
    const call = posted.right.call
    const recorded = yield* Effect.either(ledger.recordCall(config.key, call.functionId, call.id))
    if (recorded._tag === "Left") {
      return yield* Effect.dieMessage(`call ${call.id} answered to this POST is already owned by another durable call`)
    }
    return Option.some({ call, handle: posted.right.handle, report: posted.right.report } satisfies StartResult)
  }
  const error = posted.left
  if (error._tag === "CallOutcomeUnknown") {
    // `Calls.start` reconciled the lost answer already, excluding the calls the ledger owns
    if (error.evidence === "NotCreated") {
      yield* noStrayCall(config, error.functionId ?? config.fn, error)
      if (yield* ledger.clear(config.key, error.sentAt)) return Option.none()
    }
    return yield* giveUp(config, error)
  }
  // the POST was answered with an error (or never left): no call exists
  if (sentAt > 0) yield* ledger.recordUnknown(config.key)
  return yield* Effect.fail(error)
})

/**
 * Starts the logical call once: a key with a call id returns it (no POST); a key with only an intent
 * reconciles it; a new (or cleared) key sends the POST, recorded before it leaves.
 */
export const start = Effect.fnUntraced(function*(config: StartConfig) {
  const calls = yield* Calls.Calls
  const ledger = yield* CallLedger
  const runId = crypto.randomUUID()
  let sends = 0
  let waits = 0
  // intent, POST and call id as one step that an interruption (a shard moving to another runner, a
  // shutdown) waits for: only a crash can leave an intent without its call id
  return yield* Effect.uninterruptible(Effect.gen(function*() {
    for (;;) {
      const existing = yield* ledger.get(config.key)
      if (Option.isSome(existing)) {
        const entry = existing.value
        if (entry.state === "started" && Option.isSome(entry.functionId) && Option.isSome(entry.callId)) {
          return started(yield* calls.retrieve(entry.functionId.value, entry.callId.value), entry.sentAt, false)
        }
        if (entry.state === "unknown") {
          return yield* giveUp(config, { sentAt: entry.sentAt, reason: "it already ended with an unknown outcome" })
        }
        if (entry.state === "intent" && entry.runId !== runId && sends > 0 && waits < OTHER_SENDER_LOOKUPS) {
          // another run of this start took the row while this one was about to send: let it settle
          waits++
          yield* Effect.sleep(Duration.seconds(1))
          continue
        }
        if (entry.state === "intent") {
          const found = yield* reconcileIntent(config, entry)
          if (Option.isSome(found)) return found.value
        }
      }
      if (sends >= MAX_SENDS) {
        return yield* giveUp(config, {
          sentAt: Option.match(existing, { onNone: () => 0, onSome: (e) => e.sentAt }),
          reason: `${MAX_SENDS} POSTs were each proven not to have created the call`
        })
      }
      sends++
      const sent = yield* sendOnce(config, runId)
      if (Option.isSome(sent)) return sent.value
    }
  }))
})
