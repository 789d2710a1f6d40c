/**
 * The one scrubbing path for everything built from server or user data: text, request ids, samples and
 * whole errors. A server may echo what it was sent (a nonce, a client secret) in any field; the request's
 * own secrets are cut out of every string field of an error, and secret-looking parts (bearer tokens,
 * values under secret-named keys) are redacted.
 *
 * @example
 * ```ts
 * import { Errors, Scrub } from "@effect-cdf/core"
 *
 * const safe = Scrub.error(new Errors.DecodeError({ subject: "x", issue: "nonce n-123456", sample: "" }), ["n-123456"])
 * ```
 *
 * @since 0.1.0
 */
import { Either, Schema } from "effect"
import { CdfError } from "./Errors.js"
import {
  cutSecrets,
  MAX_DEPTH,
  nestsDeeperThan,
  plausibleRequestId,
  redactSample,
  scrubText,
  secretsIn
} from "./internal/redact.js"

export {
  /**
   * Text with the given secrets cut out, and nothing else changed: a short secret only where it stands
   * as a whole value, one shorter than 4 characters never.
   */
  cutSecrets as secrets,
  /** Whether a value nests deeper than a bound (default `MAX_DEPTH`), checked without recursion. */
  nestsDeeperThan,
  /** A request id if it looks like one and carries no known secret, else `undefined`. */
  plausibleRequestId as requestId,
  /** A short, redacted, depth-bounded description of a value. */
  redactSample as sample,
  /** Text with the given secrets and secret-looking parts cut out. */
  scrubText as text,
  /** The secret values a value carries: `Redacted` strings and strings under secret-named keys. */
  secretsIn
}

/** How deep values from servers and users are looked into. */
export const maxDepth = MAX_DEPTH

const encodeError = Schema.encodeEither(CdfError)
const decodeError = Schema.decodeUnknownEither(CdfError)

const scrubStrings = (value: unknown, secrets: ReadonlyArray<string>, depth: number): unknown => {
  if (typeof value === "string") return scrubText(value, secrets)
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return value
  if (Array.isArray(value)) return value.map((item) => scrubStrings(item, secrets, depth + 1))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubStrings(v, secrets, depth + 1)]))
}

/**
 * The error with `secrets` cut out of every string field (messages, request ids, item references,
 * samples, reasons): the same error, rebuilt through its schema. Should the scrubbed fields no longer
 * fit the schema (a secret equal to a literal such as `Timeout`), the error is returned as it was.
 */
export const error = <E extends CdfError>(error: E, secrets: ReadonlyArray<string>): E => {
  if (secrets.every((secret) => secret.length === 0)) return error
  const sameKind = (rebuilt: CdfError): rebuilt is E => rebuilt._tag === error._tag
  return Either.match(encodeError(error), {
    onLeft: () => error,
    onRight: (encoded) =>
      Either.match(decodeError(scrubStrings(encoded, secrets, 0)), {
        onLeft: () => error,
        onRight: (rebuilt) => sameKind(rebuilt) ? rebuilt : error
      })
  })
}
