/**
 * Retention: the workflow engine never deletes a completed execution (a repeated idempotency key returns
 * its stored result forever), so storage grows by a few rows per call. `purge` removes the executions that
 * completed before a cut-off: their messages and replies in the cluster's tables (the durable clocks of an
 * execution included) and the settled ledger rows. `layer` runs it on a schedule.
 *
 * After an execution is removed, its idempotency key is free again: executing it starts a new logical call.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Layer, Schedule } from "effect"
import { CallLedger } from "./CallLedger.js"

/** How retention runs. */
export interface Options {
  /** Executions that completed longer ago than this are removed. Default 7 days; at least 1 hour. */
  readonly maxAge?: Duration.DurationInput | undefined
  /** How often it runs. Default every hour (and once at start-up). */
  readonly every?: Duration.DurationInput | undefined
  /** The prefix of the cluster's tables. Default `cluster`. */
  readonly prefix?: string | undefined
}

/** What one purge removed. */
export interface Purged {
  readonly executions: number
  readonly ledgerRows: number
}

/** The default age after which completed executions are removed: 7 days. */
export const DEFAULT_MAX_AGE: Duration.Duration = Duration.days(7)
/** The shortest age allowed: 1 hour (longer than any reconciliation window, so no owned call id is forgotten). */
export const MIN_MAX_AGE: Duration.Duration = Duration.hours(1)

// the cluster's snowflake ids count milliseconds since 2025-01-01 in their upper bits
const SNOWFLAKE_EPOCH = Date.UTC(2025, 0, 1)
const snowflakeAt = (millis: number): string => (BigInt(Math.max(0, millis - SNOWFLAKE_EPOCH)) << 22n).toString()

/** Removes the executions completed before `before` (epoch ms) and the ledger rows settled before it. */
export const purge = Effect.fn("Retention.purge")(function*(before: number, prefix = "cluster") {
  const sql = yield* SqlClient.SqlClient
  const ledger = yield* CallLedger
  const messages = sql(`${prefix}_messages`)
  const replies = sql(`${prefix}_replies`)
  const done = yield* sql<{ readonly entity_id: string }>`
    SELECT m.entity_id FROM ${messages} m
    JOIN ${replies} r ON r.request_id = m.id
    WHERE m.tag = 'run' AND m.kind = 0 AND m.entity_type LIKE 'Workflow/%' AND r.kind = 0 AND r.id < ${
    snowflakeAt(before)
  }`
  const ids = [...new Set(done.map((row) => row.entity_id))]
  // in chunks: an IN list of thousands of parameters is too long for SQLite
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`DELETE FROM ${replies} WHERE request_id IN (
        SELECT id FROM ${messages} WHERE entity_type LIKE 'Workflow/%' AND ${sql.in("entity_id", chunk)}
      )`
      yield* sql`DELETE FROM ${messages} WHERE entity_type LIKE 'Workflow/%' AND ${sql.in("entity_id", chunk)}`
    }))
  }
  const ledgerRows = yield* ledger.purge(before)
  yield* Effect.annotateCurrentSpan({ executions: ids.length, ledgerRows })
  return { executions: ids.length, ledgerRows } satisfies Purged
})

/** Runs `purge` at start-up and then `every`, in the background of the layer's scope; failures are logged. */
export const layer = (options: Options = {}): Layer.Layer<never, never, SqlClient.SqlClient | CallLedger> => {
  const maxAge = Duration.max(Duration.decode(options.maxAge ?? DEFAULT_MAX_AGE), MIN_MAX_AGE)
  const every = Duration.decode(options.every ?? Duration.hours(1))
  const once = Effect.gen(function*() {
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const purged = yield* purge(now - Duration.toMillis(maxAge), options.prefix)
    if (purged.executions > 0 || purged.ledgerRows > 0) {
      yield* Effect.logInfo("retention removed completed durable executions").pipe(
        Effect.annotateLogs({ executions: purged.executions, ledgerRows: purged.ledgerRows })
      )
    }
  }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("retention failed; it runs again later", cause)))
  return Layer.scopedDiscard(Effect.forkScoped(Effect.repeat(once, Schedule.spaced(every))))
}
