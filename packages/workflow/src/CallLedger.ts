/**
 * The ledger of durable calls: one row per logical call, keyed by its idempotency key, written just before
 * `POST .../call` leaves (from `Calls.start`'s `onSending`: when it was sent and the session made for it
 * alone) and updated once with the call id. It is what makes a re-run of the start activity safe: a re-run
 * finds the row; without a call id it asks `Calls.reconcile` with the recorded send, excluding every call id
 * that any logical call in the shared store owns, instead of sending a second POST blindly.
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
  /** The run of the start activity that sends (a random id per run): only it may record a send. */
  readonly runId: string
  /** When the last POST was sent (epoch ms), recorded before it left. */
  readonly sentAt: number
  /**
   * `intent`: the POST may have been sent; `cleared`: reconciliation proved it created no call (its session,
   * never used, is revoked), so a new POST may be sent; `started`: the call id is known; `unknown`: given up.
   */
  readonly state: "intent" | "cleared" | "started" | "unknown"
  readonly functionId: Option.Option<number>
  /** The session made for that POST alone: its status tells whether the call was created. */
  readonly sessionId: Option.Option<number>
  /** A run saw that session unused and is revoking it: a revoked session then says the call was not created. */
  readonly revoking: boolean
  readonly callId: Option.Option<number>
}

/** A send about to leave, as `onSending` records it. */
export interface Sending {
  readonly key: string
  readonly executionId: string
  readonly functionRef: string
  readonly runId: string
  readonly functionId: number
  readonly sentAt: number
  readonly sessionId: Option.Option<number>
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
    /**
     * Records a send before it leaves: creates the row, or updates it when it is still an intent of the
     * same run or is `cleared`. Returns whether this run owns the row (`false`: another run of the start sends for this key).
     */
    readonly recordSending: (sending: Sending) => Effect.Effect<boolean>
    /**
     * Records that the intent sent at `sentAt` provably created no call (`cleared`): the next send of any run
     * may take the row. Whether the row was that intent.
     */
    readonly clear: (key: string, sentAt: number) => Effect.Effect<boolean>
    /** Records, before revoking it, that the session of the intent sent at `sentAt` was seen unused. */
    readonly markRevoking: (key: string, sentAt: number) => Effect.Effect<void>
    /** Records the call id of a key; fails when another key already owns that call. */
    readonly recordCall: (key: string, functionId: number, callId: number) => Effect.Effect<void, AlreadyOwned>
    /** Records that the outcome of a key stays unknown. */
    readonly recordUnknown: (key: string) => Effect.Effect<void>
    /**
     * The call ids that logical calls own, among those sent since `since` (of every function: an id of
     * another function that equals one of ours only keeps a call from being adopted, the safe side).
     */
    readonly owned: (since: number) => Effect.Effect<ReadonlySet<number>>
    /** Removes the entries recorded before `before` that are settled; returns how many. */
    readonly purge: (before: number) => Effect.Effect<number>
  }
}

const fromSending = (sending: Sending): Entry => ({
  key: sending.key,
  executionId: sending.executionId,
  functionRef: sending.functionRef,
  runId: sending.runId,
  sentAt: sending.sentAt,
  state: "intent",
  functionId: Option.some(sending.functionId),
  sessionId: sending.sessionId,
  revoking: false,
  callId: Option.none()
})

