// Emulator benchmark: deploy-to-Ready time and calls completed per second for a trivial warm JS handler.
// Build first, then run from the repository root:
//   pnpm build && node bench/emulator/run.mjs [--calls 2000] [--concurrency 20]
// It prints a Markdown table (paste it into docs/benchmarks.md).
import { Effect, Redacted } from "effect"
import { createRequire } from "node:module"
import * as os from "node:os"
import { Emulator } from "../../packages/emulator/dist/index.js"

// fflate is a dependency of the emulator package, not of the workspace root: resolve it from there.
const { zipSync } = createRequire(new URL("../../packages/emulator/package.json", import.meta.url))("fflate")

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const CALLS = arg("calls", 2000)
const CONCURRENCY = arg("concurrency", 20)
const DEPLOYS = arg("deploys", 5)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

const bench = (emulator) => {
  const base = `${emulator.baseUrl}/api/v1/projects/${emulator.project}`
  const headers = { authorization: `Bearer ${Redacted.value(emulator.token)}`, "content-type": "application/json" }
  const api = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const json = await response.json()
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`)
    return json
  }
  const upload = async (files) => {
    const zip = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)])))
    const created = await api("POST", "/files", { name: "bench.zip" })
    const put = await fetch(created.uploadUrl, { method: "PUT", body: zip })
    if (put.status !== 200) throw new Error(`upload: ${put.status}`)
    return created.id
  }
  const deploy = async (files, functionPath) => {
    const fileId = await upload(files)
    const t0 = performance.now()
    const created = await api("POST", "/functions", { items: [{ name: "bench", fileId, functionPath }] })
    const id = created.items[0].id
    for (;;) {
      const fn = await api("GET", `/functions/${id}`)
      if (fn.status === "Ready") return { id, millis: performance.now() - t0 }
      if (fn.status === "Failed") throw new Error(JSON.stringify(fn.error))
      await sleep(2)
    }
  }
  const nonce = async () => (await api("POST", "/sessions", { items: [{ tokenExchange: true }] })).items[0].nonce
  const callOnce = async (id, i) => {
    const t0 = performance.now()
    const call = await api("POST", `/functions/${id}/call`, { data: { i }, nonce: await nonce() })
    for (;;) {
      const { items } = await api("POST", `/functions/${id}/calls/byids`, { items: [{ id: call.id }] })
      if (items[0].status === "Completed") return performance.now() - t0
      if (items[0].status !== "Running") throw new Error(JSON.stringify(items[0]))
      await sleep(1)
    }
  }
  return Effect.promise(async () => {
    const js = { "handler.js": "export const handle = ({ data }) => ({ echo: data })" }
    const py = { "handler.py": "def handle(data):\n    return {'echo': data}\n" }
    const jsDeploys = []
    let warm
    for (let i = 0; i < DEPLOYS; i++) {
      const d = await deploy(js, "handler.js")
      jsDeploys.push(d.millis)
      warm = d.id
    }
    const pyDeploys = []
    for (let i = 0; i < DEPLOYS; i++) pyDeploys.push((await deploy(py, "handler.py")).millis)
    for (let i = 0; i < 50; i++) await callOnce(warm, i) // warm-up
    let next = 0
    const latencies = []
    const t0 = performance.now()
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) latencies.push(await callOnce(warm, next++))
    }))
    const seconds = (performance.now() - t0) / 1000
    return { jsDeploys, pyDeploys, latencies, seconds }
  })
}

const result = await Effect.runPromise(
  Effect.scoped(
    Effect.flatMap(Emulator.Emulator, bench).pipe(
      Effect.provide(Emulator.layer({ project: "bench", limits: { maxRunningCallsPerFunction: 100 } }))
    )
  )
)

const fmt = (n) => n.toFixed(1)
console.log(`Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${os.platform()}`)
console.log()
console.log("| measurement | value |")
console.log("|---|---|")
console.log(
  `| calls completed per second (${CALLS} calls, concurrency ${CONCURRENCY}, warm JS handler) | ${
    fmt(CALLS / result.seconds)
  } |`
)
console.log(
  `| call latency p50 / p95 / max (POST /sessions + POST call + poll byids), ms | ${
    fmt(percentile(result.latencies, 50))
  } / ${fmt(percentile(result.latencies, 95))} / ${fmt(Math.max(...result.latencies))} |`
)
console.log(
  `| deploy to Ready, JS handler, median of ${DEPLOYS} (min / max), ms | ${fmt(percentile(result.jsDeploys, 50))} (${
    fmt(Math.min(...result.jsDeploys))
  } / ${fmt(Math.max(...result.jsDeploys))}) |`
)
console.log(
  `| deploy to Ready, Python handler, median of ${DEPLOYS} (min / max), ms | ${
    fmt(percentile(result.pyDeploys, 50))
  } (${fmt(Math.min(...result.pyDeploys))} / ${fmt(Math.max(...result.pyDeploys))}) |`
)
