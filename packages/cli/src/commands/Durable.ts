/**
 * `cdf-fn durable demo`: durable calls surviving a crash, shown end to end. It starts the embedded
 * emulator and deploys a function that runs a few seconds, starts a worker process (the durable engine on a
 * SQLite file) that starts N durable calls, kills the worker with SIGKILL while every call runs, starts it
 * again, and shows every call finish, each with exactly one execution on the emulator.
 *
 * `cdf-fn durable worker` is the worker (the demo runs it; it is also a minimal runner to copy).
 *
 * @since 0.1.0
 */
import { Functions } from "@effect-cdf/functions/Functions"
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Option, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Common from "../Common.js"
import { EnvironmentError, Output, seconds, UsageError } from "../Output.js"
import { embeddedLayer } from "../Target.js"

const HANDLER = `
exports.handle = async ({ data }) => {
  await new Promise((resolve) => setTimeout(resolve, data.sleep))
  return { call: data.call, doubled: data.call * 2 }
}
`

const keyOf = (i: number) => `durable-demo-${i}`

const loadDurable = Effect.promise(async () => ({
  workflow: await import("@effect-cdf/workflow"),
  sqlite: await import("@effect-cdf/workflow/Sqlite")
}))

const worker = Command.make("worker", {
  db: Options.text("db").pipe(Options.withDescription("The SQLite file of the durable engine (created if missing)")),
  start: Options.integer("start").pipe(
    Options.withDescription("Start this many durable calls (keys durable-demo-0...), then keep running"),
    Options.optional
  ),
  await: Options.integer("await").pipe(
    Options.withDescription("Wait for the durable calls durable-demo-0... and exit when all ended"),
    Options.optional
  ),
  function: Options.text("function").pipe(
    Options.withDescription("The external id of the function to call; default durable-demo"),
    Options.withDefault("durable-demo")
  ),
  sleep: Options.integer("sleep").pipe(
    Options.withDescription("How long each call runs, in ms; default 4000"),
    Options.withDefault(4000)
  )
}, (args) =>
  Common.run(
    {
      json: false,
      baseUrl: undefined,
      project: undefined,
      token: undefined,
      tokenFile: undefined,
      emulator: false,
      dataDir: undefined
    },
    Effect.gen(function*() {
      const out = yield* Output
      const { sqlite, workflow } = yield* loadDurable
      const { CallWorkflow } = workflow
      const engine = CallWorkflow.layer.pipe(Layer.provideMerge(sqlite.layer({ filename: args.db })))
      yield* Effect.gen(function*() {
        if (Option.isSome(args.start)) {
          for (let i = 0; i < args.start.value; i++) {
            yield* CallWorkflow.start(args.function, { call: i, sleep: args.sleep }, { key: keyOf(i) })
          }
          yield* out.line(`started ${args.start.value}`)
          return yield* Effect.never
        }
        const count = Option.getOrElse(args.await, () => 0)
        yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
          CallWorkflow.call(args.function, {}, { key: keyOf(i) }).pipe(
            Effect.flatMap((done) =>
              out.line(
                `finished ${keyOf(i)}: call ${done.call.id} ${done.call.status} ${JSON.stringify(done.response)}`
              )
            ),
            Effect.catchAll((error) =>
              out.line(`ended ${keyOf(i)} ${error._tag}: ${error.message}`)
            )
          ), { concurrency: "unbounded" })
      }).pipe(
        Effect.provide(engine),
        Effect.catchTag("RunnerLocked", (error) =>
          new EnvironmentError({ message: error.message }))
      )
    })
  )).pipe(Command.withDescription("Run the durable engine on a SQLite file (used by `durable demo`)"))

/** The lines of a child process's stdout, each handed to `onLine` as it arrives. */
const follow = (child: ChildProcess, onLine: (line: string) => void) => {
  let buffer = ""
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString()
    const parts = buffer.split("\n")
    buffer = parts.pop() ?? ""
    parts.forEach(onLine)
  })
}

