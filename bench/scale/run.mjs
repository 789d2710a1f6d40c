// Many calls: 1,000 concurrent `Calls.call` through the emulator (in a separate process, with CDF's
// running-call limits of 100 per function and 250 per project) with a handler that sleeps 1-3 s, and
// 100,000 calls listed as a `Stream` from a separate process. Prints a table; exits 1 when a target is missed.
//   pnpm build && node --expose-gc bench/scale/run.mjs [--calls 1000] [--list 100000] [--js] [--no-tracing]
//     [--node-http | --platform-undici]
// --js: a JavaScript handler in the emulator's worker threads instead of its in-process sleeping handler;
// --no-tracing: the calls run with the tracer off; the HTTP client is the recommended
// `UndiciHttpClient.layer`, or @effect/platform-node's node:http (--node-http) or undici (--platform-undici).
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted, Stream } from "effect"
import { spawn } from "node:child_process"
import * as os from "node:os"
import { createInterface } from "node:readline"
import * as v8 from "node:v8"
import { Calls, CogniteFunctions, Functions } from "../../packages/functions/dist/index.js"
import { Auth } from "../../packages/http/dist/index.js"
import * as UndiciHttpClient from "../../packages/http/dist/UndiciHttpClient.js"

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const CALLS = arg("calls", 1000)
const LISTED = arg("list", 100_000)
/** `inprocess` (default): the emulator's in-process sleeping handler; `js`: a JavaScript handler in a worker thread. */
const HANDLER = process.argv.includes("--js") ? "js" : "inprocess"
/** `--no-tracing`: the calls run with the tracer off, to see what spans cost. */
const TRACING = !process.argv.includes("--no-tracing")
/** `--overcommit X`: the gate's factor (default the SDK's, 1.2). */
const OVERCOMMIT = process.argv.includes("--overcommit") ? arg("overcommit", 1.2) : undefined
const PER_FUNCTION = 100
const PER_PROJECT = 250

/** Starts a server child process and resolves with what it announced, and a way to stop it. */
const startServer = (...args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL("./server.mjs", import.meta.url).pathname, ...args], {
      stdio: ["pipe", "pipe", "inherit"]
    })
    child.on("error", reject)
    createInterface({ input: child.stdout }).once("line", (line) =>
      resolve({
        ...JSON.parse(line),
        stop: () =>
          new Promise((done) => {
            child.once("exit", done)
            child.stdin.end()
            setTimeout(() => child.kill("SIGKILL"), 5_000).unref()
          })
      }))
  })

const gc = () => globalThis.gc?.()
const rssMb = () => process.memoryUsage().rss / 2 ** 20
/** Samples the RSS every 50 ms while `promise` runs: its peak, in MB. */
const peakRss = async (promise) => {
  let peak = rssMb()
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 50)
  try {
    const value = await promise
    return { value, peak: Math.max(peak, rssMb()) }
  } finally {
    clearInterval(timer)
  }
}

/** The HTTP requests the client has sent (every attempt), by path kind. */
const sent = { polls: 0, byids: 0, all: 0 }
const httpClient = process.argv.includes("--node-http")
  ? NodeHttpClient.layer
  : process.argv.includes("--platform-undici")
  ? NodeHttpClient.layerUndici
  : UndiciHttpClient.layer
const counted = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, (client) =>
    HttpClient.tapRequest(client, (request) =>
      Effect.sync(() => {
        sent.all++
        if (/\/calls\/byids$/.test(request.url)) sent.byids++
        else if (/\/calls\/\d+$/.test(request.url)) sent.polls++
      })))
).pipe(Layer.provide(httpClient))

const live = (server) =>
  CogniteFunctions.layer({ baseUrl: server.baseUrl, project: server.project }).pipe(
    Layer.provide(Auth.layerToken(Redacted.make(server.token))),
    Layer.provide(counted)
  )

/** How long call n sleeps: 1,000..3,000 ms, spread evenly and known in advance. */
const sleepOf = (n) => 1000 + ((n * 7919) % 2001)
const handler =
  "exports.handle = async ({ data }) => { await new Promise((r) => setTimeout(r, data.ms)); return { n: data.n } }"

