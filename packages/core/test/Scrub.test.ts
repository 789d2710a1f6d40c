/**
 * One scrubbing path for errors built from server or user data: a server that echoes a request's secret
 * in its message, `x-request-id`, `missing` or `duplicated`, and hostile bodies nested thousands deep,
 * always end as typed errors that carry no secret and that every channel can print.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Either, FastCheck as fc, Schema } from "effect"
import * as ErrorEnvelope from "../src/ErrorEnvelope.js"
import * as Errors from "../src/Errors.js"
import * as FunctionApp from "../src/FunctionApp.js"
import * as FunctionCall from "../src/FunctionCall.js"
import * as Items from "../src/Items.js"
import * as Scrub from "../src/Scrub.js"

const CANARY = "canary-nonce-9f3b2c71"

/** Every way an error is printed. */
const channels = (error: Errors.CdfError) => [
  error.message,
  String(error),
  JSON.stringify(error),
  Cause.pretty(Cause.fail(error))
]

describe("a server echoing the request's secret", () => {
  it("apiError cuts it out of the message, the request id and the items named", () => {
    for (const status of [400, 401, 403, 404, 409, 422, 429, 500, 418]) {
      const error = Errors.apiError({
        status,
        message: `bad nonce ${CANARY}`,
        requestId: CANARY,
        missing: [new ErrorEnvelope.ItemReference({ externalId: `x-${CANARY}` })],
        duplicated: [new ErrorEnvelope.ItemReference({ externalId: CANARY })],
        secrets: [CANARY]
      })
      for (const text of channels(error)) expect(text).not.toContain(CANARY)
    }
  })

  it("a request id that does not look like one is dropped; a real one is kept", () => {
    const odd = Errors.apiError({ status: 500, message: "x", requestId: "Bearer abc def\n" })
    expect(odd.requestId).toBeUndefined()
    const fine = Errors.apiError({ status: 500, message: "x", requestId: "8f1c-22ab:1" })
    expect(fine.requestId).toBe("8f1c-22ab:1")
  })

  it("decodeError cuts the request's secrets out of its issue, sample and request id", () => {
    const failure = Either.flip(Schema.decodeUnknownEither(FunctionCall.FunctionCall)({ id: CANARY, echo: CANARY }))
    const error = Errors.decodeError("call", Either.getOrThrow(failure), { id: CANARY, echo: CANARY }, {
      requestId: CANARY,
      secrets: [CANARY]
    })
    for (const text of channels(error)) expect(text).not.toContain(CANARY)
  })

  it("Scrub.error rebuilds any error with the secrets cut out of every string field", () => {
    const errors: ReadonlyArray<Errors.CdfError> = [
      new Errors.DecodeError({ subject: "s", issue: `i ${CANARY}`, sample: `{"echo":"${CANARY}"}`, requestId: CANARY }),
      new Errors.NotFound({
        status: 404,
        message: CANARY,
        missing: [new ErrorEnvelope.ItemReference({ externalId: CANARY })]
      }),
      new Errors.InvalidInput({ subject: "secret", issue: `Expected Redacted, actual "${CANARY}"` }),
      new Errors.TransportError({
        reason: "Other",
        request: new Errors.RequestDescription({ method: "GET", path: `/x/${CANARY}` }),
        description: CANARY
      })
    ]
    for (const error of errors) {
      const scrubbed = Scrub.error(error, [CANARY])
      expect(scrubbed._tag).toBe(error._tag)
      for (const text of channels(scrubbed)) expect(text).not.toContain(CANARY)
    }
  })

  it("short values are not searched for: they would mangle words", () => {
    expect(Scrub.text("connect", ["t"])).toBe("connect")
  })
})

/** `leaf` nested `depth` levels deep in arrays or objects. */
const nest = (depth: number, leaf: unknown, objects: boolean): unknown => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = objects && i % 2 === 0 ? { a: value } : [value]
  return value
}

const targets: ReadonlyArray<readonly [string, Schema.Schema.AnyNoContext]> = [
  ["FunctionCall", FunctionCall.FunctionCall],
  ["FunctionCallPage", Items.ItemsWithCursor(FunctionCall.FunctionCall)],
  ["FunctionCallResponse", FunctionCall.FunctionCallResponse],
  ["FunctionAppCallResult", FunctionApp.FunctionAppCallResult],
  ["AppEnvelope", FunctionApp.AppEnvelope],
  ["ErrorEnvelope", ErrorEnvelope.ErrorEnvelope]
]

describe("hostile bodies nested deep", () => {
  it("5,000 levels of arrays end as a typed DecodeError every channel can print", () => {
    const deep = nest(5_000, 1, false)
    for (const [name, schema] of targets) {
      const body = { id: deep, status: deep, startTime: 1, functionId: 7, response: deep, error: deep }
      const result = Schema.decodeUnknownEither(schema)(body)
      if (Either.isRight(result)) continue
      const error = Errors.decodeError(name, result.left, body)
      expect(error._tag).toBe("DecodeError")
      for (const text of channels(error)) expect(typeof text).toBe("string")
    }
  })

  it("property: any depth up to 20,000, anywhere in the body, is a typed error and never a throw (500 bodies)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.boolean(),
        fc.constantFrom(...targets),
        fc.constantFrom("id", "status", "response", "error", "items", "data", "message"),
        (depth, objects, [name, schema], key) => {
          const body: Record<string, unknown> = { id: 1, status: "Running", startTime: 1, functionId: 7 }
          body[key] = nest(depth, CANARY, objects)
          const result = Schema.decodeUnknownEither(schema)(body)
          if (Either.isRight(result)) return true
          const error = Errors.decodeError(name, result.left, body, { secrets: [CANARY] })
          for (const text of channels(error)) expect(text).not.toContain(CANARY)
          expect(Scrub.sample(body).length).toBeLessThan(400)
          return error._tag === "DecodeError"
        }
      ),
      { numRuns: 500, seed: 20261201 }
    )
  })
})

describe("scrubbing whole values only", () => {
  it("a short secret is cut where it stands alone, never inside a word", () => {
    // before: COGNITE_TOKEN=t printed "connec<redacted>"; a 4-letter secret cut words apart
    expect(Scrub.secrets("could not connect to port 1", ["t"])).toBe("could not connect to port 1")
    expect(Scrub.secrets("could not connect to port 1", ["conn"])).toBe("could not connect to port 1")
    expect(Scrub.secrets("the token abcd1234 was refused", ["abcd1234"])).toBe("the token <redacted> was refused")
    expect(Scrub.secrets("{\"nonce\":\"abcd1234\"}", ["abcd1234"])).toBe("{\"nonce\":\"<redacted>\"}")
  })

  it("a long secret is cut wherever it occurs, even glued to other text", () => {
    const secret = "s3cr3t-value-0123456789"
    expect(Scrub.secrets(`prefix${secret}suffix`, [secret])).toBe("prefix<redacted>suffix")
  })

  it("text that was not taken from a secret is left as it was", () => {
    fc.assert(fc.property(fc.string(), (text) => {
      expect(Scrub.secrets(text, [])).toBe(text)
      expect(Scrub.secrets(text, ["x"])).toBe(text)
    }))
  })
})
