// The server side of bench/scale, in its own process so the client's figures are the client's alone.
//   node bench/scale/server.mjs emulator   the emulator, with CDF's running-call limits (100 / 250)
//   node bench/scale/server.mjs list N     a CDF-shaped listing of N calls of function 1, 1,000 a page
// Prints one JSON line ({ baseUrl, project, token }) and serves until stdin closes.
import { Effect, Redacted } from "effect"
import * as http from "node:http"
import { createRequire } from "node:module"
import { Emulator } from "../../packages/emulator/dist/index.js"

// fflate is a dependency of the emulator package, not of the workspace root: resolve it from there
const { zipSync } = createRequire(new URL("../../packages/emulator/package.json", import.meta.url))("fflate")

/** Deploys the in-process `sleep` handler (the SDK deploys only Python entry points, so this goes raw). */
const deploySleep = async (base, token) => {
  const api = (method, path, body) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(async (response) => {
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
      return JSON.parse(text)
    })
  const file = await api("POST", "/files", { name: "sleep.zip" })
  const zip = zipSync({ "handler.py": new TextEncoder().encode("def handle(data):\n    return data\n") })
  const put = await fetch(file.uploadUrl, { method: "PUT", body: zip })
  if (put.status !== 200) throw new Error(`upload: ${put.status}`)
  const created = await api("POST", "/functions", {
    items: [{ name: "sleep", fileId: file.id, functionPath: "inprocess:sleep" }]
  })
  const id = created.items[0].id
  for (;;) {
    const fn = await api("GET", `/functions/${id}`)
    if (fn.status === "Ready") return id
    if (fn.status === "Failed") throw new Error(JSON.stringify(fn.error))
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const mode = process.argv[2]
const announce = (info) => process.stdout.write(`${JSON.stringify(info)}\n`)
const untilStdinCloses = () =>
  new Promise((resolve) => {
    process.stdin.on("end", resolve)
    process.stdin.on("close", resolve)
    process.stdin.resume()
  })

if (mode === "emulator") {
  await Effect.runPromise(Effect.scoped(
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // the trivial handler: sleeps `data.ms` and answers `{ n }` (in-process, so no worker start is measured)
      yield* emulator.registerHandler("sleep", ({ data }) => Effect.as(Effect.sleep(data.ms), { n: data.n }))
      const token = Redacted.value(emulator.token)
      const fnId = yield* Effect.promise(() =>
        deploySleep(`${emulator.baseUrl}/api/v1/projects/${emulator.project}`, token)
      )
      announce({ baseUrl: emulator.baseUrl, project: emulator.project, token, fnId })
      yield* Effect.promise(untilStdinCloses)
    }).pipe(
      Effect.provide(
        Emulator.layer({
          project: "scale",
          limits: { maxRunningCallsPerFunction: 100, maxRunningCallsPerProject: 250 }
        })
      )
    )
  ))
} else if (mode === "list") {
  const total = Number(process.argv[3] ?? 100_000)
  const token = "list-token-0000"
  const call = (i) => ({
    id: i + 1,
    functionId: 1,
    status: "Completed",
    startTime: 1_700_000_000_000 + i,
    endTime: 1_700_000_001_000 + i
  })
  const server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (chunk) => (body += chunk))
    req.on("end", () => {
      if (req.headers.authorization !== `Bearer ${token}` || !req.url.endsWith("/functions/1/calls/list")) {
        res.writeHead(404, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { code: 404, message: "not here" } }))
        return
      }
      const request = JSON.parse(body || "{}")
      const start = Number(request.cursor ?? 0)
      const limit = Math.min(Number(request.limit ?? 100), 1000)
      const items = []
      for (let i = start; i < Math.min(total, start + limit); i++) items.push(call(i))
      const next = start + limit < total ? { nextCursor: String(start + limit) } : {}
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ items, ...next }))
    })
  })
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  announce({ baseUrl: `http://127.0.0.1:${server.address().port}`, project: "scale", token })
  await untilStdinCloses()
  server.close()
} else {
  console.error("usage: server.mjs emulator | list N")
  process.exit(2)
}