const fanOut = async () => {
  const server = await startServer("emulator")
  try {
    return await Effect.runPromise(Effect.scoped(
      Effect.gen(function*() {
        const functions = yield* Functions.Functions
        const calls = OVERCOMMIT === undefined ? yield* Calls.Calls : yield* Calls.makeWith({ overcommit: OVERCOMMIT })
        const fn = HANDLER === "js"
          ? yield* functions.deploy({ name: "scale", source: { files: { "handler.js": handler } } })
          : { id: server.fnId }
        // warm-up: the handler's runtime, the connections, the session path
        yield* Effect.forEach(Array.from({ length: 20 }, (_, n) => n), (n) => calls.call(fn.id, { n, ms: 1 }), {
          concurrency: 20
        })
        gc()
        const before = rssMb()
        const heapBefore = process.memoryUsage().heapUsed / 2 ** 20
        const t0 = performance.now()
        const sent0 = { ...sent }
        const run = Effect.runPromise(
          Effect.forEach(
            Array.from({ length: CALLS }, (_, n) => n),
            (n) =>
              Effect.either(calls.call(fn.id, { n, ms: sleepOf(n) })).pipe(
                Effect.withTracerEnabled(TRACING),
                Effect.map((result) =>
                  result._tag === "Right"
                    ? { n, response: result.right.response, report: result.right.report }
                    : { n, error: result.left._tag }
                )
              ),
            { concurrency: "unbounded" }
          )
        )
        // while the calls wait: what stays after a full GC, at 3, 6, 9 and 12 s in (the median is reported)
        const settled = Promise.all(
          [3_000, 6_000, 9_000, 12_000].map((at) =>
            new Promise((resolve) =>
              setTimeout(() => {
                gc()
                resolve({ rss: rssMb(), heap: process.memoryUsage().heapUsed / 2 ** 20 })
              }, at)
            )
          )
        ).then((samples) => {
          const median = (key) => [...samples.map((s) => s[key])].sort((a, b) => a - b)[1]
          return { rss: median("rss"), heap: median("heap") }
        })
        // SCALE_SNAPSHOT=dir: a heap snapshot 6 s in, to see what the waiting calls hold
        if (process.env.SCALE_SNAPSHOT !== undefined) {
          setTimeout(
            () => v8.writeHeapSnapshot(`${process.env.SCALE_SNAPSHOT}/scale-${Date.now()}.heapsnapshot`),
            6_000
          )
        }
        const cpu0 = process.cpuUsage()
        const { peak, value: results } = yield* Effect.promise(() => peakRss(run))
        const cpu = process.cpuUsage(cpu0)
        const requests = {
          polls: sent.polls - sent0.polls,
          byids: sent.byids - sent0.byids,
          all: sent.all - sent0.all
        }
        const waiting = yield* Effect.promise(() => settled)
        gc()
        const heapAfter = process.memoryUsage().heapUsed / 2 ** 20
        const seconds = (performance.now() - t0) / 1000
        const listed = yield* Stream.runCollect(calls.list(fn.id, { pageSize: 1000 }))
        return {
          fnId: fn.id,
          results,
          seconds,
          before,
          heapBefore,
          peak,
          waiting,
          heapAfter,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          requests,
          created: listed.length
        }
      }).pipe(Effect.provide(live(server)))
    ))
  } finally {
    await server.stop()
  }
}

const listing = async () => {
  const server = await startServer("list", String(LISTED))
  try {
    return await Effect.runPromise(Effect.scoped(
      Effect.gen(function*() {
        const calls = yield* Calls.Calls
        yield* Stream.runCount(calls.list(1, { pageSize: 1000, limit: 2000 })) // warm-up
        gc()
        const before = rssMb()
        const t0 = performance.now()
        // the service is built: its stream needs nothing more, and runs on its own while the RSS is sampled
        const { peak, value: count } = yield* Effect.promise(() =>
          peakRss(Effect.runPromise(Stream.runCount(calls.list(1, { pageSize: 1000 }))))
        )
        return { count, before, peak, seconds: (performance.now() - t0) / 1000 }
      }).pipe(Effect.provide(live(server)))
    ))
  } finally {
    await server.stop()
  }
}

const fan = await fanOut()
const list = await listing()

