/**
 * The connection one request came on, as the fault injector sees it: it can be dropped, or its response
 * cut short. The Node server and the in-memory client each provide their own per request.
 */
import { HttpServerResponse } from "@effect/platform"
import type { HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect } from "effect"

/** The connection of the request being handled. */
export class Connection extends Context.Tag("@effect-cdf/emulator/internal/Connection")<Connection, {
  /** Drops the connection: the client sees a reset and never gets a response. */
  readonly reset: Effect.Effect<void>
  /** Announces the whole body, sends half of it, then drops the connection. */
  readonly truncate: (response: HttpServerResponse.HttpServerResponse) => HttpServerResponse.HttpServerResponse
}>() {}

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
