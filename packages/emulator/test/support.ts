/**
 * Test helpers: a tiny `fetch` client for the emulator, zips, deploy/call helpers and the OpenAPI
 * validator. Kept out of the emulator's sources on purpose: the tests talk HTTP like any client.
 */
import { Effect, Redacted } from "effect"
import { zipSync } from "fflate"
import { gzipSync } from "node:zlib"
import type { Emulator } from "../src/Emulator.js"

/** A decoded response. */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
  readonly text: string
}

/** Options of one request. */
export interface RequestOptions {
  readonly body?: unknown
  readonly headers?: Record<string, string>
  readonly token?: string | null
  readonly gzip?: boolean
  readonly raw?: Uint8Array | string
  /** An absolute URL instead of a project path. */
  readonly url?: string
}

/** Sends a request to the emulator's project API (`path` after `/api/v1/projects/{project}`). */
export const request = (emulator: Emulator.Service, method: string, path: string, options: RequestOptions = {}) =>
  Effect.orDie(attempt(emulator, method, path, options))

/** Like `request`, but a transport failure (reset connection, cut body) is an error, not a defect. */
export const attempt = (emulator: Emulator.Service, method: string, path: string, options: RequestOptions = {}) =>
  Effect.tryPromise(async (): Promise<Reply> => {
    const url = options.url ?? `${emulator.baseUrl}/api/v1/projects/${emulator.project}${path}`
    const headers: Record<string, string> = { ...options.headers }
    const token = options.token === undefined ? Redacted.value(emulator.token) : options.token
    if (token !== null) headers["authorization"] = `Bearer ${token}`
    let body: Uint8Array | string | undefined = options.raw
    if (options.body !== undefined) {
      headers["content-type"] = "application/json"
      const json = JSON.stringify(options.body)
      body = options.gzip === true ? new Uint8Array(gzipSync(json)) : json
      if (options.gzip === true) headers["content-encoding"] = "gzip"
    }
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) })
    const text = await response.text()
    let parsed: unknown = undefined
    try {
      parsed = text === "" ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return { status: response.status, headers: response.headers, body: parsed, text }
  })

/** A field of a JSON object, or undefined. */
export const field = (value: unknown, ...path: Array<string | number>): unknown => {
  let current = value
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = Reflect.get(current, key)
  }
  return current
}

/** A numeric field, or a test failure. */
export const num = (value: unknown, ...path: Array<string | number>): number => {
  const v = field(value, ...path)
  if (typeof v !== "number") throw new Error(`expected a number at ${path.join(".")}, got ${JSON.stringify(v)}`)
  return v
}

/** A string field, or a test failure. */
export const str = (value: unknown, ...path: Array<string | number>): string => {
  const v = field(value, ...path)
  if (typeof v !== "string") throw new Error(`expected a string at ${path.join(".")}, got ${JSON.stringify(v)}`)
  return v
}

/** A zip of the given files. */
export const zip = (files: Record<string, string>): Uint8Array =>
  zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, new TextEncoder().encode(text)])))

/** Uploads bytes through `POST /files` + `PUT uploadUrl` and returns the file id. */
export const upload = (emulator: Emulator.Service, bytes: Uint8Array, name = "fn.zip") =>
  Effect.gen(function*() {
    const created = yield* request(emulator, "POST", "/files", { body: { name } })
    if (created.status !== 201) throw new Error(`upload: ${created.status} ${created.text}`)
    const put = yield* request(emulator, "PUT", "", { url: str(created.body, "uploadUrl"), raw: bytes, token: null })
    if (put.status !== 200) throw new Error(`put: ${put.status} ${put.text}`)
    return num(created.body, "id")
  })

/** Polls until `check` returns a value, every 20 ms, for at most `millis`. */
export const until = <A>(what: string, check: Effect.Effect<A | undefined>, millis = 20_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    for (;;) {
      const value = yield* check
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
  })

/** Creates a function from files (or an in-process path) and waits until it is Ready or Failed. */
export const deploy = (
  emulator: Emulator.Service,
  files: Record<string, string>,
  extra: Record<string, unknown> = {}
) =>
  Effect.gen(function*() {
    const fileId = yield* upload(emulator, zip(files))
    const created = yield* request(emulator, "POST", "/functions", {
      body: { items: [{ name: "fn", fileId, ...extra }] }
    })
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
    const id = num(created.body, "items", 0, "id")
    return yield* until(
      `function ${id} to deploy`,
      Effect.map(request(emulator, "GET", `/functions/${id}`), (r) => {
        const status = field(r.body, "status")
        return status === "Ready" || status === "Failed" ? r.body : undefined
      })
    )
  })

/** A fresh nonce from `POST /sessions`. */
export const nonce = (emulator: Emulator.Service) =>
  Effect.map(
    request(emulator, "POST", "/sessions", { body: { items: [{ tokenExchange: true }] } }),
    (r) => str(r.body, "items", 0, "nonce")
  )

/** Calls a function and waits until the call ends; returns the final call. */
export const callAndWait = (emulator: Emulator.Service, functionId: number, data: unknown = {}) =>
  Effect.gen(function*() {
    const started = yield* request(emulator, "POST", `/functions/${functionId}/call`, {
      body: { data, nonce: yield* nonce(emulator) }
    })
    if (started.status !== 201) throw new Error(`call: ${started.status} ${started.text}`)
    const callId = num(started.body, "id")
    return yield* waitCall(emulator, functionId, callId)
  })

/** Waits until a call ends; returns the final call. */
export const waitCall = (emulator: Emulator.Service, functionId: number, callId: number) =>
  until(
    `call ${callId}`,
    Effect.map(request(emulator, "GET", `/functions/${functionId}/calls/${callId}`), (r) =>
      field(r.body, "status") === "Running" ? undefined : r.body)
  )