const ok = fan.results.filter((r) => r.response !== undefined)
const wrong = ok.filter((r) => r.response?.n !== r.n).length
const failures = {}
for (const r of fan.results) if (r.error !== undefined) failures[r.error] = (failures[r.error] ?? 0) + 1
const busyMillis = Array.from({ length: CALLS }, (_, n) => sleepOf(n)).reduce((a, b) => a + b, 0)
const ideal = Math.max(busyMillis / PER_FUNCTION, busyMillis / PER_PROJECT, 3000) / 1000
const ratio = fan.seconds / ideal
const perCallKb = ((fan.waiting.rss - fan.before) * 1024) / CALLS
const heapPerCallKb = ((fan.waiting.heap - fan.heapBefore) * 1024) / CALLS
const peakPerCallKb = ((fan.peak - fan.before) * 1024) / CALLS
const heapKeptKb = ((fan.heapAfter - fan.heapBefore) * 1024) / CALLS
const listGrowth = list.peak - list.before
const attempts = ok.reduce((sum, r) => sum + r.report.attempts, 0)
const polls = ok.reduce((sum, r) => sum + r.report.polls, 0)

const rows = [
  [`calls completed (of ${CALLS})`, ok.length, `= ${CALLS}`, ok.length === CALLS],
  ["calls lost (failed or unanswered)", CALLS - ok.length, "0", ok.length === CALLS],
  [
    "calls created on the server (duplicates = created - calls - 20 warm-up)",
    fan.created,
    `${CALLS + 20}`,
    fan.created === CALLS + 20
  ],
  ["responses not the caller's own", wrong, "0", wrong === 0],
  ["wall time, s", fan.seconds.toFixed(1), `<= 1.2 x ${ideal.toFixed(1)} = ${(1.2 * ideal).toFixed(1)}`, ratio <= 1.2],
  ["wall time / ideal (sum of sleeps / 100 running per function)", ratio.toFixed(3), "<= 1.2", ratio <= 1.2],
  [
    "POST .../call attempts per call (429s waited out included) / polls per call (requests that observed it)",
    `${(attempts / Math.max(1, ok.length)).toFixed(2)} / ${(polls / Math.max(1, ok.length)).toFixed(1)}`,
    "-",
    true
  ],
  [
    "HTTP requests per call: all / GET .../calls/{id} / POST .../calls/byids",
    [fan.requests.all, fan.requests.polls, fan.requests.byids].map((n) => (n / CALLS).toFixed(2)).join(" / "),
    "-",
    true
  ],
  [
    "client RSS growth per waiting call (after a full GC; median of 3, 6, 9, 12 s in), kB",
    perCallKb.toFixed(1),
    "<= 20",
    perCallKb <= 20
  ],
  [
    "  of it JS heap per waiting call, kB / peak RSS growth per call (garbage included), kB",
    `${heapPerCallKb.toFixed(1)} / ${peakPerCallKb.toFixed(1)}`,
    "-",
    true
  ],
  ["JS heap still held per call once all have completed (after a full GC), kB", heapKeptKb.toFixed(1), "-", true],
  ["client CPU per call, ms (user + system)", ((fan.cpuSeconds * 1000) / CALLS).toFixed(2), "-", true],
  ["load average (1 min) at the end, on " + os.cpus().length + " cores", os.loadavg()[0].toFixed(1), "-", true],
  [`calls listed as a Stream (of ${LISTED})`, list.count, `= ${LISTED}`, list.count === LISTED],
  ["client RSS growth while listing, MB", listGrowth.toFixed(1), "< 50", listGrowth < 50],
  ["listing time, s", list.seconds.toFixed(1), "-", true]
]

console.log(
  `Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${os.platform()}; ${
    new Date().toISOString()
  }`
)
if (Object.keys(failures).length > 0) console.log(`failures: ${JSON.stringify(failures)}`)
console.log()
console.log("| measurement | value | target | met |")
console.log("|---|---|---|---|")
for (const [name, value, target, met] of rows) {
  console.log(`| ${name} | ${value} | ${target} | ${met ? "yes" : "**no**"} |`)
}
process.exit(rows.every((row) => row[3]) ? 0 : 1)
