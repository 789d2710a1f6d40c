/**
 * The description of one CDF request: the operation it belongs to, where it goes, what it carries, how safe
 * it is to send twice, and what the answer looks like. `path` builds project-relative paths whose every
 * interpolated value is exactly one URL-encoded segment.
 *
 * @example
 * ```ts
 * import { CdfRequest } from "@effect-cdf/http"
 *
 * const externalId = "https://evil.example/x"
 * const p = CdfRequest.path`/function-apps/${externalId}/calls`
 * // p.value    === "/function-apps/https%3A%2F%2Fevil.example%2Fx/calls"
 * // p.template === "/function-apps/{}/calls"
 * ```
 *
 * @since 0.1.0
 */
import type { Headers } from "@effect/platform"
import type { Duration, Schema } from "effect"
import type { Safety } from "./Retry.js"

/** A path relative to the project, built with {@link path}. */
export interface Path {
  readonly _tag: "CdfPath"
  /** The encoded path, for example `/functions/123/calls`. */
  readonly value: string
  /** The path with each interpolated segment as `{}`, for spans: `/functions/{}/calls`. */
  readonly template: string
  /** Why the path cannot be used (a segment that is empty, `.` or `..`), if it cannot. */
  readonly invalid: string | undefined
}

/** Whether a value is a {@link Path}. */
export const isPath = (u: unknown): u is Path =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "CdfPath"

/**
 * A project-relative path: each interpolated value (an id, an external id) is encoded as one path segment
 * with `encodeURIComponent`, so `https://evil/x` or `../..` can never change the host or leave the project.
 * Empty, `.` and `..` segments are refused when the request runs (`InvalidInput`).
 */
export const path = (strings: TemplateStringsArray, ...segments: ReadonlyArray<string | number>): Path => {
  let value = strings[0] ?? ""
  let template = strings[0] ?? ""
  let invalid: string | undefined
  segments.forEach((segment, i) => {
    const raw = String(segment)
    if (raw === "" || raw === "." || raw === "..") {
      invalid ??= `a path segment may not be ${raw === "" ? "empty" : `"${raw}"`}`
    }
    value += encodeURIComponent(raw) + (strings[i + 1] ?? "")
    template += "{}" + (strings[i + 1] ?? "")
  })
  return { _tag: "CdfPath", value, template, invalid }
}

/** The HTTP methods the CDF API uses. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD"

/** A query parameter value; `undefined` leaves the parameter out, an array repeats it. */
export type QueryValue = string | number | boolean | ReadonlyArray<string | number | boolean> | undefined

/** Bytes to send as they are (never compressed), for example a zip to a Files upload URL. */
export interface Bytes {
  readonly data: Uint8Array
  readonly contentType: string
}

/** Where a request goes: a path relative to the project, or a URL the server handed back. */
export type Target =
  | {
    /** Relative to `{baseUrl}/api/v1/projects/{project}`; starts with `/`. Prefer {@link path}. */
    readonly path: string | Path
    readonly url?: undefined
  }
  | {
    /**
     * A URL the server handed back (a `Location` header, an upload URL). It is requested only when it has
     * the same origin (scheme, host and port) as the base URL; otherwise the request fails with
     * `UntrustedUrl` and no credential is sent. Relative URLs resolve against the base URL.
     */
    readonly url: string
    readonly path?: undefined
  }

/** What a request carries: a JSON value (gzip-compressed above the threshold), raw bytes, or nothing. */
export type Body =
  | { readonly body?: unknown; readonly bytes?: undefined }
  | { readonly bytes: Bytes; readonly body?: undefined }

/** The fields every request has. */
export interface Common {
  /** The operation, used as the span name: for example `cdf.Functions.call`. */
  readonly operation: string
  readonly method: Method
  /** How safe the operation is to send twice; decides what is retried (see `Retry.Safety`). */
  readonly safety: Safety
  readonly query?: Readonly<Record<string, QueryValue>> | undefined
  /** Extra headers, for example `prefer: respond-async`. `authorization` is always the client's own. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Send no credential and no CDF header: for a signed upload URL the Files API hands back, which is
   * usually on a storage host, not the CDF origin. Such a URL may be on another origin, but only over
   * `https` (or `http` on loopback); the token is never attached to it.
   */
  readonly anonymous?: boolean | undefined
  /** Overrides the client's `cdf-version` header, for example `20230101-beta` for Function Apps. */
  readonly cdfVersion?: string | undefined
  /**
   * How long the whole request may take, attempts and waits included, counted from when it starts. No
   * retry is scheduled past it and the last attempt's timeout is cut to what is left.
   */
  readonly deadline?: Duration.DurationInput | undefined
}

/** A request whose answer is read as it is (status, headers, bytes): `CdfClient.executeRaw`. */
export type Request = Common & Target & Body

/** A request whose 2xx answer is JSON decoded with `schema`: `CdfClient.execute`. */
export type JsonRequest<A, I> = Request & {
  /** The schema of a 2xx body; an empty body decodes as `undefined`. */
  readonly schema: Schema.Schema<A, I, never>
}

/** A paginated list: the schema is that of one item; `nextCursor` is passed back as `cursor`. */
export type PageRequest<A, I> = Request & {
  /** The schema of one item of `items`. */
  readonly item: Schema.Schema<A, I, never>
  /** Where the cursor goes: the JSON body (default for POST) or the query (default for GET). */
  readonly cursorIn?: "body" | "query" | undefined
}

/** How a request went: attempts made (the first included) and the total time spent waiting between them. */
export interface Metadata {
  readonly attempts: number
  readonly retryDelayMillis: number
}

/** A decoded value with its {@link Metadata}. */
export interface WithMetadata<A> extends Metadata {
  readonly value: A
}

/** A 2xx answer as it arrived. */
export interface RawResponse extends Metadata {
  readonly status: number
  /** Response headers, names in lower case. */
  readonly headers: Headers.Headers
  readonly body: Uint8Array
  /** The `x-request-id` header, when present. */
  readonly requestId: string | undefined
}
