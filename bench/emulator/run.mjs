// Emulator benchmark, measured from its own process: the emulator's bin runs as a separate process and a
// lean raw-undici client drives it (session, POST call, byids polls every 2 ms, response), so the client
// costs the server nothing. Figures: warm trivial JavaScript and Python handlers' calls per second at
// concurrency 20, deploy-to-Ready of a small zip, and the emulator's memory (its process and its Python
// runners) at start, at the peak and after the calls. Build first, then from the repository root:
//   pnpm build && node bench/emulator/run.mjs [--calls 2000] [--python-calls 500] [--concurrency 20]
// It prints a Markdown table and exits 1 when a target is missed.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import { arg } from "../args.mjs"

// undici and fflate belong to the emulator package, not to the workspace root: resolve them from there.
const require = createRequire(new URL("../../packages/emulator/package.json", import.meta.url))
const { Agent, request } = require("undici")
const { zipSync } = require("fflate")
const BIN = new URL("../../packages/emulator/dist/bin.js", import.meta.url).pathname

const CALLS = arg("calls", 2000)
const PYTHON_CALLS = arg("python-calls", 500)
const CONCURRENCY = arg("concurrency", 20)
const DEPLOYS = arg("deploys", 5)
const TOKEN = "bench-dev-token"
const TARGETS = { jsCallsPerSecond: 500, deployMillis: 1000 }

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const startEmulator = () =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", BIN, "--json", "--port", "0", "--token", TOKEN], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.once("exit", (code) => reject(new Error(`the emulator exited with ${code}`)))
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk
      const end = out.indexOf("\n")
      if (end >= 0) resolve({ child, info: JSON.parse(out.slice(0, end)) })
    })
  })

/** Resident memory of a process and its descendants (the emulator and its Python runners), in MB. */
const memory = (pid) => {
  const status = (p) => {
    try {
      return fs.readFileSync(`/proc/${p}/status`, "utf8")
    } catch {
      return ""
    }
  }
  const kb = (text, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0)
  const children = (p) => {
    try {
      return fs.readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean)
    } catch {
      return []
    }
  }
  const all = [String(pid)]
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]))
  const own = status(pid)
  return {
    rss: all.reduce((n, p) => n + kb(status(p), "VmRSS"), 0) / 1024,
    peak: kb(own, "VmHWM") / 1024,
    processes: all.length
  }
}

const { child, info } = await startEmulator()
const base = `${info.baseUrl}/api/v1/projects/${info.project}`
const dispatcher = new Agent({ connections: CONCURRENCY * 2, pipelining: 1 })
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }

const api = async (method, path, body) => {
  const response = await request(`${base}${path}`, {
    method,
    headers,
    dispatcher,
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const json = await response.body.json()
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${JSON.stringify(json)}`)
  return json
}

const deploy = async (files, functionPath) => {
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)])))
  const t0 = performance.now()
  const ticket = await api("POST", "/files", { name: "bench.zip" })
  const put = await request(ticket.uploadUrl, { method: "PUT", body: zip, dispatcher })
  await put.body.dump()
  const created = await api("POST", "/functions", { items: [{ name: "bench", fileId: ticket.id, functionPath }] })
  const id = created.items[0].id
  for (;;) {
    const fn = await api("GET", `/functions/${id}`)
    if (fn.status === "Ready") return { id, millis: performance.now() - t0 }
    if (fn.status === "Failed") throw new Error(`deploy failed: ${JSON.stringify(fn.error)}`)
    await sleep(2)
  }
}

const oneCall = async (functionId, n) => {
  const session = await api("POST", "/sessions", { items: [{ tokenExchange: true }] })
  const call = await api("POST", `/functions/${functionId}/call`, { data: { n }, nonce: session.items[0].nonce })
  let status = call.status
  while (status === "Running") {
    await sleep(2)
    status = (await api("POST", `/functions/${functionId}/calls/byids`, { items: [{ id: call.id }] })).items[0].status
  }
  if (status !== "Completed") throw new Error(`call ${call.id} ended ${status}`)
  await api("GET", `/functions/${functionId}/calls/${call.id}/response`)
}

const throughput = async (functionId, calls) => {
  let next = 0
  const worker = async () => {
    while (next < calls) await oneCall(functionId, next++)
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return calls / ((performance.now() - t0) / 1000)
}

const results = []
let failed = false
const row = (what, value, unit, target) => {
  const ok = target === undefined ? "" : target.ok(value) ? "yes" : "NO"
  if (ok === "NO") failed = true
  results.push(`| ${what} | ${value.toFixed(unit === "MB" ? 0 : 1)} ${unit} | ${target?.text ?? ""} | ${ok} |`)
}

try {
  const atStart = memory(child.pid)
  const heapAtStart = await (await request(`${info.baseUrl}/__emulator/memory`, { headers, dispatcher })).body.json()
  const deploys = []
  for (let i = 0; i < DEPLOYS; i++) {
    deploys.push((await deploy({ "handler.js": "export const handle = () => 1" }, "handler.js")).millis)
  }
  const js = await deploy({ "handler.js": "export const handle = ({ data }) => ({ n: data.n })" }, "handler.js")
  const py = await deploy({ "handler.py": "def handle(data):\n    return {'n': data['n']}\n" }, "handler.py")
  await throughput(js.id, CONCURRENCY * 5) // warm the workers
  const jsRate = await throughput(js.id, CALLS)
  const afterJs = memory(child.pid)
  await throughput(py.id, CONCURRENCY * 2) // warm the runners
  const pyRate = await throughput(py.id, PYTHON_CALLS)
  await sleep(1000)
  const after = memory(child.pid)
  // Idle warm workers and runners beyond one per handler are stopped after 10 s.
  await sleep(16_000)
  const settled = memory(child.pid)
  const heap = await (await request(`${info.baseUrl}/__emulator/memory`, { headers, dispatcher })).body.json()

  row("deploy to Ready, small JS zip (median of " + DEPLOYS + ")", median(deploys), "ms", {
    text: `< ${TARGETS.deployMillis} ms`,
    ok: (v) => v < TARGETS.deployMillis
  })
  row("deploy to Ready, small Python zip", py.millis, "ms", {
    text: `< ${TARGETS.deployMillis} ms`,
    ok: (v) => v < TARGETS.deployMillis
  })
  row(`warm trivial JavaScript handler, c=${CONCURRENCY}`, jsRate, "calls/s", {
    text: `>= ${TARGETS.jsCallsPerSecond} calls/s`,
    ok: (v) => v >= TARGETS.jsCallsPerSecond
  })
  row(`warm trivial Python handler, c=${CONCURRENCY}`, pyRate, "calls/s")
  row("emulator RSS at start", atStart.rss, "MB")
  row(`emulator RSS after ${CALLS} JS calls`, afterJs.rss, "MB")
  row(`emulator RSS after the Python calls too (${after.processes} processes)`, after.rss, "MB")
  row(`emulator RSS 16 s after the calls (${settled.processes} processes)`, settled.rss, "MB")
  row("emulator JS heap used at start (after a full GC)", heapAtStart.heapUsed / 1024 / 1024, "MB")
  row("emulator JS heap used 16 s after the calls (after a full GC)", heap.heapUsed / 1024 / 1024, "MB")
  row("emulator process peak RSS", settled.peak, "MB")
} finally {
  child.kill("SIGTERM")
  await dispatcher.close()
}

console.log(
  `Emulator benchmark (${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}, load ${
    os.loadavg()[0].toFixed(1)
  })`
)
console.log("")
console.log("| measure | value | target | met |")
console.log("|---|---|---|---|")
for (const line of results) console.log(line)
process.exitCode = failed ? 1 : 0
