/** The body of the start activity: intent first, then at most one POST; a re-run reconciles instead. */
import { FunctionCall } from "@effect-cdf/core"
import { CallOutcomeUnknown, RequestDescription } from "@effect-cdf/core/Errors"
import { Calls, Functions, Sessions } from "@effect-cdf/functions"
import type { FunctionRef } from "@effect-cdf/functions/FunctionRef"
import { Chunk, Clock, Duration, Effect, Option, Stream } from "effect"
import type { Entry } from "../CallLedger.js"
import { CallLedger } from "../CallLedger.js"

/** How a start is configured. */
export interface StartConfig {
  readonly key: string
  readonly executionId: string
  readonly fn: FunctionRef
  readonly data: Readonly<Record<string, unknown>>
  readonly reconcileWindow: Duration.Duration
  /** How long to wait for other unresolved intents to settle before giving up as unknown. */
  readonly settleLookups: number
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

/**
 * Whether a ledger row's function is this one. A row names its function as it was given (an id or an
 * external id); an external id is looked up, and a failed lookup counts as the same function (the safe side).
 */
const sameFunction = (ref: string, functionId: number) => {
  if (ref.startsWith("id:")) return Effect.succeed(Number(ref.slice(3)) === functionId)
  return Effect.flatMap(Functions.Functions, (functions) => functions.retrieve({ externalId: ref.slice(11) })).pipe(
    Effect.map((fn) => fn.id === functionId),
    Effect.orElseSucceed(() => true)
  )
}

/**
 * The POST's outcome is not known (its answer was lost, or the process died after the intent was
 * recorded). Adopts a call only when exactly one call of the function started in the window, it is not a
 * scheduled call, no logical call in the shared store owns it, and no other logical call's POST is
 * unresolved in the same window (that call could be the other one's). Anything else is `CallOutcomeUnknown`.
 */
export const reconcile = Effect.fnUntraced(function*(config: StartConfig, entry: Entry, cause: string) {
  const calls = yield* Calls.Calls
  const ledger = yield* CallLedger
  const window = Duration.toMillis(config.reconcileWindow)
  const since = Math.max(0, entry.sentAt - window)
  const unknown = (reason: string) =>
    ledger.recordUnknown(config.key).pipe(
      Effect.zipRight(
        Effect.fail(
          new CallOutcomeUnknown({
            request: requestOf(config.fn),
            sentAt: entry.sentAt,
            reason: `${cause}; ${reason}. The call was not sent again (durable call ${config.key})`
          })
        )
      )
    )
  for (let lookup = 1; lookup <= config.settleLookups; lookup++) {
    // every call since, page by page: under a fan-out the lost one need not be among the newest 100
    const listed = yield* calls.list(config.fn, {
      filter: { startTime: { min: since } },
      pageSize: 1000,
      limit: 10_000
    })
      .pipe(
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray),
        Effect.either
      )
    if (listed._tag === "Left") {
      return yield* unknown(`listing the function's calls to find it failed (${listed.left._tag})`)
    }
    const functionId = listed.right[0]?.functionId
    const owned = functionId === undefined ? new Set<number>() : yield* ledger.owned(functionId, since - window)
    const candidates = listed.right.filter((call) =>
      call.startTime >= since && call.scheduleId === undefined && !owned.has(call.id)
    )
    const others = functionId === undefined ? [] : yield* ledger.unresolved(since - window, config.key)
    const competing = yield* Effect.filter(
      others.filter((other) => Math.abs(other.sentAt - entry.sentAt) <= window),
      (other) => functionId === undefined ? Effect.succeed(false) : sameFunction(other.functionRef, functionId)
    )
    if (competing.length === 0 && candidates.length === 1) {
      const call = candidates[0]
      const recorded = yield* ledger.recordCall(config.key, call.functionId, call.id).pipe(Effect.either)
      if (recorded._tag === "Left") return yield* unknown(`call ${call.id} was adopted by another durable call`)
      yield* Effect.logInfo("durable call adopted the call found by reconciliation").pipe(
        Effect.annotateLogs({ key: config.key, functionId: call.functionId, callId: call.id })
      )
      return started(call, entry.sentAt, true)
    }
    if (competing.length === 0 && candidates.length > 1) {
      return yield* unknown(
        `${candidates.length} calls started since, none owned (ids ${
          candidates.slice(0, 5).map((c) => c.id).join(", ")
        }): which one is this cannot be told`
      )
    }
    if (lookup < config.settleLookups) yield* Effect.sleep(Duration.seconds(lookup))
    else if (competing.length > 0) {
      return yield* unknown(
        `${competing.length} other durable call(s) sent in the same window are unresolved, so a call found cannot be told apart`
      )
    }
  }
  return yield* unknown("no unowned call of the function started since: it was most likely not created")
})

/**
 * Starts the logical call once: a key that has a call id returns it (no POST); a key with only an intent
 * reconciles; a new key records its intent, then sends the POST once through `Calls.start`.
 */
export const start = Effect.fnUntraced(function*(config: StartConfig) {
  const calls = yield* Calls.Calls
  const ledger = yield* CallLedger
  const existing = yield* ledger.get(config.key)
  if (Option.isSome(existing)) {
    const entry = existing.value
    if (entry.state === "started" && Option.isSome(entry.functionId) && Option.isSome(entry.callId)) {
      const call = yield* calls.retrieve(entry.functionId.value, entry.callId.value)
      return started(call, entry.sentAt, false)
    }
    if (entry.state === "unknown") {
      return yield* Effect.fail(
        new CallOutcomeUnknown({
          request: requestOf(config.fn),
          sentAt: entry.sentAt,
          reason: `durable call ${config.key} already ended with an unknown outcome; the call was not sent again`
        })
      )
    }
    return yield* reconcile(config, entry, "the start was interrupted after its intent was recorded")
  }
  // the nonce first: nothing before the intent can leave a call behind
  const nonce = yield* Effect.flatMap(Sessions.Sessions, (sessions) => sessions.nonce())
  // intent, POST and call id as one step that an interruption (a shard moving to another runner, a
  // shutdown) waits for: only a crash can leave an intent without its call id
  return yield* Effect.uninterruptible(Effect.gen(function*() {
    const sentAt = yield* Clock.currentTimeMillis
    const entry = yield* ledger.recordIntent({
      key: config.key,
      executionId: config.executionId,
      functionRef: refText(config.fn),
      sentAt
    })
    if (entry.sentAt !== sentAt) {
      // another run of this activity recorded the intent first: never POST twice for one key
      return yield* reconcile(config, entry, "another run of this start recorded the intent first")
    }
    const posted = yield* calls.start(config.fn, config.data, { nonce, reconcileWindow: config.reconcileWindow }).pipe(
      Effect.either
    )
    if (posted._tag === "Left") {
      if (posted.left._tag === "CallOutcomeUnknown") return yield* reconcile(config, entry, posted.left.reason)
      // the POST was answered with an error: no call exists
      yield* ledger.recordUnknown(config.key)
      return yield* Effect.fail(posted.left)
    }
    if (posted.right.report.reconciled) {
      // `Calls.start` adopted a call by its own reconciliation, blind to the calls other processes own
      return yield* reconcile(config, entry, "the answer to POST .../call was lost")
    }
    const call = posted.right.call
    const recorded = yield* ledger.recordCall(config.key, call.functionId, call.id).pipe(Effect.either)
    if (recorded._tag === "Left") {
      return yield* Effect.dieMessage(`call ${call.id} answered to this POST is already owned by another durable call`)
    }
    return { call, handle: posted.right.handle, report: posted.right.report } satisfies StartResult
  }))
})
