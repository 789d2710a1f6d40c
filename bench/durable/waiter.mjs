// A process that starts N calls that wait at once (plain Calls.call, or durable on SQLite or PostgreSQL),
// prints "waiting" when it has started them all, and its RSS in MB when it reads a line on stdin.
// Used by run.mjs; the environment says which: MODE, N, EMULATOR_URL/PROJECT/TOKEN, SQLITE_FILE, PG_URL, PORT.
import { Effect, Layer } from "effect"
import * as readline from "node:readline"
import { Calls } from "../../packages/functions/dist/index.js"
import { CallWorkflow } from "../../packages/workflow/dist/index.js"
import { cdf, engine } from "./common.mjs"

const env = process.env
const n = Number(env.N)
const Cdf = cdf(env.EMULATOR_URL, env.EMULATOR_PROJECT, env.EMULATOR_TOKEN)
// the engine (and the fibers) live as long as the process: "waiting", then never done
const waiting = Effect.zipRight(Effect.sync(() => process.stdout.write("waiting\n")), Effect.never)
const data = (i) => ({ i, sleep: Number(env.SLEEP) })

const plain = Effect.gen(function*() {
  const calls = yield* Calls.Calls
  // started 50 at a time like the durable ones, then all N wait at once
  const started = yield* Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => calls.start("waiter", data(i)),
    { concurrency: 50 }
  )
  yield* Effect.forEach(started, (s) => Effect.fork(calls.await(s.handle)))
  yield* waiting
}).pipe(Effect.provide(Cdf))

const durable = (storage) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => CallWorkflow.start("waiter", data(i), { key: `wait-${env.MODE}-${i}` }),
    { concurrency: 50 }
  ).pipe(Effect.zipRight(waiting), Effect.provide(engine(storage).pipe(Layer.provide(Cdf))))

const program = env.MODE === "plain"
  ? plain
  : durable(
    env.MODE === "sqlite"
      ? { kind: "sqlite", file: env.SQLITE_FILE }
      : { kind: "pg", url: env.PG_URL, port: Number(env.PORT) }
  )

readline.createInterface({ input: process.stdin }).on("line", () => {
  process.stdout.write(`rss ${Math.round(process.memoryUsage().rss / 1048576)}\n`)
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  process.stderr.write(`${error}\n`)
  process.exit(1)
})
