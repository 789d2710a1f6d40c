import { redactSample } from "@effect-cdf/core/Errors"
import * as Scrub from "@effect-cdf/core/Scrub"
import { FetchHttpClient, Headers, HttpClient } from "@effect/platform"
import type { HttpClientError } from "@effect/platform"
import { Effect, Option } from "effect"

/** How an attempt without a usable response failed. */
export type FailureKind =
  /** Provably before the request left: connection refused, DNS failure. */
  | "ConnectFailed"
  /** The attempt timed out; the request may have been sent. */
  | "Timeout"
  /** The connection broke after the request may have been sent, or the body could not be read. */
  | "ConnectionLost"
  /** Anything else the transport reported; the request may have been sent. */
  | "Other"
  /** The request could not be built (bad URL, body encoding): nothing was sent, and trying again won't help. */
  | "NotSent"

/** An attempt's failure. */
export interface Failure {
  readonly _tag: "Failure"
  readonly kind: FailureKind
  readonly description: string
}

// Error codes that can only happen before a single byte of the request was written.
const PRE_SEND = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"])
const LOST = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_ABORTED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT"
])

const readString = (u: object, key: string): string | undefined => {
  const value: unknown = Reflect.get(u, key)
  return typeof value === "string" ? value : undefined
}

/** The error codes and messages along a `cause` chain (and `AggregateError.errors`), to depth 10. */
export const causeChain = (root: unknown): ReadonlyArray<{ readonly code?: string; readonly message?: string }> => {
  const out: Array<{ code?: string; message?: string }> = []
  const seen = new Set<unknown>()
  const visit = (u: unknown, depth: number): void => {
    if (depth > 10 || typeof u !== "object" || u === null || seen.has(u)) return
    seen.add(u)
    const code = readString(u, "code")
    const message = readString(u, "message")
    out.push({ ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) })
    const errors: unknown = Reflect.get(u, "errors")
    if (Array.isArray(errors)) {
      for (const e of errors) visit(e, depth + 1)
    }
    visit(Reflect.get(u, "cause"), depth + 1)
  }
  visit(root, 0)
  return out
}

/**
 * Classifies a transport error of the platform's `HttpClient`. Only a chain whose every code says
 * "never connected" counts as `ConnectFailed`: one `ECONNRESET` anywhere makes it ambiguous.
 */
export const classify = (error: HttpClientError.HttpClientError): Failure => {
  if (error._tag === "ResponseError") {
    return { _tag: "Failure", kind: "ConnectionLost", description: `the response could not be read (${error.reason})` }
  }
  if (error.reason !== "Transport") {
    return { _tag: "Failure", kind: "NotSent", description: `the request could not be built (${error.reason})` }
  }
  const chain = causeChain(error.cause)
  const codes = chain.flatMap((link) => link.code === undefined ? [] : [link.code])
  const detail = chain.map((link) => link.message).find((m) => m !== undefined && m !== "fetch failed")
  const description = redactSample(detail ?? codes[0] ?? "transport error", 200)
  if (codes.length > 0 && codes.every((code) => PRE_SEND.has(code))) {
    return { _tag: "Failure", kind: "ConnectFailed", description }
  }
  if (codes.some((code) => LOST.has(code))) return { _tag: "Failure", kind: "ConnectionLost", description }
  return { _tag: "Failure", kind: "Other", description }
}

/** Gzip with the web `CompressionStream` (global in Node 20 and browsers), so nothing Node-only is imported. */
export const gzip = (bytes: Uint8Array): Effect.Effect<Uint8Array> =>
  Effect.promise(async () => {
    const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"))
    return new Uint8Array(await new Response(stream).arrayBuffer())
  })

const ALWAYS_REDACTED = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"]

/**
 * Runs `effect` with redirects off for the fetch client (the Node clients never follow them), with
 * credential headers redacted, and without the platform's own `http.client` span: that span ends with the
 * platform's error, which holds the request with its `authorization` header and body, and a tracer that
 * formats it would print them. The SDK opens its own attempt spans instead.
 */
export const guarded = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.serviceOption(FetchHttpClient.RequestInit).pipe(
    Effect.flatMap((init) =>
      effect.pipe(
        Effect.provideService(FetchHttpClient.RequestInit, {
          ...Option.getOrElse(init, () => ({})),
          redirect: "manual"
        }),
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, ...ALWAYS_REDACTED]),
        Effect.locally(HttpClient.currentTracerDisabledWhen, () => true)
      )
    )
  )

const decoder = new TextDecoder()

/** UTF-8 text of a body. */
export const utf8 = (bytes: Uint8Array): string => decoder.decode(bytes)

/** The secret values a value carries (`Redacted` strings, strings under secret-named keys): core's one path. */
export const secretValues = Scrub.secretsIn

/** `text` with the request's secrets cut out, by core's one scrubbing path (whole values, long enough). */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => Scrub.secrets(text, secrets)
