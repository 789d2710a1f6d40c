/**
 * Raw `HttpClient` helpers for the in-memory emulator: a client with the dev token on the project's
 * base URL, JSON requests decoded with a schema, deploying an in-process handler and getting a nonce.
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { expect } from "@effect/vitest"
import { Effect, Redacted, Schema, TestClock } from "effect"
import { Emulator } from "../src/index.js"

export const Json = Schema.Unknown
const Item = Schema.Struct({ id: Schema.Number })
export const Items = Schema.Struct({ items: Schema.Array(Schema.Struct({ id: Schema.Number, status: Schema.String })) })
const Ticket = Schema.Struct({ id: Schema.Number, uploadUrl: Schema.String })
const Session = Schema.Struct({ items: Schema.Tuple(Schema.Struct({ nonce: Schema.String })) })
export const Call = Schema.Struct({ id: Schema.Number, status: Schema.String })

/** A client authenticated with the dev token, on the project's base URL. */
export const projectClient = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const client = yield* HttpClient.HttpClient
  return client.pipe(
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.prependUrl(`${emulator.baseUrl}/api/v1/projects/${emulator.project}`),
        HttpClientRequest.bearerToken(Redacted.value(emulator.token))
      )
    )
  )
})

export const send = <A, I>(schema: Schema.Schema<A, I>, method: "GET" | "POST", path: string, body?: unknown) =>
  Effect.gen(function*() {
    const client = yield* projectClient
    const request = method === "GET"
      ? HttpClientRequest.get(path)
      : HttpClientRequest.post(path).pipe(HttpClientRequest.bodyUnsafeJson(body ?? {}))
    const response = yield* client.execute(request)
    return { status: response.status, body: yield* HttpClientResponse.schemaBodyJson(schema)(response) }
  }).pipe(Effect.scoped)

/** Uploads an empty bundle, creates an in-process function and waits until it is Ready. */
export const deploy = (handler: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const ticket = yield* send(Ticket, "POST", "/files", { name: `${handler}.zip` })
    const put = yield* client.execute(
      HttpClientRequest.put(ticket.body.uploadUrl).pipe(HttpClientRequest.bodyUint8Array(new Uint8Array()))
    )
    expect(put.status).toBe(200)
    const created = yield* send(
      Schema.Struct({ items: Schema.Tuple(Item) }),
      "POST",
      "/functions",
      { items: [{ name: handler, fileId: ticket.body.id, functionPath: `inprocess:${handler}` }] }
    )
    expect(created.status).toBe(201)
    const id = created.body.items[0].id
    for (;;) {
      const fn = yield* send(Schema.Struct({ status: Schema.String }), "GET", `/functions/${id}`)
      if (fn.body.status === "Ready") return id
      expect(fn.body.status).not.toBe("Failed")
      yield* TestClock.adjust(1)
    }
  })

export const nonce = Effect.map(
  send(Session, "POST", "/sessions", { items: [{ tokenExchange: true }] }),
  (reply) => reply.body.items[0].nonce
)
