// A probe of what a waiting call costs in the client alone: a fake HttpClient answers at once (calls run
// for `--run` ms), 1,000 calls fan out, and the JS heap is read after a full GC while they wait and after.
//   node --expose-gc bench/scale/probe.mjs [--calls 1000] [--run 20000] [--limit 100]
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import * as http from "node:http"
import { Calls, CogniteFunctions } from "../../packages/functions/dist/index.js"
import { Auth } from "../../packages/http/dist/index.js"
import { arg } from "../args.mjs"

const CALLS = arg("calls", 1000)
const RUN = arg("run", 20_000)
const LIMIT = arg("limit", 100)
let next = 1
const ends = new Map()
const json = (request, status, body) =>
  HttpClientResponse.fromWeb(
    request,
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })
  )
const LATENCY = arg("latency", 0)
const fake = HttpClient.make((request, url) =>
  Effect.sync(() => {
    const path = url.pathname.replace("/api/v1/projects/p", "")
    if (path === "/sessions") {
      return json(request, 200, { items: [{ id: next++, status: "READY", nonce: `n-${next}` }] })
    }
    if (path === "/functions/limits") {
      return json(request, 200, {
        timeoutMinutes: 9,
        cpuCores: { min: 1, max: 1, default: 1 },
        memoryGb: { min: 1, max: 1, default: 1 },
        runtimes: ["py311"],
        responseSizeMb: 1
      })
    }
    if (path === "/functions/1/call") {
      const id = next++
      ends.set(id, Date.now() + RUN)
      return json(request, 201, { id, functionId: 1, status: "Running", startTime: Date.now() })
    }
    const poll = /^\/functions\/1\/calls\/(\d+)$/.exec(path)
    if (poll) {
      const id = Number(poll[1])
      return json(request, 200, {
        id,
        functionId: 1,
        status: (ends.get(id) ?? 0) <= Date.now() ? "Completed" : "Running",
        startTime: 1
      })
    }
    if (path.endsWith("/response")) return json(request, 200, { response: { ok: true } })
    return json(request, 404, { error: { code: 404, message: path } })
  }).pipe(Effect.delay(LATENCY))
)
// --loopback: the same answers from a node:http server on 127.0.0.1 through undici, instead of a fake HttpClient
const LOOPBACK = process.argv.includes("--loopback")
let baseUrl = "https://probe.cognitedata.com"
if (LOOPBACK) {
  const server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      const request = new Request(`http://x${req.url}`, { method: req.method })
      Effect.runPromise(fake.execute(HttpClientRequest.make(req.method)(`http://x${req.url}`))).then(
        async (response) => {
          res.writeHead(response.status, { "content-type": "application/json" })
          res.end(await Effect.runPromise(response.text))
        }
      )
      void request
    })
  })
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  server.unref()
  baseUrl = `http://127.0.0.1:${server.address().port}`
}
const live = CogniteFunctions.layer({ baseUrl, project: "p" }).pipe(
  Layer.provide(Auth.layerToken(Redacted.make("probe-token"))),
  Layer.provide(LOOPBACK ? NodeHttpClient.layerUndici : Layer.succeed(HttpClient.HttpClient, fake))
)
const heapMb = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}
await Effect.runPromise(
  Effect.gen(function*() {
    const calls = yield* Calls.makeWith({ maxRunningCallsPerFunction: LIMIT })
    const before = heapMb()
    const done = Effect.runPromise(Effect.forEach(
      Array.from({ length: CALLS }, (_, n) => n),
      (n) => Effect.either(calls.call(1, { n })).pipe(Effect.withTracerEnabled(!process.argv.includes("--no-tracing"))),
      { concurrency: "unbounded" }
    ))
    yield* Effect.sleep(RUN / 2)
    const waiting = heapMb()
    const results = yield* Effect.promise(() => done)
    const after = heapMb()
    console.log(JSON.stringify({
      calls: CALLS,
      completed: results.filter((r) => r._tag === "Right").length,
      heapPerWaitingCallKb: Number((((waiting - before) * 1024) / CALLS).toFixed(1)),
      heapPerFinishedCallKb: Number((((after - before) * 1024) / CALLS).toFixed(1))
    }))
  }).pipe(Effect.provide(live))
)
