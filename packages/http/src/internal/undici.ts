import {
  Cookies,
  Headers,
  HttpClient,
  HttpClientError,
  type HttpClientRequest,
  HttpClientResponse,
  HttpIncomingMessage,
  UrlParams
} from "@effect/platform"
import { Effect, Either, Inspectable, Option, Stream } from "effect"
import { Readable } from "node:stream"
import type { Dispatcher } from "undici"
import { AttemptTimedOut, type Lean, register } from "./lean.js"

type Body = string | Uint8Array | Readable | null

interface Converted {
  readonly body: Body
  readonly contentType: string | undefined
}

const requestError = (
  request: HttpClientRequest.HttpClientRequest,
  reason: "Transport" | "Encode" | "InvalidUrl",
  cause: unknown
) => new HttpClientError.RequestError({ request, reason, cause })

const convertBody = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<Converted, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed({ body: null, contentType: undefined })
    case "Uint8Array":
      return Effect.succeed({ body: body.body, contentType: undefined })
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array
        ? Effect.succeed({ body: body.body, contentType: undefined })
        : Effect.fail(requestError(request, "Encode", "a raw body must be a string or bytes"))
    case "FormData":
      // The web Response encodes the multipart body and its boundary.
      return Effect.tryPromise({
        try: async () => {
          const encoded = new Response(body.formData)
          return {
            body: new Uint8Array(await encoded.arrayBuffer()),
            contentType: encoded.headers.get("content-type") ?? undefined
          }
        },
        catch: (cause) => requestError(request, "Encode", cause)
      })
    case "Stream":
      return Effect.map(
        Stream.toAsyncIterableEffect(body.stream),
        (iterable) => ({ body: Readable.from(iterable), contentType: undefined })
      )
  }
}

const noop = () => {}

const fromResult = (
  result: Either.Either<Uint8Array, HttpClientError.ResponseError>
): Effect.Effect<Uint8Array, HttpClientError.ResponseError> =>
  Either.isRight(result) ? Effect.succeed(result.right) : Effect.fail(result.left)

