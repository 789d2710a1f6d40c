// The transport side by side: four clients against one node:http server in this process, answering a
// 170-byte call JSON. GET (decoded as a `FunctionCall`) and POST with a 10 kB gzip body, each at
// concurrency 1 and 64; `--requests` (default 3,000) after a warm-up, best of `--rounds` (default 3)
// rounds interleaved across clients. Prints microseconds per request and the ratios, and exits 1 when a
// target of issue 11 is missed:
//   - CdfClient.execute GET <= 1.3x @effect/platform HttpClient (undici) + schemaBodyJson, c=1 and c=64
//   - CdfClient.execute GET over the recommended client (UndiciHttpClient.layer) <= @cognite/sdk get
//   - CdfClient.execute POST 10 kB gzip <= 1.3x the same POST through @effect/platform with node:zlib gzip
//
// Run: pnpm build && node bench/transport/run.mjs [--requests 3000] [--rounds 3] [--only ours] [--case get-1]
// Profile one client: node --cpu-prof --cpu-prof-dir=/tmp/prof bench/transport/run.mjs --only ours --case get-1
import { CogniteClient } from "@cognite/sdk"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { createServer } from "node:http"
import { gunzipSync, gzipSync } from "node:zlib"
import { request as undiciRequest } from "undici"
import { FunctionCall as FunctionCallModule } from "../../packages/core/dist/index.js"

const { FunctionCall } = FunctionCallModule
import { Auth, CdfClient, CdfRequest } from "../../packages/http/dist/index.js"
import * as UndiciHttpClient from "../../packages/http/dist/UndiciHttpClient.js"

const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]
}
const REQUESTS = Number(flag("requests", 3000))
const ROUNDS = Number(flag("rounds", 3))
const WARMUP = Number(flag("warmup", 1000))
const ONLY = flag("only", undefined)
const CASE = flag("case", undefined)

const PROJECT = "bench"
const CALL = JSON.stringify({
  id: 4503599627370497,
  status: "Completed",
  startTime: 1764547200000,
  endTime: 1764547201234,
  functionId: 4503599627370411,
  scheduleId: 4503599627370123,
  scheduledTime: 1764547199000,
  pad: "x".repeat(12)
})
const PATH = "/functions/4503599627370411/calls/4503599627370497"
const POST_PATH = "/functions/4503599627370411/calls/list"
// about 10 kB of JSON: a list filter with many external ids, as a byids or a list with a big filter sends
const BODY = {
  items: Array.from({ length: 200 }, (_, i) => ({ externalId: `bench-function-call-${String(i).padStart(6, "0")}` })),
  ignoreUnknownIds: true
}

const server = createServer((req, res) => {
  const chunks = []
  req.on("data", (c) => chunks.push(c))
  req.on("end", () => {
    if (req.method === "POST") {
      const raw = Buffer.concat(chunks)
      const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8")
      if (JSON.parse(text).items.length !== 200) {
        res.writeHead(400).end()
        return
      }
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(CALL) })
    res.end(CALL)
  })
})
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const port = server.address().port
const baseUrl = `http://127.0.0.1:${port}`
const projectUrl = `${baseUrl}/api/v1/projects/${PROJECT}`

/** Runs `one` `n` times with `concurrency` in flight (plain promises). */
const promised = (one) => async (n, concurrency) => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await one()
  }))
}

/** Runs `one` `n` times with `concurrency` in flight, in one Effect on `runtime`. */
const effected = (runtime, one) => (n, concurrency) =>
  runtime.runPromise(
    Effect.forEach(Array.from({ length: n }), () => one, { concurrency, discard: true })
  )