/** A ledger in memory, for tests (one process, nothing survives it). */
export const layerMemory: Layer.Layer<CallLedger> = Layer.effect(
  CallLedger,
  Effect.gen(function*() {
    const rows = yield* Ref.make(new Map<string, Entry>())
    const update = (key: string, f: (entry: Entry) => Entry | undefined) =>
      Ref.modify(rows, (map) => {
        const entry = map.get(key)
        const next = entry === undefined ? undefined : f(entry)
        return next === undefined ? [false, map] : [true, new Map(map).set(key, next)]
      })
    return CallLedger.of({
      get: (key) => Effect.map(Ref.get(rows), (map) => Option.fromNullable(map.get(key))),
      recordSending: (sending) =>
        Ref.modify(rows, (map) => {
          const existing = map.get(sending.key)
          const mine = existing === undefined || existing.state === "cleared" ||
            (existing.state === "intent" && existing.runId === sending.runId)
          if (!mine) {
            return [false, map]
          }
          return [true, new Map(map).set(sending.key, fromSending(sending))]
        }),
      clear: (key, sentAt) =>
        update(key, (entry) =>
          entry.state === "intent" && entry.sentAt === sentAt ?
            { ...entry, state: "cleared", sessionId: Option.none(), revoking: false } :
            undefined),
      markRevoking: (key, sentAt) =>
        update(
          key,
          (entry) => entry.state === "intent" && entry.sentAt === sentAt ? { ...entry, revoking: true } : undefined
        ).pipe(
          Effect.asVoid
        ),
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
          return update(key, (entry) => ({
            ...entry,
            state: "started",
            functionId: Option.some(functionId),
            callId: Option.some(callId)
          }))
        }).pipe(Effect.asVoid),
      recordUnknown: (key) =>
        update(
          key,
          (entry) => entry.state === "intent" || entry.state === "cleared" ? { ...entry, state: "unknown" } : undefined
        ).pipe(
          Effect.asVoid
        ),
      owned: (since) =>
        Effect.map(Ref.get(rows), (map) => {
          const ids = new Set<number>()
          for (const entry of map.values()) {
            if (entry.sentAt >= since && Option.isSome(entry.callId)) ids.add(entry.callId.value)
          }
          return ids
        }),
      purge: (before) =>
        Ref.modify(rows, (map) => {
          const next = new Map(map)
          let removed = 0
          for (const [key, entry] of map) {
            if (entry.sentAt < before && (entry.state === "started" || entry.state === "unknown")) {
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
  run_id: Schema.String,
  sent_at: Int,
  state: Schema.Literal("intent", "cleared", "started", "unknown"),
  function_id: Schema.NullOr(Int),
  session_id: Schema.NullOr(Int),
  revoking: Schema.Union(Schema.Boolean, Int),
  call_id: Schema.NullOr(Int)
})
const decodeRow = Schema.decodeUnknownSync(Row)
const toEntry = (raw: unknown): Entry => {
  const row = decodeRow(raw)
  return {
    key: row.key,
    executionId: row.execution_id,
    functionRef: row.function_ref,
    runId: row.run_id,
    sentAt: row.sent_at,
    state: row.state,
    functionId: Option.fromNullable(row.function_id),
    sessionId: Option.fromNullable(row.session_id),
    revoking: row.revoking === true || row.revoking === 1,
    callId: Option.fromNullable(row.call_id)
  }
}

/** Creates the ledger's table and indexes when they do not exist (idempotent). */
export const migrate: Effect.Effect<void, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS ${sql(TABLE)} (
    key VARCHAR(255) PRIMARY KEY,
    execution_id VARCHAR(255) NOT NULL,
    function_ref VARCHAR(300) NOT NULL,
    run_id VARCHAR(64) NOT NULL,
    sent_at BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    function_id BIGINT,
    session_id BIGINT,
    revoking SMALLINT NOT NULL DEFAULT 0,
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
    recordSending: (sending) => {
      const sessionId = Option.getOrNull(sending.sessionId)
      // one statement: a second run of the start cannot slip in between a read and a write
      return sql`INSERT INTO ${table} ${
        sql.insert({
          key: sending.key,
          execution_id: sending.executionId,
          function_ref: sending.functionRef,
          run_id: sending.runId,
          sent_at: sending.sentAt,
          state: "intent",
          function_id: sending.functionId,
          session_id: sessionId
        })
      } ON CONFLICT (key) DO UPDATE SET state = 'intent', run_id = ${sending.runId}, sent_at = ${sending.sentAt},
        function_id = ${sending.functionId}, session_id = ${sessionId}, revoking = 0
        WHERE ${table}.state = 'cleared' OR (${table}.state = 'intent' AND ${table}.run_id = ${sending.runId})
      RETURNING key`.pipe(
        Effect.map((rows) => rows.length === 1),
        Effect.orDie
      )
    },
    clear: (key, sentAt) =>
      sql`UPDATE ${table} SET state = 'cleared', session_id = NULL, revoking = 0
      WHERE key = ${key} AND state = 'intent' AND sent_at = ${sentAt} RETURNING key`.pipe(
        Effect.map((rows) => rows.length === 1),
        Effect.orDie
      ),
    markRevoking: (key, sentAt) =>
      sql`UPDATE ${table} SET revoking = 1 WHERE key = ${key} AND state = 'intent' AND sent_at = ${sentAt}`.pipe(
        Effect.orDie,
        Effect.asVoid
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
      sql`UPDATE ${table} SET state = 'unknown' WHERE key = ${key} AND state IN ('intent', 'cleared')`.pipe(
        Effect.orDie,
        Effect.asVoid
      ),
    owned: (since) =>
      sql`SELECT call_id FROM ${table} WHERE sent_at >= ${since} AND call_id IS NOT NULL`.pipe(
        Effect.map((rows) => new Set(rows.map((row) => Number(row.call_id)))),
        Effect.orDie
      ),
    purge: (before) =>
      sql`DELETE FROM ${table} WHERE sent_at < ${before} AND state IN ('started', 'unknown') RETURNING key`.pipe(
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
