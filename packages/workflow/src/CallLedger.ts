/**
 * The ledger of durable calls: one row per logical call, keyed by its idempotency key, written before
 * `POST .../call` is sent and updated once with the call id. It is what makes a re-run of the start
 * activity safe: a re-run finds the row, and when the call id is missing it reconciles against the call
 * ids that every workflow in the shared store owns, instead of sending a second POST.
 *
 * `layerMemory` is for tests on `WorkflowEngine.layerMemory`; `layerSql` keeps the rows next to the
 * workflow engine's own tables (SQLite or PostgreSQL), so every runner sharing the store sees them.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, Ref, Schema } from "effect"

/** What the ledger knows of one logical call. */
export interface Entry {
  /** The idempotency key of the logical call (unique per call by default). */
  readonly key: string
  /** The workflow execution that owns the call. */
  readonly executionId: string
  /** How the function was named (its id or external id, as text). */
  readonly functionRef: string
  /** When the intent was recorded, just before the POST (epoch ms). */
  readonly sentAt: number
  /** `intent`: the POST may have been sent; `started`: the call id is known; `unknown`: given up. */
  readonly state: "intent" | "started" | "unknown"
  readonly functionId: Option.Option<number>
  readonly callId: Option.Option<number>
}

/** A call id that another logical call already owns: adopting it would give one execution to two calls. */
export class AlreadyOwned extends Schema.TaggedError<AlreadyOwned>("@effect-cdf/workflow/AlreadyOwned")(
  "AlreadyOwned",
  { functionId: Schema.Number, callId: Schema.Number }
) {}

/** The ledger's storage. */
export class CallLedger extends Context.Tag("@effect-cdf/workflow/CallLedger")<CallLedger, CallLedger.Service>() {}

/** The types of the ledger. */
export declare namespace CallLedger {
  /** What a ledger offers. Storage failures are defects: the workflow engine cannot run without its store. */
  export interface Service {
    /** The entry of a key, if any. */
    readonly get: (key: string) => Effect.Effect<Option.Option<Entry>>
    /** Records the intent to send the POST; an existing entry is returned as it is and not replaced. */
    readonly recordIntent: (
      entry: Pick<Entry, "key" | "executionId" | "functionRef" | "sentAt">
    ) => Effect.Effect<Entry>
    /** Records the call id of a key; fails when another key already owns that call. */
    readonly recordCall: (key: string, functionId: number, callId: number) => Effect.Effect<void, AlreadyOwned>
    /** Records that the outcome of a key stays unknown. */
    readonly recordUnknown: (key: string) => Effect.Effect<void>
    /** The call ids of a function that any logical call owns, among those sent since `since`. */
    readonly owned: (functionId: number, since: number) => Effect.Effect<ReadonlySet<number>>
    /** Other keys whose POST may be in flight or lost (no call id yet), recorded since `since`. */
    readonly unresolved: (since: number, exceptKey: string) => Effect.Effect<ReadonlyArray<Entry>>
    /** Removes the entries recorded before `before` that are settled; returns how many. */
    readonly purge: (before: number) => Effect.Effect<number>
  }
}

/** A ledger in memory, for tests (one process, nothing survives it). */
export const layerMemory: Layer.Layer<CallLedger> = Layer.effect(
  CallLedger,
  Effect.gen(function*() {
    const rows = yield* Ref.make(new Map<string, Entry>())
    const update = (f: (map: Map<string, Entry>) => void) =>
      Ref.update(rows, (map) => {
        const next = new Map(map)
        f(next)
        return next
      })
    return CallLedger.of({
      get: (key) => Effect.map(Ref.get(rows), (map) => Option.fromNullable(map.get(key))),
      recordIntent: (entry) =>
        Ref.modify(rows, (map) => {
          const existing = map.get(entry.key)
          if (existing !== undefined) return [existing, map]
          const created: Entry = { ...entry, state: "intent", functionId: Option.none(), callId: Option.none() }
          return [created, new Map(map).set(entry.key, created)]
        }),
      recordCall: (key, functionId, callId) =>
        Effect.flatMap(Ref.get(rows), (map) => {
          for (const entry of map.values()) {
            if (
              entry.key !== key && Option.contains(entry.functionId, functionId) &&
              Option.contains(entry.callId, callId)
            ) {
              return Effect.fail(new AlreadyOwned({ functionId, callId }))
            }
          }
          return update((next) => {
            const entry = next.get(key)
            if (entry !== undefined) {
              next.set(key, {
                ...entry,
                state: "started",
                functionId: Option.some(functionId),
                callId: Option.some(callId)
              })
            }
          })
        }),
      recordUnknown: (key) =>
        update((next) => {
          const entry = next.get(key)
          if (entry !== undefined && entry.state === "intent") next.set(key, { ...entry, state: "unknown" })
        }),
      owned: (functionId, since) =>
        Effect.map(Ref.get(rows), (map) => {
          const ids = new Set<number>()
          for (const entry of map.values()) {
            if (entry.sentAt >= since && Option.contains(entry.functionId, functionId) && Option.isSome(entry.callId)) {
              ids.add(entry.callId.value)
            }
          }
          return ids
        }),
      unresolved: (since, exceptKey) =>
        Effect.map(
          Ref.get(rows),
          (map) => [...map.values()].filter((e) => e.key !== exceptKey && e.sentAt >= since && e.state !== "started")
        ),
      purge: (before) =>
        Ref.modify(rows, (map) => {
          const next = new Map(map)
          let removed = 0
          for (const [key, entry] of map) {
            if (entry.sentAt < before && entry.state !== "intent") {
              next.delete(key)
              removed++
            }
          }
          return [removed, next]
        })
    })
  })
)

