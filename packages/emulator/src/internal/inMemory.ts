/**
 * The in-memory `HttpClient`: each request is handed to the emulator's HTTP app on the caller's fiber,
 * with no socket, so everything the app does (sleeps, timeouts, schedules) follows the caller's Effect
 * `Clock`. Injected connection faults become the client errors a real connection would give.
 */
import {
  HttpClient,
  HttpClientError,
  HttpClientResponse,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import { Cause, Chunk, Effect, Stream } from "effect"
import { type Connection, halfBody, tooLarge } from "./connection.js"

/** What a web `Request` takes as its body. */
type RequestBody = NonNullable<ConstructorParameters<typeof Request>[1]>["body"]

/** What the connection of one in-memory request went through. */
interface Outcome {
  reset: boolean
  truncated: { readonly half: Uint8Array } | undefined
}

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  const parts = Chunk.toReadonlyArray(chunks)
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** The request body as something a web `Request` takes. */
const bodyOf = (request: HttpClientRequest.HttpClientRequest) => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(undefined)
    case "Uint8Array":
      return Effect.succeed<RequestBody>(body.body)
    case "FormData":
      return Effect.succeed<RequestBody>(body.formData)
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array
        ? Effect.succeed<RequestBody>(body.body)
        : Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Encode",
            description: "The in-memory emulator client takes string, Uint8Array, FormData or Stream bodies"
          })
        )
    case "Stream":
      return Stream.runCollect(body.stream).pipe(
        Effect.map((chunks): RequestBody => concat(chunks)),
        Effect.mapError((cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause }))
      )
  }
}

const cutStream = (half: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(half)
      controller.error(new Error("The connection closed before the whole body arrived (injected fault)"))
    }
  })

/** Answers one request that came on `connection`. */
export type Serve = (
  request: HttpServerRequest.HttpServerRequest,
  connection: Connection["Type"]
) => Effect.Effect<HttpServerResponse.HttpServerResponse>

/** An `HttpClient` that serves every request to `origin` with `app`; any other origin is a transport error. */
export const makeClient = (serve: Serve, origin: string): HttpClient.HttpClient =>
  HttpClient.make((request, url, signal) =>
    Effect.gen(function*() {
      if (url.origin !== origin) {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          description: `The in-memory emulator serves only ${origin}, not ${url.origin}`
        })
      }
      const body = yield* bodyOf(request)
      const webRequest = new Request(url, {
        method: request.method,
        headers: request.headers,
        signal,
        ...(body === undefined ? {} : { body })
      })
      const outcome: Outcome = { reset: false, truncated: undefined }
      const connection: Connection["Type"] = {
        readBody: (maxBytes) =>
          Effect.flatMap(
            Effect.promise(() => webRequest.arrayBuffer()),
            (buffer) =>
              buffer.byteLength > maxBytes ? Effect.fail(tooLarge(maxBytes)) : Effect.succeed(new Uint8Array(buffer))
          ),
        reset: Effect.sync(() => {
          outcome.reset = true
        }),
        truncate: (response) => {
          outcome.truncated = { half: halfBody(response).half }
          return response
        }
      }
      const response = yield* serve(HttpServerRequest.fromWeb(webRequest), connection).pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.failCause(cause)
            : Effect.fail(
              new HttpClientError.RequestError({ request, reason: "Transport", cause: Cause.squash(cause) })
            )
        )
      )
      if (outcome.reset) {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          description: "The connection was reset (injected fault)"
        })
      }
      const web = HttpServerResponse.toWeb(response, { withoutBody: request.method === "HEAD" })
      const truncated = outcome.truncated
      return HttpClientResponse.fromWeb(
        request,
        truncated === undefined
          ? web
          : new Response(cutStream(truncated.half), { status: web.status, headers: web.headers })
      )
    })
  )
