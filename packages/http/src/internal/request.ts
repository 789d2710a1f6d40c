import { InvalidInput, RequestDescription, UntrustedUrl } from "@effect-cdf/core/Errors"
import { HttpClientRequest } from "@effect/platform"
import { Effect, Either, Redacted } from "effect"
import type * as CdfConfig from "../CdfConfig.js"
import type * as CdfRequest from "../CdfRequest.js"
import { isPath } from "../CdfRequest.js"
import { gzip } from "./gzip.js"
import { secretValues } from "./transport.js"

/** A request ready to send: built once, sent as many times as its retries allow. */
export interface Prepared {
  readonly request: HttpClientRequest.HttpClientRequest
  /** Sent without credentials (a signed upload URL). */
  readonly anonymous: boolean
  /** What errors say about the request (method and path, never the query); built on first use. */
  readonly description: RequestDescription
  readonly template: string
  /**
   * The secrets the request carries, for scrubbing what the server echoes: `Redacted` values of the body
   * (kept as they were written), string values under secret-like keys, and the tokens sent. Only computed
   * when an error is built, so a success never walks the body.
   */
  readonly secrets: () => ReadonlyArray<string>
  /** Records a token sent with the request. */
  readonly sentToken: (token: string) => void
}

const invalid = (subject: string, issue: string) => Either.left(new InvalidInput({ subject, issue }))

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"])

/** The URL of a request and its template for spans; refuses what leaves the project or the origin. */
export const resolveTarget = (
  config: CdfConfig.CdfConfig,
  projectPath: string,
  request: CdfRequest.Request
): Either.Either<{ readonly url: URL; readonly template: string }, InvalidInput | UntrustedUrl> => {
  if (request.url !== undefined) {
    let url: URL
    try {
      url = new URL(request.url, `${config.baseUrl}/`)
    } catch {
      return invalid("url", "not a URL")
    }
    const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname))
    if (url.origin !== config.origin && !(request.anonymous === true && secure)) {
      return Either.left(new UntrustedUrl({ origin: url.origin, expectedOrigin: config.origin }))
    }
    if (url.username !== "" || url.password !== "") return invalid("url", "a URL may not carry credentials")
    return Either.right({ url, template: url.pathname })
  }
  const target = request.path
  let value: string
  let template: string
  if (isPath(target)) {
    if (target.invalid !== undefined) return invalid("path", target.invalid)
    value = target.value
    template = target.template
  } else {
    if (!target.startsWith("/")) return invalid("path", "a path starts with / and is relative to the project")
    if (/[?#]/.test(target)) return invalid("path", "put query parameters in `query`")
    value = target
    template = target
  }
  let url: URL
  try {
    url = new URL(config.projectUrl + value)
  } catch {
    return invalid("path", "not a valid path")
  }
  // Dot segments (even percent-encoded ones) are resolved by the URL parser: refuse what leaves the project.
  if (url.origin !== config.origin || (url.pathname !== projectPath && !url.pathname.startsWith(projectPath + "/"))) {
    return invalid("path", "the path leaves the project")
  }
  return Either.right({ url, template })
}

const appendQuery = (url: URL, query: Readonly<Record<string, CdfRequest.QueryValue>> | undefined) => {
  if (query === undefined) return
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    const values: ReadonlyArray<string | number | boolean> = Array.isArray(value) ? value : [value]
    for (const v of values) url.searchParams.append(key, String(v))
  }
}

/**
 * JSON text of a body; `Redacted` values are written as their value (and recorded in `secrets`), so a
 * caller can keep a nonce redacted all the way to the wire.
 */
const jsonText = (body: unknown, secrets: Array<string>): Either.Either<string, string> => {
  try {
    // A replacer costs a call per value: only a body that holds a `Redacted` (which writes itself as
    // "<redacted>") is written again with one.
    const plain = JSON.stringify(body)
    if (plain === undefined) return Either.left("the body is not JSON")
    if (!plain.includes("\"<redacted>\"")) return Either.right(plain)
    const text = JSON.stringify(body, function(this: unknown, key: string, value: unknown) {
      const original: unknown = typeof this === "object" && this !== null ? Reflect.get(this, key) : value
      if (Redacted.isRedacted(original)) {
        const secret: unknown = Redacted.value(original)
        if (typeof secret === "string") secrets.push(secret)
        return secret
      }
      return value
    })
    return text === undefined ? Either.left("the body is not JSON") : Either.right(text)
  } catch (error) {
    return Either.left(`the body cannot be written as JSON (${error instanceof Error ? error.name : "error"})`)
  }
}

const encoder = new TextEncoder()

/** Builds the platform request once: URL, CDF headers, the JSON body (gzipped above the threshold). */
export const prepare = (
  config: CdfConfig.CdfConfig,
  projectPath: string,
  request: CdfRequest.Request
): Effect.Effect<Prepared, InvalidInput | UntrustedUrl> => {
  const target = resolveTarget(config, projectPath, request)
  if (Either.isLeft(target)) return Effect.fail(target.left)
  const { template, url } = target.right
  appendQuery(url, request.query)
  const anonymous = request.anonymous === true
  const built = HttpClientRequest.make(request.method)(url.search === "" ? url.origin + url.pathname : url, {
    headers: anonymous ? { ...request.headers } : {
      ...request.headers,
      accept: "application/json",
      "cdf-version": request.cdfVersion ?? config.cdfVersion,
      "x-cdp-sdk": config.sdkHeader,
      "x-cdp-app": config.appName
    }
  })
  const structural: Array<string> = []
  const tokens: Array<string> = []
  let secrets: ReadonlyArray<string> | undefined
  let description: RequestDescription | undefined
  const finish = (sent: HttpClientRequest.HttpClientRequest): Prepared => ({
    request: sent,
    anonymous,
    // a Schema class validates its fields: only errors need it, so a success never pays for it
    get description() {
      return description ??= new RequestDescription({ method: request.method, path: url.pathname })
    },
    template,
    secrets: () => {
      secrets ??= [...structural, ...secretValues(request.body)]
      return tokens.length === 0 ? secrets : [...secrets, ...tokens]
    },
    sentToken: (token) => {
      if (!tokens.includes(token)) tokens.push(token)
    }
  })
  if (request.bytes !== undefined) {
    return Effect.succeed(
      finish(HttpClientRequest.bodyUint8Array(built, request.bytes.data, request.bytes.contentType))
    )
  }
  if (request.body === undefined) return Effect.succeed(finish(built))
  const text = jsonText(request.body, structural)
  if (Either.isLeft(text)) return Effect.fail(new InvalidInput({ subject: "request body", issue: text.left }))
  const bytes = encoder.encode(text.right)
  if (bytes.length <= config.gzipThresholdBytes) {
    return Effect.succeed(finish(HttpClientRequest.bodyUint8Array(built, bytes, "application/json")))
  }
  return Effect.map(gzip(bytes), (compressed) =>
    finish(
      HttpClientRequest.setHeader(
        HttpClientRequest.bodyUint8Array(built, compressed, "application/json"),
        "content-encoding",
        "gzip"
      )
    ))
}