/** The table of the SQL ledger. */
export const TABLE = "cdf_durable_calls"

const Int = Schema.Union(Schema.Number, Schema.NumberFromString)
const Row = Schema.Struct({
  key: Schema.String,
  execution_id: Schema.String,
  function_ref: Schema.String,
  sent_at: Int,
  state: Schema.Literal("intent", "started", "unknown"),
  function_id: Schema.NullOr(Int),
  call_id: Schema.NullOr(Int)
})
const decodeRow = Schema.decodeUnknownSync(Row)
const toEntry = (raw: unknown): Entry => {
  const row = decodeRow(raw)
  return {
    key: row.key,
    executionId: row.execution_id,
    functionRef: row.function_ref,
    sentAt: row.sent_at,
    state: row.state,
    functionId: Option.fromNullable(row.function_id),
    callId: Option.fromNullable(row.call_id)
  }
}

/** Creates the ledger's table and index when they do not exist (idempotent). */
export const migrate: Effect.Effect<void, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS ${sql(TABLE)} (
    key VARCHAR(255) PRIMARY KEY,
    execution_id VARCHAR(255) NOT NULL,
    function_ref VARCHAR(300) NOT NULL,
    sent_at BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    function_id BIGINT,
    call_id BIGINT
  )`
  yield* sql`CREATE UNIQUE INDEX IF NOT EXISTS ${sql(`${TABLE}_call`)} ON ${sql(TABLE)} (function_id, call_id)`
  yield* sql`CREATE INDEX IF NOT EXISTS ${sql(`${TABLE}_sent_at`)} ON ${sql(TABLE)} (sent_at)`
}).pipe(Effect.orDie)

/** A ledger in the SQL database of the workflow engine (SQLite or PostgreSQL); run `migrate` first. */
export const makeSql: Effect.Effect<CallLedger.Service, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const table = sql(TABLE)
  const get = (key: string) =>
    sql`SELECT * FROM ${table} WHERE key = ${key}`.pipe(
      Effect.map((rows) => rows.length === 0 ? Option.none() : Option.some(toEntry(rows[0]))),
      Effect.orDie
    )
  return CallLedger.of({
    get,
    recordIntent: (entry) =>
      sql`INSERT INTO ${table} ${
        sql.insert({
          key: entry.key,
          execution_id: entry.executionId,
          function_ref: entry.functionRef,
          sent_at: entry.sentAt,
          state: "intent"
        })
      } ON CONFLICT DO NOTHING`.pipe(
        Effect.orDie,
        Effect.zipRight(get(entry.key)),
        Effect.flatMap(Option.match({
          onNone: () => Effect.dieMessage(`the ledger lost the row of ${entry.key} just written`),
          onSome: Effect.succeed
        }))
      ),
    recordCall: (key, functionId, callId) =>
      sql`SELECT key FROM ${table} WHERE function_id = ${functionId} AND call_id = ${callId} AND key <> ${key}`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) =>
          rows.length > 0
            ? Effect.fail(new AlreadyOwned({ functionId, callId }))
            : sql`UPDATE ${table} SET state = 'started', function_id = ${functionId}, call_id = ${callId} WHERE key = ${key}`
              .pipe(
                // the unique index settles a race between two adopters: the loser sees AlreadyOwned
                Effect.catchAll(() => Effect.fail(new AlreadyOwned({ functionId, callId })))
              )
        ),
        Effect.asVoid
      ),
    recordUnknown: (key) =>
      sql`UPDATE ${table} SET state = 'unknown' WHERE key = ${key} AND state = 'intent'`.pipe(
        Effect.orDie,
        Effect.asVoid
      ),
    owned: (functionId, since) =>
      sql`SELECT call_id FROM ${table} WHERE function_id = ${functionId} AND sent_at >= ${since} AND call_id IS NOT NULL`
        .pipe(
          Effect.map((rows) => new Set(rows.map((row) => Number(row.call_id)))),
          Effect.orDie
        ),
    unresolved: (since, exceptKey) =>
      sql`SELECT * FROM ${table} WHERE sent_at >= ${since} AND state <> 'started' AND key <> ${exceptKey}`.pipe(
        Effect.map((rows) => rows.map(toEntry)),
        Effect.orDie
      ),
    purge: (before) =>
      sql`DELETE FROM ${table} WHERE sent_at < ${before} AND state <> 'intent' RETURNING key`.pipe(
        Effect.map((rows) => rows.length),
        Effect.orDie
      )
  })
})

/** The SQL ledger as a layer: creates its table, then serves it. */
export const layerSql: Layer.Layer<CallLedger, never, SqlClient.SqlClient> = Layer.effect(
  CallLedger,
  Effect.zipRight(migrate, makeSql)
)
