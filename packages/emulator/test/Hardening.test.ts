/**
 * Hostile bodies: auth and the declared length are checked before a byte of the body is read, a body
 * over the cap gets the documented 413 (never a reset), gunzip output is capped too, deep nesting is a
 * 400, and uploaded files are written with mode 0600.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import { Emulator } from "../src/index.js"
import { field, request, upload, zip } from "./support.js"

const MAX = 1024 * 1024

interface RawReply {
  readonly status: number
  readonly body: string
}

/**
 * Sends headers and at most `send` bytes of a body declared (or streamed) larger, then waits for the
 * answer while the connection stays open: a server that read the body first would never answer.
 */
const partial = (
  emulator: Emulator.Emulator.Service,
  options: {
    readonly token?: string
    readonly declared?: number
    readonly send: number
    readonly method?: string
    readonly path?: string
  }
) =>
  Effect.async<RawReply, Error>((resume) => {
    const url = new URL(`${emulator.baseUrl}/api/v1/projects/${emulator.project}${options.path ?? "/functions/list"}`)
    const headers: Record<string, string> = { "content-type": "application/json" }
    if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
    if (options.declared !== undefined) headers["content-length"] = String(options.declared)
    const req = http.request(url, { method: options.method ?? "POST", headers }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => {
        req.destroy()
        resume(Effect.succeed({ status: res.statusCode ?? 0, body }))
      })
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < options.send) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once("drain", pump)
      }
    }
    req.flushHeaders()
    pump()
    return Effect.sync(() => req.destroy())
  })

const EmulatorLive = Emulator.layer({ maxBodyBytes: MAX })

describe("hostile bodies", () => {
  it.scoped("an unauthenticated body gets its 401 before the body is read", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* partial(emulator, { declared: 60 * MAX, send: 64 * 1024 })
      expect(reply.status).toBe(401)
    }).pipe(Effect.provide(EmulatorLive)))

  it.scoped("an upload with a wrong URL token gets its 403 before the body is read", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const created = yield* request(emulator, "POST", "/files", { body: { name: "x.zip" } })
      const id = String(field(created.body, "id"))
      const reply = yield* partial(emulator, {
        method: "PUT",
        path: `/files/upload/${id}?token=not-the-token`,
        declared: 60 * MAX,
        send: 64 * 1024
      })
      expect(reply.status).toBe(403)
    }).pipe(Effect.provide(EmulatorLive)))

  it.scoped("a declared length over the cap gets 413 before the body is read", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* partial(emulator, { token: Redacted.value(emulator.token), declared: 70 * MAX, send: 0 })
      expect(reply.status).toBe(413)
      expect(reply.body).toContain(`${MAX} bytes`)
    }).pipe(Effect.provide(EmulatorLive)))

  it.scoped("a streamed body past the cap gets 413, not a reset", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* partial(emulator, { token: Redacted.value(emulator.token), send: 8 * MAX })
      expect(reply.status).toBe(413)
    }).pipe(Effect.provide(EmulatorLive)))

  it.scoped("a gzip body that inflates past the cap gets 413", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bomb = gzipSync(Buffer.alloc(16 * MAX, 0x20))
      expect(bomb.length).toBeLessThan(MAX)
      const reply = yield* request(emulator, "POST", "/functions/list", {
        raw: new Uint8Array(bomb),
        headers: { "content-encoding": "gzip", "content-type": "application/json" }
      })
      expect(reply.status).toBe(413)
    }).pipe(Effect.provide(EmulatorLive)))

  it.scoped("a body nested 100,000 deep gets 400", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const deep = "[".repeat(100_000) + "]".repeat(100_000)
      const reply = yield* request(emulator, "POST", "/functions/list", {
        raw: `{"filter": ${deep}}`,
        headers: { "content-type": "application/json" }
      })
      expect(reply.status).toBe(400)
      expect(String(field(reply.body, "error", "message"))).toContain("nests deeper")
    }).pipe(Effect.provide(EmulatorLive)))

  it.scoped("uploaded bytes and the journal are written with mode 0600", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-modes-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
      yield* Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const fileId = yield* upload(emulator, zip({ "handler.js": "export const handle = () => 1" }))
        const modes = [path.join(dataDir, "journal.jsonl"), path.join(dataDir, "files", `${fileId}.bin`)].map((f) =>
          fs.statSync(f).mode & 0o777
        )
        expect(modes).toEqual([0o600, 0o600])
      }).pipe(Effect.provide(Emulator.layer({ dataDir })))
    }))
})
