/**
 * The connection one request came on, as the fault injector sees it: it can be dropped, or its response
 * cut short. The Node server and the in-memory client each provide their own per request.
 */
import { HttpServerResponse } from "@effect/platform"
import type { HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect } from "effect"
import { ApiFailure, badRequest } from "./http.js"

/** The connection of the request being handled. */
export class Connection extends Context.Tag("@effect-cdf/emulator/internal/Connection")<Connection, {
  /** Drops the connection: the client sees a reset and never gets a response. */
  readonly reset: Effect.Effect<void>
  /** Announces the whole body, sends half of it, then drops the connection. */
  readonly truncate: (response: HttpServerResponse.HttpServerResponse) => HttpServerResponse.HttpServerResponse
  /**
   * Reads the raw request body, at most `maxBytes`; more is a 413 as soon as the cap is passed (the rest
   * is drained and dropped, never buffered, so the client still gets the answer).
   */
  readonly readBody: (maxBytes: number) => Effect.Effect<Uint8Array, ApiFailure>
}>() {}

/** The 413 of a body over the cap. */
export const tooLarge = (maxBytes: number) =>
  new ApiFailure({ status: 413, message: `The request body is over the limit of ${maxBytes} bytes` })

const bodyBytes = (response: HttpServerResponse.HttpServerResponse): Uint8Array =>
  response.body._tag === "Uint8Array" ? response.body.body : new TextEncoder().encode("{}")

/** The half-body response both connections send when truncating. */
export const halfBody = (response: HttpServerResponse.HttpServerResponse) => {
  const bytes = bodyBytes(response)
  return {
    whole: bytes.length,
    half: bytes.slice(0, Math.floor(bytes.length / 2))
  }
}

/** The connection of a request served by the Node HTTP server. */
export const nodeConnection = (request: HttpServerRequest.HttpServerRequest): Context.Tag.Service<Connection> => ({
  reset: Effect.sync(() => {
    const response = NodeHttpServerRequest.toServerResponse(request)
    NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
    // Mark the response finished so the server does not try to write to the dead socket.
    response.end()
  }),
  readBody: (maxBytes) =>
    Effect.async<Uint8Array, ApiFailure>((resume) => {
      const incoming = NodeHttpServerRequest.toIncomingMessage(request)
      const chunks: Array<Buffer> = []
      let size = 0
      let settled = false
      const settle = (result: Effect.Effect<Uint8Array, ApiFailure>) => {
        if (settled) return
        settled = true
        resume(result)
      }
      incoming.on("data", (chunk: Buffer) => {
        if (settled) return
        size += chunk.length
        if (size > maxBytes) {
          chunks.length = 0
          settle(Effect.fail(tooLarge(maxBytes)))
        } else chunks.push(chunk)
      })
      incoming.on("end", () => settle(Effect.succeed(new Uint8Array(Buffer.concat(chunks)))))
      incoming.on("error", () => settle(Effect.fail(badRequest("The request body could not be read"))))
    }),
  truncate: (response) => {
    const { half, whole } = halfBody(response)
    const nodeResponse = NodeHttpServerRequest.toServerResponse(request)
    nodeResponse.once("finish", () => nodeResponse.socket?.destroy())
    return HttpServerResponse.uint8Array(half, {
      status: response.status,
      contentType: "application/json",
      headers: { ...response.headers, "content-length": String(whole) }
    })
  }
})
