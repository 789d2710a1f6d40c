/**
 * The shared storage: several runners (`NodeClusterSocket`) over one PostgreSQL database. The runners
 * coordinate through the cluster's tables and shard locks; when one dies, its shards (and the workflows on
 * them) move to the others once its locks expire (`shardLockExpiration`, default 10 s here).
 *
 * The schema (the cluster's tables and the call ledger) is created once, under a PostgreSQL advisory
 * lock, so runners starting together on an empty database do not race on `CREATE TABLE`.
 *
 * Needs the optional peers `@effect/sql-pg` (0.53.0) and `@effect/platform-node`.
 *
 * @since 0.1.0
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import { RunnerAddress } from "@effect/cluster/RunnerAddress"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import type { SqlError } from "@effect/sql/SqlError"
import type { WorkflowEngine } from "@effect/workflow"
import { Config, type ConfigError, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as CallLedger from "./CallLedger.js"
import * as Retention from "./Retention.js"

/** Where a runner is reached and where it listens. */
export interface Address {
  readonly host: string
  readonly port: number
}

/** The options of the PostgreSQL storage. */
export interface Options {
  /** The database, e.g. `postgres://user:password@127.0.0.1:5432/durable` (kept `Redacted`). */
  readonly url: Redacted.Redacted | string
  /** How other runners reach this one. Default `127.0.0.1:34431`. */
  readonly runnerAddress?: Address | undefined
  /** Where this runner listens. Default: its `runnerAddress` (loopback unless you say otherwise). */
  readonly listenAddress?: Address | undefined
  /**
   * How long a dead runner's shard locks hold before other runners take its shards: the failover time.
   * Default 10 s (the cluster's own default is 35 s). Shorter means faster failover but more lock refreshes.
   */
  readonly shardLockExpiration?: Duration.DurationInput | undefined
  /** A process that only submits and polls workflows, running none. Default `false`. */
  readonly clientOnly?: boolean | undefined
  /** Retention of completed executions (on runners only); `false` turns it off. Default 7 days, hourly. */
  readonly retention?: Retention.Options | false | undefined
  /** Further sharding options, for tuning. */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/** The default runner address: loopback, port 34431. */
export const DEFAULT_ADDRESS: Address = { host: "127.0.0.1", port: 34431 }
/** The default shard lock expiration: 10 s. */
export const DEFAULT_SHARD_LOCK_EXPIRATION: Duration.Duration = Duration.seconds(10)

// the advisory lock key under which the schema is created ("cdfw" in ASCII)
const SCHEMA_LOCK = 0x63646677

/**
 * Creates the cluster's tables and the ledger once: takes an advisory lock on a connection of its own,
 * runs the migrations, and lets go. A runner that waited finds them done.
 */
export const setupSchema: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.scoped(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    yield* connection.executeRaw(`SELECT pg_advisory_lock(${SCHEMA_LOCK})`, [])
    yield* Effect.addFinalizer(() =>
      connection.executeRaw(`SELECT pg_advisory_unlock(${SCHEMA_LOCK})`, []).pipe(Effect.ignore)
    )
    const scope = yield* Effect.scope
    yield* Layer.buildWithScope(
      Layer.mergeAll(SqlMessageStorage.layer, SqlRunnerStorage.layer).pipe(
        Layer.provide(ShardingConfig.layer())
      ),
      scope
    )
    yield* CallLedger.migrate
  })
).pipe(Effect.asVoid)

const address = (a: Address) => RunnerAddress.make({ host: a.host, port: a.port })

/**
 * The workflow engine over PostgreSQL with the call ledger and retention. Start one per process; each
 * runner needs its own `runnerAddress` (port) when several run on one host.
 */
export const layer = (
  options: Options
): Layer.Layer<
  WorkflowEngine.WorkflowEngine | CallLedger.CallLedger | SqlClient.SqlClient,
  SqlError | ConfigError.ConfigError | Error
> => {
  const reach = options.runnerAddress ?? DEFAULT_ADDRESS
  const listen = options.listenAddress ?? reach
  const url = typeof options.url === "string" ? Redacted.make(options.url) : options.url
  const sharding = NodeClusterSocket.layer({
    storage: "sql",
    clientOnly: options.clientOnly === true,
    shardingConfig: {
      ...options.shardingConfig,
      // Option.some, never a plain object: a plain object silently listens on a random port everywhere
      runnerAddress: options.clientOnly === true ? Option.none() : Option.some(address(reach)),
      runnerListenAddress: options.clientOnly === true ? Option.none() : Option.some(address(listen)),
      shardLockExpiration: options.shardLockExpiration ?? DEFAULT_SHARD_LOCK_EXPIRATION
    }
  })
  const engine = ClusterWorkflowEngine.layer.pipe(Layer.provide(sharding))
  const retention = options.retention === false || options.clientOnly === true
    ? Layer.empty
    : Retention.layer(options.retention)
  // retention after the engine: its tables exist once the engine is built
  return retention.pipe(
    Layer.provideMerge(engine),
    Layer.provideMerge(Layer.effect(CallLedger.CallLedger, CallLedger.makeSql)),
    Layer.provide(Layer.effectDiscard(setupSchema)),
    Layer.provideMerge(PgClient.layer({ url }))
  )
}

/**
 * `layer` from environment variables: `CDF_DURABLE_PG_URL` (required), `CDF_DURABLE_RUNNER_HOST`
 * (default 127.0.0.1), `CDF_DURABLE_RUNNER_PORT` (default 34431), `CDF_DURABLE_LISTEN_HOST` and
 * `CDF_DURABLE_LISTEN_PORT` (default the runner's), `CDF_DURABLE_SHARD_LOCK_EXPIRATION` (a duration,
 * default 10 seconds), `CDF_DURABLE_CLIENT_ONLY` (default false), `CDF_DURABLE_RETENTION` (a duration,
 * default 7 days).
 */
export const layerConfig: Layer.Layer<
  WorkflowEngine.WorkflowEngine | CallLedger.CallLedger | SqlClient.SqlClient,
  SqlError | ConfigError.ConfigError | Error
> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const url = yield* Config.redacted("CDF_DURABLE_PG_URL")
    const host = yield* Config.string("CDF_DURABLE_RUNNER_HOST").pipe(Config.withDefault(DEFAULT_ADDRESS.host))
    const port = yield* Config.port("CDF_DURABLE_RUNNER_PORT").pipe(Config.withDefault(DEFAULT_ADDRESS.port))
    const listenHost = yield* Config.string("CDF_DURABLE_LISTEN_HOST").pipe(Config.withDefault(host))
    const listenPort = yield* Config.port("CDF_DURABLE_LISTEN_PORT").pipe(Config.withDefault(port))
    const expiration = yield* Config.duration("CDF_DURABLE_SHARD_LOCK_EXPIRATION").pipe(
      Config.withDefault(DEFAULT_SHARD_LOCK_EXPIRATION)
    )
    const clientOnly = yield* Config.boolean("CDF_DURABLE_CLIENT_ONLY").pipe(Config.withDefault(false))
    const maxAge = yield* Config.duration("CDF_DURABLE_RETENTION").pipe(Config.withDefault(Retention.DEFAULT_MAX_AGE))
    return layer({
      url,
      runnerAddress: { host, port },
      listenAddress: { host: listenHost, port: listenPort },
      shardLockExpiration: expiration,
      clientOnly,
      retention: { maxAge }
    })
  })
)
