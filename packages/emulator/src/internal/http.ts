import { HttpServerResponse } from "@effect/platform"
import { Context, Data, Effect, Either, ParseResult, Schema } from "effect"
import { gunzipSync } from "node:zlib"

/**
 * A reference to an item in `missing` / `duplicated`. `external_id` is how the real service spells an
 * unknown external id in `POST /functions/byids` (Cognite's integration test asserts that key).
 */
export type ItemRef = { readonly id: number } | { readonly externalId: string } | { readonly external_id: string }

/** A failure the API answers with its error envelope. */
export class ApiFailure extends Data.TaggedError("ApiFailure")<{
  readonly status: number
  readonly message: string
  readonly missing?: ReadonlyArray<ItemRef>
  readonly duplicated?: ReadonlyArray<ItemRef>
  readonly headers?: Readonly<Record<string, string>>
}> {}

/** 400 with a message. */
export const badRequest = (message: string) => new ApiFailure({ status: 400, message })
/** 400 naming the unknown items. */
export const missing = (items: ReadonlyArray<ItemRef>, what = "items") =>
  new ApiFailure({ status: 400, message: `Some ${what} were not found`, missing: items })
/** 404 with a message. */
export const notFound = (message: string) => new ApiFailure({ status: 404, message })
/** 409 naming the duplicated items. */
export const duplicated = (items: ReadonlyArray<ItemRef>, what = "external ids") =>
  new ApiFailure({ status: 409, message: `Duplicate ${what}`, duplicated: items })
/** 401. */
export const unauthorized = (message: string) => new ApiFailure({ status: 401, message })
/** 403. */
export const forbidden = (message: string) => new ApiFailure({ status: 403, message })
/** 429. */
export const tooManyRequests = (message: string) => new ApiFailure({ status: 429, message })

/** The JSON text of an error envelope: `{"error": {"code", "message", "missing"?, "duplicated"?}}`. */
export const envelopeText = (failure: ApiFailure): string =>
  JSON.stringify({
    error: {
      code: failure.status,
      message: failure.message,
      ...(failure.missing === undefined || failure.missing.length === 0 ? {} : { missing: failure.missing }),
      ...(failure.duplicated === undefined || failure.duplicated.length === 0 ? {} : { duplicated: failure.duplicated })
    }
  })

/** The response for an `ApiFailure`. */
export const failureResponse = (failure: ApiFailure): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(envelopeText(failure), {
    status: failure.status,
    contentType: "application/json",
    ...(failure.headers === undefined ? {} : { headers: failure.headers })
  })

/** A JSON response of a value already in its wire form. */
export const jsonResponse = (body: unknown, status = 200, headers?: Readonly<Record<string, string>>) =>
  HttpServerResponse.text(JSON.stringify(body), {
    status,
    contentType: "application/json",
    ...(headers === undefined ? {} : { headers })
  })

/** Encodes `value` with `schema` and answers it as JSON; an encoding failure is a defect of the emulator. */
export const encoded = <A, I>(schema: Schema.Schema<A, I>, value: A, status = 200) =>
  jsonResponse(Schema.encodeSync(schema)(value), status)

/** The request body after `Content-Encoding` was undone. */
export class RawBody extends Context.Tag("@effect-cdf/emulator/internal/RawBody")<RawBody, Uint8Array>() {}

/** Undoes `Content-Encoding: gzip` (and identity); anything else is a 400. */
export const decodeContent = (bytes: Uint8Array, encoding: string | undefined, maxBytes: number) => {
  const enc = (encoding ?? "identity").trim().toLowerCase()
  if (enc === "" || enc === "identity") return Either.right(bytes)
  if (enc === "gzip" || enc === "x-gzip") {
    try {
      return Either.right(new Uint8Array(gunzipSync(bytes, { maxOutputLength: maxBytes })))
    } catch (e) {
      // The output is capped too: a small body that inflates past the cap is as large as a large one.
      return Either.left(
        e instanceof RangeError
          ? new ApiFailure({ status: 413, message: `The request body is over the limit of ${maxBytes} bytes` })
          : badRequest(`The gzip request body could not be decompressed: ${String(e)}`)
      )
    }
  }
  return Either.left(new ApiFailure({ status: 415, message: `Unsupported Content-Encoding: ${enc}` }))
}

const formatParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, 5)
    .map((issue) => issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)
    .join("; ")

/** How deeply a request body's JSON may nest. */
export const MAX_JSON_DEPTH = 512

/** Whether JSON text nests arrays and objects deeper than `max` (a linear scan, no recursion). */
export const nestsDeeperThan = (text: string, max: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/** Parses the body as JSON (an empty body is `{}`) and decodes it with `schema`; failures are 400s. */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.flatMap(RawBody, (bytes) => {
    let json: unknown = {}
    if (bytes.length > 0) {
      const text = new TextDecoder().decode(bytes)
      // Deep nesting would overflow the stack of whatever walks the value later: refuse it up front.
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
        return Effect.fail(badRequest(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`))
      }
      try {
        json = JSON.parse(text)
      } catch {
        return Effect.fail(badRequest("The request body is not valid JSON"))
      }
    }
    return Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "ignore" })(json).pipe(
      Effect.mapError((error) => badRequest(`Invalid request body: ${formatParseError(error)}`))
    )
  })

/** Decodes a value (not a body) with `schema`; failures are 400s naming `what`. */
export const decodeValue = <A, I>(schema: Schema.Schema<A, I>, value: unknown, what: string) =>
  Schema.decodeUnknown(schema, { errors: "all" })(value).pipe(
    Effect.mapError((error) => badRequest(`Invalid ${what}: ${formatParseError(error)}`))
  )

/** A positive integer path parameter, or a 400. */
export const intParam = (value: string | undefined, name: string) => {
  const n = value === undefined ? NaN : Number(value)
  return Number.isSafeInteger(n) && n >= 1 && /^\d+$/.test(value ?? "")
    ? Effect.succeed(n)
    : Effect.fail(badRequest(`${name} must be an integer from 1 to 2^53-1, got "${value ?? ""}"`))
}

/** The UTF-8 size of a value's JSON text. */
export const jsonSize = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "", "utf8")
