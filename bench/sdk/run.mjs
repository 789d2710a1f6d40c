// Requests per second through the SDK (CdfClient: auth, headers, retries, decoding) against the emulator
// on 127.0.0.1, with @effect/platform-node's undici client and with Node's global fetch.
//
// Each request is `Calls.retrieve` (GET /functions/{id}/calls/{callId}, decoded with the FunctionCall
// schema), sequentially and with 8 in flight. Then `Calls.call` end to end (session, POST, polls on a
// 5 ms schedule, response) for a warm JavaScript handler.
//
// Run: pnpm build && node bench/sdk/run.mjs [--requests 3000]
import { FetchHttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Schedule } from "effect"
import { Emulator } from "../../packages/emulator/dist/index.js"
import { Calls, CogniteFunctions, Functions } from "../../packages/functions/dist/index.js"
import { Auth } from "../../packages/http/dist/index.js"

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const REQUESTS = arg("requests", 3000)
const CALLS = arg("calls", 300)

const clientLayer = (http) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      CogniteFunctions.layer({ baseUrl: emulator.baseUrl, project: emulator.project }).pipe(
        Layer.provide(Auth.layerToken(emulator.token)),
        Layer.provide(http)
      ))
  )

const timed = (effect) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const measure = (name, http) =>
  Effect.gen(function*() {
    const functions = yield* Functions.Functions
    const calls = yield* Calls.Calls
    const fn = yield* functions.deploy({
      name: `bench-${name}`,
      source: { files: { "handler.js": "exports.handle = ({ data }) => ({ echo: data })" } }
    })
    const fast = Schedule.spaced("5 millis")
    const first = yield* calls.call(fn.id, { warm: true }, { schedule: fast })
    for (let i = 0; i < 200; i++) yield* calls.retrieve(fn.id, first.call.id)
    const sequential = yield* timed(
      Effect.forEach(Array.from({ length: REQUESTS }), () => calls.retrieve(fn.id, first.call.id), { discard: true })
    )
    const parallel = yield* timed(
      Effect.forEach(Array.from({ length: REQUESTS }), () => calls.retrieve(fn.id, first.call.id), {
        concurrency: 8,
        discard: true
      })
    )
    const endToEnd = yield* timed(
      Effect.forEach(Array.from({ length: CALLS }), (_, n) => calls.call(fn.id, { n }, { schedule: fast }), {
        concurrency: 4,
        discard: true
      })
    )
    return {
      client: name,
      "GET /calls/{id} per s, sequential": Math.round(REQUESTS / (sequential / 1000)),
      "µs per request, sequential": Math.round((sequential * 1000) / REQUESTS),
      "GET /calls/{id} per s, 8 in flight": Math.round(REQUESTS / (parallel / 1000)),
      "calls per s end to end, 4 in flight": +(CALLS / (endToEnd / 1000)).toFixed(1)
    }
  }).pipe(Effect.provide(clientLayer(http)))

const program = Effect.gen(function*() {
  const rows = []
  rows.push(yield* measure("undici (NodeHttpClient.layerUndici)", NodeHttpClient.layerUndici))
  rows.push(yield* measure("fetch (FetchHttpClient.layer)", FetchHttpClient.layer))
  console.table(rows)
  console.log(JSON.stringify({ node: process.version, requests: REQUESTS, calls: CALLS, rows }))
}).pipe(Effect.provide(Emulator.layer({})), Effect.scoped)

Effect.runPromise(program).then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
