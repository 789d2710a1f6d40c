/**
 * A durable runner in a child process, for the kill tests: the engine on the storage named by the
 * environment, the ready `CallWorkflow`, and the CDF services against the emulator. Reads commands on
 * stdin, one JSON object a line: `{start: {key, fn, data}}` starts a durable call and prints
 * `started <key>`; `{await: key, fn?, data?}` waits for it (starting it when it is not there yet) and prints
 * `result <json>`. Prints `ready` once the
 * runner is up (it resumes the workflows it finds by itself). With `DURABLE_WAIT_GO` set it loads, then
 * waits for a `go` line before it opens the storage.
 */
import { CogniteFunctions } from "@effect-cdf/functions"
import { Auth } from "@effect-cdf/http"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Queue, Redacted, Stream } from "effect"
import * as readline from "node:readline"
import { CallWorkflow } from "../../src/index.js"
import * as Postgres from "../../src/Postgres.js"
import * as Sqlite from "../../src/Sqlite.js"

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const Cdf = CogniteFunctions.layer({ baseUrl: env("EMULATOR_URL"), project: env("EMULATOR_PROJECT") }).pipe(
  Layer.provide(Auth.layerToken(Redacted.make(env("EMULATOR_TOKEN")))),
  Layer.provide(NodeHttpClient.layerUndici)
)

const Storage = process.env.DURABLE_SQLITE !== undefined
  ? Sqlite.layer({ filename: env("DURABLE_SQLITE") })
  : Postgres.layerConfig

const Live = CallWorkflow.layer.pipe(Layer.provideMerge(Storage), Layer.provide(Cdf))

const print = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

// every stdin line, in order, for whoever reads next
const input = Effect.runSync(Queue.unbounded<string>())
readline.createInterface({ input: process.stdin }).on("line", (line) => Queue.unsafeOffer(input, line))
const lines = Stream.fromQueue(input)

// with DURABLE_WAIT_GO the modules load now, and the runner starts on a "go" line (a warm spare)
const gate = process.env.DURABLE_WAIT_GO === undefined
  ? Effect.void
  : Effect.flatMap(Queue.take(input), (line) => line === "go" ? Effect.void : Effect.dieMessage(`expected go: ${line}`))

const main = Effect.gen(function*() {
  yield* print("ready")
  yield* lines.pipe(
    Stream.runForEach((line) => {
      const command = JSON.parse(line) as {
        start?: { key: string; fn: string; data: Record<string, unknown> }
        await?: string
        fn?: string
        data?: Record<string, unknown>
      }
      if (command.start !== undefined) {
        const { data, fn, key } = command.start
        return CallWorkflow.start(fn, data, { key }).pipe(Effect.zipRight(print(`started ${key}`)))
      }
      if (command.await !== undefined) {
        const key = command.await
        return Effect.fork(
          // with its function and data, a call whose start never reached the engine is started now
          CallWorkflow.call(command.fn ?? "unused", command.data ?? {}, { key }).pipe(
            Effect.match({
              onFailure: (error) => ({ key, outcome: error._tag, message: error.message }),
              onSuccess: (done) => ({ key, outcome: "Completed", callId: done.call.id, response: done.response })
            }),
            Effect.flatMap((result) => print(`result ${JSON.stringify(result)}`))
          )
        )
      }
      return Effect.void
    })
  )
  yield* Effect.never
})

NodeRuntime.runMain(Effect.zipRight(gate, main.pipe(Effect.provide(Live))), { disableErrorReporting: false })
