/**
 * The embedded storage: the workflow engine, the call ledger and retention in one SQLite file, served by a
 * single runner (`SingleRunner`) in this process. One runner per file: the layer takes an exclusive lock
 * on `<filename>.lock` first, so a second process on the same file fails with `RunnerLocked` instead of
 * running every workflow twice. The lock is the operating system's, so a killed process releases it.
 *
 * Needs the optional peer `@effect/sql-sqlite-node` (0.53.0).
 *
 * @example
 * ```ts
 * import { CallWorkflow } from "@effect-cdf/workflow"
 * import * as Sqlite from "@effect-cdf/workflow/Sqlite"
 * import { Layer } from "effect"
 *
 * // with the CDF services (CogniteFunctions.layer...) provided below it
 * const Durable = CallWorkflow.layer.pipe(Layer.provideMerge(Sqlite.layer({ filename: "durable.db" })))
 * ```
 *
 * @since 0.1.0
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import type * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SingleRunner from "@effect/cluster/SingleRunner"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { WorkflowEngine } from "@effect/workflow"
import type { ConfigError } from "effect"
import { Effect, Layer, Schema } from "effect"
import * as CallLedger from "./CallLedger.js"
import * as Retention from "./Retention.js"

/** Another process holds the runner lock of this SQLite file. */
export class RunnerLocked extends Schema.TaggedError<RunnerLocked>("@effect-cdf/workflow/RunnerLocked")(
  "RunnerLocked",
  { filename: Schema.String, reason: Schema.String }
) {
  override get message(): string {
    return `Another process runs the durable engine on ${this.filename} (its lock ${this.filename}.lock is held): ` +
      `one runner per SQLite file; use PostgreSQL for several runners (${this.reason})`
  }
}

/** The options of the SQLite storage. */
export interface Options {
  /** The database file (created when missing). */
  readonly filename: string
  /** Retention of completed executions; `false` turns it off. Default: 7 days, checked hourly. */
  readonly retention?: Retention.Options | false | undefined
  /** Options of the single runner's sharding, for tuning. */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * Holds an exclusive lock on `<filename>.lock` for the layer's life: a `BEGIN EXCLUSIVE` transaction
 * that is never committed, in SQLite's exclusive locking mode, on a connection of its own.
 */
export const layerLock = (filename: string): Layer.Layer<never, RunnerLocked> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`PRAGMA busy_timeout = 0`
      yield* sql`PRAGMA locking_mode = EXCLUSIVE`
      yield* sql`BEGIN EXCLUSIVE`
      yield* sql`CREATE TABLE IF NOT EXISTS runner_lock (pid INTEGER)`
    }).pipe(
      Effect.mapError((error) => new RunnerLocked({ filename, reason: String(error.cause ?? error.message) }))
    )
  ).pipe(
    Layer.provide(
      SqliteClient.layer({ filename: `${filename}.lock`, disableWAL: true }).pipe(
        Layer.orDie
      )
    )
  )

/**
 * The workflow engine over one SQLite file, with the call ledger and retention. Provide the CDF services
 * (`Calls`, `Functions`) to the workflows you register on it.
 */
export const layer = (
  options: Options
): Layer.Layer<
  WorkflowEngine.WorkflowEngine | CallLedger.CallLedger | SqlClient.SqlClient,
  RunnerLocked | ConfigError.ConfigError
> => {
  const storage = SqliteClient.layer({ filename: options.filename })
  const engine = ClusterWorkflowEngine.layer.pipe(
    Layer.provide(SingleRunner.layer({
      runnerStorage: "sql",
      ...(options.shardingConfig === undefined ? {} : { shardingConfig: options.shardingConfig })
    }))
  )
  const retention = options.retention === false ? Layer.empty : Retention.layer(options.retention)
  // retention after the engine: its tables exist once the engine is built
  return retention.pipe(
    Layer.provideMerge(engine),
    Layer.provideMerge(CallLedger.layerSql),
    Layer.provideMerge(storage),
    Layer.provide(layerLock(options.filename))
  )
}
