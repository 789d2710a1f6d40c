/** The body of a wait activity: polls in memory (GETs are idempotent) for one round of a durable wait. */
import { FunctionCall } from "@effect-cdf/core"
import * as Errors from "@effect-cdf/core/Errors"
import { Calls, Functions, Polling } from "@effect-cdf/functions"
import type { Schedule } from "effect"
import { Clock, Duration, Effect, Schema } from "effect"
import type { StartResult } from "./start.js"

/** A `CallReport` as a schema, so that it is stored with the activity's result. */
export const ReportSchema = Schema.Struct({
  attempts: Schema.Number,
  retryDelayMillis: Schema.Number,
  polls: Schema.Number,
  statuses: Schema.Array(Schema.String),
  waitedMillis: Schema.Number,
  reconciled: Schema.Boolean
})

/** The call ended and completed: its raw response (decoded in the workflow body, deterministically). */
export class Ended extends Schema.TaggedClass<Ended>()("Ended", {
  call: FunctionCall.FunctionCall,
  handle: FunctionCall.CallHandle,
  report: ReportSchema,
  response: Schema.Unknown
}) {}

/** The round ended before the call did: the workflow sleeps durably, then waits again from here. */
export class StillRunning extends Schema.TaggedClass<StillRunning>()("StillRunning", {
  call: FunctionCall.FunctionCall,
  handle: FunctionCall.CallHandle,
  report: ReportSchema
}) {}

/** What a round of a durable call stores. */
export const RoundSchema = Schema.Union(Ended, StillRunning)

/**
 * The errors an activity stores: exactly what `Calls.call` can end with (`Calls.CallError`: a write's
 * errors and a wait's), as a schema. The ledger's failures are defects, never among them.
 */
export const ErrorSchema = Errors.CallError

/** How waiting is configured. */
export interface WaitConfig {
  /** The call as started (or as the last round left it). */
  readonly started: StartResult
  /** The whole wait's budget from the call's send; `undefined`: the project's call timeout plus a minute. */
  readonly deadline: Duration.Duration | undefined
  /** How long one round polls in memory before the workflow sleeps durably. */
  readonly roundFor: Duration.Duration
  readonly schedule: Schedule.Schedule<unknown, unknown> | undefined
}

/**
 * Polls the call until it ends, the deadline passes (`PollDeadlineExceeded`), or the round's time is up
 * (`StillRunning`). A resumed round starts polling from scratch: nothing of a round is stored but its end.
 */
export const waitRound = Effect.fnUntraced(function*(config: WaitConfig) {
  const calls = yield* Calls.Calls
  const { handle } = config.started
  const budget = config.deadline ?? (yield* Polling.defaultDeadline(
    Effect.flatMap(Functions.Functions, (functions) => functions.limits)
  ))
  const now = yield* Clock.currentTimeMillis
  const deadlineAt = handle.startedAt + Duration.toMillis(budget)
  const left = Math.max(0, deadlineAt - now)
  const round = Math.min(left, Duration.toMillis(config.roundFor))
  const lastRound = round >= left
  const waited = yield* calls.await(handle, {
    deadline: Duration.millis(Math.max(1, round)),
    ...(config.schedule === undefined ? {} : { schedule: config.schedule })
  }).pipe(Effect.either)
  const start = config.started.report
  const merged = (report: Calls.CallReport): Calls.CallReport => ({
    ...report,
    attempts: start.attempts,
    retryDelayMillis: start.retryDelayMillis,
    reconciled: start.reconciled,
    polls: start.polls + report.polls,
    waitedMillis: start.waitedMillis + report.waitedMillis,
    statuses: [...new Set([...start.statuses, ...report.statuses])]
  })
  if (waited._tag === "Right") {
    const { call, report, response } = waited.right
    return new Ended({ call, handle, report: merged(report), response })
  }
  const error = waited.left
  if (error._tag === "PollDeadlineExceeded") {
    if (!lastRound) {
      const polls = { ...start, statuses: [...new Set([...start.statuses, error.lastStatus])] }
      return new StillRunning({
        call: config.started.call,
        handle,
        report: { ...polls, waitedMillis: start.waitedMillis + round }
      })
    }
    return yield* Effect.fail(
      new Errors.PollDeadlineExceeded({
        handle,
        waitedMillis: (yield* Clock.currentTimeMillis) - handle.startedAt,
        lastStatus: error.lastStatus
      })
    )
  }
  return yield* Effect.fail(error)
})
