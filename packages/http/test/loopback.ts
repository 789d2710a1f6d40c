/**
 * A `node:http` server on 127.0.0.1 for the socket tests: it records every request (and which ones the
 * client closed before the answer was finished) and is closed with the test's scope.
 */
import { Effect } from "effect"
import * as Http from "node:http"

/** A request as the loopback server received it. */
export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

/** Answers one request; `socket` lets a test cut the connection. */
export type Handler = (request: Received, response: Http.ServerResponse, socket: Http.IncomingMessage["socket"]) => void

/** What a running loopback server offers the test. */
export interface Loopback {
  readonly server: Http.Server
  readonly port: number
  /** Every request, in the order its body ended. */
  readonly seen: Array<Received>
  /** The URLs of the requests whose answer the client closed before it was finished. */
  readonly closed: Array<string>
}

const portOf = (server: Http.Server): number => {
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : 0
}

/** A loopback server on port 0 answering with `handler`, closed (connections too) with the test's scope. */
export const serve = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<Loopback>((resume) => {
      const seen: Array<Received> = []
      const closed: Array<string> = []
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("close", () => {
          if (!res.writableFinished) closed.push(req.url ?? "")
        })
        req.on("end", () => {
          const received = {
            method: req.method ?? "",
            url: req.url ?? "",
            headers: req.headers,
            body: Buffer.concat(chunks)
          }
          seen.push(received)
          handler(received, res, req.socket)
        })
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, port: portOf(server), seen, closed })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/** A port that was just free on 127.0.0.1: nothing listens there any more (a connection is refused). */
export const freePort = Effect.async<number>((resume) => {
  const server = Http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const free = portOf(server)
    server.close(() => resume(Effect.succeed(free)))
  })
})

/** Answers `body` as JSON with `status`. */
export const json = (
  res: Http.ServerResponse,
  status: number,
  body: unknown,
  headers: Http.OutgoingHttpHeaders = {}
) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}