// 1. raw undici.request: the limit
const raw = {
  name: "raw undici.request",
  get: promised(async () => {
    const { body } = await undiciRequest(`${projectUrl}${PATH}`, { headers: { accept: "application/json" } })
    JSON.parse(await body.text())
  }),
  post: promised(async () => {
    const { body } = await undiciRequest(`${projectUrl}${POST_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip", accept: "application/json" },
      body: gzipSync(JSON.stringify(BODY))
    })
    JSON.parse(await body.text())
  })
}

// 2. @effect/platform HttpClient (undici) + schemaBodyJson
const platformRuntime = ManagedRuntime.make(NodeHttpClient.layerUndici)
const decodeCall = HttpClientResponse.schemaBodyJson(FunctionCall)
const platform = {
  name: "@effect/platform HttpClient (undici) + schemaBodyJson",
  get: effected(
    platformRuntime,
    Effect.flatMap(HttpClient.HttpClient, (client) => Effect.flatMap(client.get(`${projectUrl}${PATH}`), decodeCall))
  ),
  post: effected(
    platformRuntime,
    Effect.flatMap(HttpClient.HttpClient, (client) =>
      Effect.flatMap(
        Effect.sync(() => gzipSync(JSON.stringify(BODY))),
        (gz) =>
          Effect.flatMap(
            client.execute(
              HttpClientRequest.post(`${projectUrl}${POST_PATH}`).pipe(
                HttpClientRequest.bodyUint8Array(gz, "application/json"),
                HttpClientRequest.setHeader("content-encoding", "gzip")
              )
            ),
            decodeCall
          )
      ))
  )
}

// 3. @cognite/sdk get (the JS peer)
const cognite = new CogniteClient({
  appId: "bench",
  project: PROJECT,
  baseUrl,
  oidcTokenProvider: async () => "bench-token"
})
const sdk = {
  name: "@cognite/sdk get",
  get: promised(() => cognite.get(`/api/v1/projects/${PROJECT}${PATH}`)),
  post: promised(() => cognite.post(`/api/v1/projects/${PROJECT}${POST_PATH}`, { data: BODY }))
}

// 4. ours, over the HTTP client we recommend and over @effect/platform-node's
const oursOver = (name, http) => {
  const runtime = ManagedRuntime.make(
    CdfClient.layer({ baseUrl, project: PROJECT, appName: "bench" }).pipe(
      Layer.provide(Auth.layerToken(Redacted.make("bench-token"))),
      Layer.provide(http)
    )
  )
  const getRequest = {
    operation: "cdf.Calls.retrieve",
    method: "GET",
    path: CdfRequest.path`/functions/${4503599627370411}/calls/${4503599627370497}`,
    safety: "safe",
    schema: FunctionCall
  }
  const postRequest = {
    operation: "cdf.Calls.byids",
    method: "POST",
    path: CdfRequest.path`/functions/${4503599627370411}/calls/list`,
    body: BODY,
    safety: "safe",
    schema: FunctionCall
  }
  return {
    name,
    get: effected(runtime, Effect.flatMap(CdfClient.CdfClient, (client) => client.execute(getRequest))),
    post: effected(runtime, Effect.flatMap(CdfClient.CdfClient, (client) => client.execute(postRequest)))
  }
}
const ours = oursOver("CdfClient.execute (UndiciHttpClient.layer)", UndiciHttpClient.layer)
const oursPlatform = oursOver("CdfClient.execute (NodeHttpClient.layerUndici)", NodeHttpClient.layerUndici)

const clients = { raw, platform, sdk, ours, oursPlatform }
const cases = [
  { id: "get-1", kind: "get", concurrency: 1 },
  { id: "get-64", kind: "get", concurrency: 64 },
  { id: "post-1", kind: "post", concurrency: 1 },
  { id: "post-64", kind: "post", concurrency: 64 }
].filter((c) => CASE === undefined || c.id === CASE)
const selected = Object.entries(clients).filter(([key]) => ONLY === undefined || ONLY.split(",").includes(key))

const best = {}
const cpuBest = {}
for (const c of cases) {
  for (const [, client] of selected) await client[c.kind](WARMUP, c.concurrency)
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, client] of selected) {
      const cpu = process.cpuUsage()
      const start = performance.now()
      await client[c.kind](REQUESTS, c.concurrency)
      const us = ((performance.now() - start) * 1000) / REQUESTS
      const used = process.cpuUsage(cpu)
      best[`${key}/${c.id}`] = Math.min(best[`${key}/${c.id}`] ?? Infinity, us)
      // CPU of this process (client and server) per request: steadier than wall time on a busy machine
      cpuBest[`${key}/${c.id}`] = Math.min(cpuBest[`${key}/${c.id}`] ?? Infinity, (used.user + used.system) / REQUESTS)
    }
  }
}

const rows = selected.map(([key, client]) => ({
  client: client.name,
  ...Object.fromEntries(
    cases.map((c) => [`${c.kind.toUpperCase()} c=${c.concurrency} (µs)`, +best[`${key}/${c.id}`].toFixed(1)])
  )
}))
console.table(rows)
console.log("CPU of the process (client + in-process server), µs per request, best round:")
console.table(selected.map(([key, client]) => ({
  client: client.name,
  ...Object.fromEntries(
    cases.map((c) => [`${c.kind.toUpperCase()} c=${c.concurrency}`, +cpuBest[`${key}/${c.id}`].toFixed(1)])
  )
})))

const misses = []
const ratio = (a, b, id) => best[`${a}/${id}`] / best[`${b}/${id}`]
const checks = []
for (const c of cases) {
  if (best[`ours/${c.id}`] === undefined) continue
  if (best[`platform/${c.id}`] !== undefined) {
    checks.push({ target: `ours / @effect/platform, ${c.id}`, ratio: ratio("ours", "platform", c.id), limit: 1.3 })
  }
  if (c.kind === "get" && best[`sdk/${c.id}`] !== undefined) {
    checks.push({ target: `ours / @cognite/sdk, ${c.id}`, ratio: ratio("ours", "sdk", c.id), limit: 1 })
  }
}
for (const check of checks) {
  check.ratio = +check.ratio.toFixed(2)
  check.met = check.ratio <= check.limit
  if (!check.met) misses.push(check.target)
}
console.table(checks)
console.log(JSON.stringify({ node: process.version, requests: REQUESTS, rounds: ROUNDS, best, cpuBest, checks }))

await Promise.all([platformRuntime.dispose()])
server.closeAllConnections()
server.close()
if (misses.length > 0) {
  console.error(`targets missed: ${misses.join("; ")}`)
  process.exit(1)
}
process.exit(0)