/** A response over undici's body stream, read at most once; every read shares the same bytes. */
class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private cachedHeaders: Headers.Headers | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Dispatcher.ResponseData,
    /** Stops the time limit of `executeWithin`, once the body is read. */
    private readonly done: () => void = noop
  ) {
    super()
    source.body.on("error", noop)
  }

  get status(): number {
    return this.source.statusCode
  }

  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.source.headers)
  }

  get cookies(): Cookies.Cookies {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(header)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  /** Stops reading: the body fails with `reason` (a time limit) or ends the connection. */
  destroy(reason: Error | undefined): void {
    this.done()
    this.source.body.destroy(reason)
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  private result: Either.Either<Uint8Array, HttpClientError.ResponseError> | undefined
  private listeners: Array<(result: Either.Either<Uint8Array, HttpClientError.ResponseError>) => void> | undefined

  /** Starts reading the whole body (once); `listener` runs when it is complete. Returns an unsubscribe. */
  readAll(listener: (result: Either.Either<Uint8Array, HttpClientError.ResponseError>) => void): () => void {
    if (this.result !== undefined) {
      listener(this.result)
      return noop
    }
    if (this.listeners === undefined) {
      const listeners: Array<(result: Either.Either<Uint8Array, HttpClientError.ResponseError>) => void> = []
      this.listeners = listeners
      const settle = (result: Either.Either<Uint8Array, HttpClientError.ResponseError>) => {
        this.done()
        this.result = result
        for (const notify of listeners.splice(0)) notify(result)
      }
      const chunks: Array<Buffer> = []
      const body = this.source.body
      body.on("data", (chunk: Buffer) => chunks.push(chunk))
      body.once("end", () => settle(Either.right(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))))
      body.once("error", (cause) => settle(Either.left(this.decodeError(cause))))
    }
    const listeners = this.listeners
    listeners.push(listener)
    return () => {
      const i = listeners.indexOf(listener)
      if (i >= 0) listeners.splice(i, 1)
    }
  }

  /** The whole body; an interrupted read destroys the body so the connection is not left half-read. */
  private get bytes(): Effect.Effect<Uint8Array, HttpClientError.ResponseError> {
    return Effect.suspend(() => {
      if (this.result !== undefined) return fromResult(this.result)
      return Effect.async<Uint8Array, HttpClientError.ResponseError>((resume) => {
        const off = this.readAll((result) => resume(fromResult(result)))
        return Effect.sync(() => {
          off()
          if (this.result === undefined && this.listeners?.length === 0) this.source.body.destroy()
        })
      })
    })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (bytes) => {
      const copy = new Uint8Array(bytes.byteLength)
      copy.set(bytes)
      return copy.buffer
    })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(
      this.bytes,
      (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
    )
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(
      this.text,
      (text) =>
        Effect.try({
          try: (): unknown => text === "" ? null : JSON.parse(text),
          catch: (cause) => this.decodeError(cause)
        })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.bytes, (bytes) =>
      Effect.tryPromise({
        try: () => new Response(bytes, { headers: this.headers }).formData(),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromAsyncIterable<Uint8Array, HttpClientError.ResponseError>(
      this.source.body,
      (cause) => this.decodeError(cause)
    )
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const send = (
  dispatcher: Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  body: Body,
  contentType: string | undefined,
  timeoutMillis: number | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> =>
  Effect.async((resume) => {
    const controller = new AbortController()
    let response: UndiciResponse | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = () => {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    }
    if (timeoutMillis !== undefined) {
      timer = setTimeout(() => {
        timer = undefined
        const reason = new AttemptTimedOut(timeoutMillis)
        if (response === undefined) controller.abort(reason)
        else response.destroy(reason)
      }, timeoutMillis)
    }
    dispatcher.request({
      method: request.method,
      origin: url.origin,
      path: url.pathname + url.search,
      headers: contentType === undefined ? request.headers : { ...request.headers, "content-type": contentType },
      body,
      signal: controller.signal,
      // timeouts are the caller's (Effect.timeout and friends, or executeWithin), as in @effect/platform-node
      headersTimeout: 60 * 60 * 1000,
      bodyTimeout: 0
    }, (error, data) => {
      if (error !== null) {
        done()
        const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
        resume(Effect.fail(requestError(request, "Transport", reason instanceof AttemptTimedOut ? reason : error)))
      } else {
        const received = new UndiciResponse(request, data, done)
        response = received
        // With a time limit (CdfClient's path, which reads every body at once) the body is read before
        // resuming: one wake-up per request instead of two.
        if (timeoutMillis === undefined) resume(Effect.succeed(received))
        else received.readAll(() => resume(Effect.succeed(received)))
      }
    })
    return Effect.sync(() => {
      done()
      if (response === undefined) controller.abort()
      else response.destroy(undefined)
    })
  })

const execute = (
  dispatcher: Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  timeoutMillis: number | undefined
) => {
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (Either.isLeft(url)) return Effect.fail(requestError(request, "InvalidUrl", url.left))
  if (request.body._tag === "Empty" || request.body._tag === "Uint8Array") {
    const body = request.body._tag === "Empty" ? null : request.body.body
    return send(dispatcher, request, url.right, body, undefined, timeoutMillis)
  }
  return Effect.flatMap(
    convertBody(request),
    ({ body, contentType }) => send(dispatcher, request, url.right, body, contentType, timeoutMillis)
  )
}

/** An `HttpClient` straight over an undici `Dispatcher`: no per-request span, registry or web `Response`. */
export const make = (dispatcher: Dispatcher): HttpClient.HttpClient => {
  const client = HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) => Effect.flatMap(effect, (request) => execute(dispatcher, request, undefined)),
    Effect.succeed
  )
  const lean: Lean = { executeWithin: (request, millis) => execute(dispatcher, request, millis) }
  return register(client, lean)
}