const demo = Command.make("demo", {
  json: Common.options.json,
  calls: Options.integer("calls").pipe(
    Options.withDescription("How many durable calls, 1..200; default 10"),
    Options.withDefault(10)
  ),
  sleep: Options.integer("sleep").pipe(
    Options.withDescription("How long each call runs, in ms (100..60000); default 4000"),
    Options.withDefault(4000)
  )
}, (args) =>
  Common.runLocal(
    args.json,
    Effect.gen(function*() {
      const out = yield* Output
      if (args.calls < 1 || args.calls > 200) return yield* new UsageError({ message: "--calls is 1..200" })
      if (args.sleep < 100 || args.sleep > 60_000) return yield* new UsageError({ message: "--sleep is 100..60000" })
      const say = (text = "") => (out.json ? Effect.void : out.line(text))
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(nodePath.join(os.tmpdir(), "cdf-fn-durable-"))),
        (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
      const db = nodePath.join(dir, "durable.db")
      const { Emulator } = yield* Effect.promise(() => import("@effect-cdf/emulator"))
      return yield* Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fn = yield* (yield* Functions).deploy({
          name: "durable-demo",
          externalId: "durable-demo",
          source: { files: { "handler.js": HANDLER } }
        })
        yield* say(
          `${out.style.bold("1.")} Emulator at ${emulator.baseUrl};\n   deployed durable-demo (function ${fn.id}).`
        )
        const env = {
          ...process.env,
          COGNITE_BASE_URL: emulator.baseUrl,
          COGNITE_PROJECT: emulator.project,
          COGNITE_TOKEN: Redacted.value(emulator.token)
        }
        const script = process.argv[1]
        const spawnWorker = (mode: ReadonlyArray<string>) =>
          Effect.acquireRelease(
            Effect.sync(() =>
              spawn(
                process.execPath,
                [script, "durable", "worker", "--db", db, ...mode, "--sleep", String(args.sleep)],
                {
                  env,
                  stdio: ["ignore", "pipe", "inherit"]
                }
              )
            ),
            (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
          )
        const first = yield* spawnWorker(["--start", String(args.calls)])
        const startedAt = Date.now()
        yield* waitUntil(() => Effect.map(emulator.executions(fn.id), (n) => n >= args.calls), 60_000)
        yield* say(
          `${out.style.bold("2.")} Worker ${first.pid} started ${args.calls} durable calls; all ${args.calls} run ${
            seconds(Date.now() - startedAt)
          } later.\n   Its SQLite file: ${db}`
        )
        // a moment for the worker to store the call ids it was answered: several calls of one function whose
        // answers were not stored yet cannot be told apart (they end CallOutcomeUnknown; see the docs)
        yield* Effect.sleep("1 second")
        first.kill("SIGKILL")
        yield* Effect.promise(() => new Promise((resolve) => first.once("exit", resolve)))
        yield* say(
          `${out.style.bold("3.")} Killed worker ${first.pid} with SIGKILL while every call was still running.`
        )
        const restartedAt = Date.now()
        const second = yield* spawnWorker(["--await", String(args.calls)])
        const finished: Array<string> = []
        follow(second, (line) => {
          finished.push(line)
          if (!out.json) process.stdout.write(`   ${line}\n`)
        })
        yield* say(`${out.style.bold("4.")} Started worker ${second.pid} on the same file; it resumed the calls:`)
        const code = yield* Effect.promise(() => new Promise<number | null>((resolve) => second.once("close", resolve)))
        const executions = yield* emulator.executions(fn.id)
        const completed = finished.filter((line) => line.startsWith("finished ")).length
        yield* say(
          `${out.style.bold("5.")} ${completed}/${args.calls} calls completed ${
            seconds(Date.now() - restartedAt)
          } after the restart;\n   the emulator ran the function ${executions} times: ${
            executions === args.calls ? out.style.green("each call exactly once") : out.style.red("NOT once per call")
          }.`
        )
        if (out.json) yield* out.document({ calls: args.calls, completed, executions, worker: { exitCode: code } })
        if (code !== 0 || completed !== args.calls || executions !== args.calls) {
          return yield* new EnvironmentError({ message: `the demo did not end as expected (worker exit ${code})` })
        }
      }).pipe(Effect.provide(embeddedLayer({}, () => Effect.void)))
    }).pipe(Effect.scoped)
  )).pipe(Command.withDescription("Start durable calls, kill the worker, restart it: every call finishes once"))

const waitUntil = (check: () => Effect.Effect<boolean>, timeoutMillis: number) =>
  Effect.gen(function*() {
    const until = Date.now() + timeoutMillis
    while (!(yield* check())) {
      if (Date.now() > until) return yield* new EnvironmentError({ message: "the durable calls did not start in time" })
      yield* Effect.sleep("50 millis")
    }
  })

/** `cdf-fn durable`: `demo` and `worker`. */
export const command = Command.make("durable").pipe(
  Command.withDescription("Durable calls on Effect's workflow engine (SQLite or PostgreSQL)"),
  Command.withSubcommands([demo, worker])
)
