/**
 * `kill -9` loses no acknowledged write: the emulator runs as its own process with a data directory,
 * eight clients create sessions and start calls, and the process is killed with SIGKILL at seeded
 * random moments. After each restart every call that got its 201 is still there.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { mulberry32 } from "../src/internal/prng.js"
import { type Running, start } from "./bin.js"
import { zip } from "./support.js"

const TOKEN = "crash-test-dev-token"
const KILLS = 6
const CLIENTS = 8

const api = async (running: Running, method: string, p: string, body?: unknown): Promise<Response> =>
  fetch(`${running.baseUrl}/api/v1/projects/${running.project}${p}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

const json = async (response: Response): Promise<Record<string, unknown>> => {
  const value: unknown = await response.json()
  if (typeof value !== "object" || value === null) throw new Error(`not an object: ${JSON.stringify(value)}`)
  return Object.fromEntries(Object.entries(value))
}

const deploy = async (running: Running): Promise<number> => {
  const ticket = await json(await api(running, "POST", "/files", { name: "crash.zip" }))
  await fetch(String(ticket.uploadUrl), {
    method: "PUT",
    body: zip({ "handler.js": "export const handle = ({ data }) => ({ echo: data })" })
  })
  const created = await json(
    await api(running, "POST", "/functions", {
      items: [{ name: "crash", fileId: ticket.id, functionPath: "handler.js" }]
    })
  )
  const id = Number((created.items as Array<{ id: number }>)[0]?.id)
  for (let i = 0; i < 400; i++) {
    const fn = await json(await api(running, "GET", `/functions/${id}`))
    if (fn.status === "Ready") return id
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error("the function did not become Ready")
}

/** Every call id of the function, through the cursor pages. */
const callIds = async (running: Running, functionId: number): Promise<Set<number>> => {
  const ids = new Set<number>()
  let cursor: string | undefined
  do {
    const page = await json(
      await api(running, "POST", `/functions/${functionId}/calls/list`, { limit: 1000, ...(cursor ? { cursor } : {}) })
    )
    for (const call of page.items as Array<{ id: number }>) ids.add(call.id)
    cursor = typeof page.nextCursor === "string" ? page.nextCursor : undefined
  } while (cursor !== undefined)
  return ids
}

/**
 * One client: a session and a call, again and again, recording each call that got its 201; `onAck`
 * runs right after each one (the test kills the process there, when the newest write is fresh).
 */
const client = async (running: Running, functionId: number, acked: Array<number>, onAck: () => void) => {
  for (;;) {
    try {
      const session = await api(running, "POST", "/sessions", { items: [{ tokenExchange: true }] })
      if (session.status !== 200) return
      const nonce = ((await json(session)).items as Array<{ nonce: string }>)[0]?.nonce
      const call = await api(running, "POST", `/functions/${functionId}/call`, { data: { n: acked.length }, nonce })
      if (call.status !== 201) continue
      acked.push(Number((await json(call)).id))
      onAck()
    } catch {
      // The process was killed: this client is done.
      return
    }
  }
}

describe("durability", () => {
  it("kill -9 at seeded random moments loses 0 acknowledged calls", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-crash-"))
    const prng = mulberry32(20261201)
    const acked: Array<number> = []
    const args = ["--port", "0", "--data-dir", dataDir, "--token", TOKEN]
    let running = await start(args)
    try {
      const functionId = await deploy(running)
      for (let kill = 0; kill < KILLS; kill++) {
        // Killed right after a seeded number of acknowledgements: the newest is milliseconds old.
        const target = acked.length + 1 + Math.floor(prng.next() * 12)
        const current = running
        const clients = Array.from({ length: CLIENTS }, () =>
          client(current, functionId, acked, () => {
            if (acked.length >= target) current.child.kill("SIGKILL")
          }))
        expect(await running.exited).toBe("SIGKILL")
        await Promise.all(clients)
        running = await start(args)
        const present = await callIds(running, functionId)
        const lost = acked.filter((id) => !present.has(id))
        expect({ kill, lost }).toEqual({ kill, lost: [] })
      }
      // Enough acknowledged writes for the count to mean something.
      expect(acked.length).toBeGreaterThanOrEqual(KILLS)
    } finally {
      running.child.kill("SIGKILL")
      await running.exited
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 120_000)
})
