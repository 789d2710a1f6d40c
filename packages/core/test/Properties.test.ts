/**
 * Property tests: encode/decode round trips for every resource schema, and hostile input that must only
 * ever produce typed decode failures.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, ParseResult, Schema } from "effect"
import * as CogniteFunction from "../src/CogniteFunction.js"
import * as ErrorEnvelope from "../src/ErrorEnvelope.js"
import * as Errors from "../src/Errors.js"
import * as Files from "../src/Files.js"
import * as FunctionApp from "../src/FunctionApp.js"
import * as FunctionCall from "../src/FunctionCall.js"
import * as FunctionSchedule from "../src/FunctionSchedule.js"
import * as FunctionsLimits from "../src/FunctionsLimits.js"
import * as Items from "../src/Items.js"
import * as Session from "../src/Session.js"

const resources: ReadonlyArray<readonly [string, Schema.Schema.AnyNoContext]> = [
  ["CogniteFunction", CogniteFunction.CogniteFunction],
  ["FunctionWrite", CogniteFunction.FunctionWrite],
  ["FunctionFilter", CogniteFunction.FunctionFilter],
  ["FunctionListRequest", CogniteFunction.FunctionListRequest],
  ["FunctionCall", FunctionCall.FunctionCall],
  ["CallFunctionRequest", FunctionCall.CallFunctionRequest],
  ["FunctionCallLogs", FunctionCall.FunctionCallLogs],
  ["FunctionCallResponse", FunctionCall.FunctionCallResponse],
  ["FunctionCallListRequest", FunctionCall.FunctionCallListRequest],
  ["CallHandle", FunctionCall.CallHandle],
  ["FunctionCallPage", Items.ItemsWithCursor(FunctionCall.FunctionCall)],
  ["FunctionSchedule", FunctionSchedule.FunctionSchedule],
  ["FunctionScheduleWrite", FunctionSchedule.FunctionScheduleWrite],
  ["FunctionScheduleListRequest", FunctionSchedule.FunctionScheduleListRequest],
  ["FunctionScheduleInputData", FunctionSchedule.FunctionScheduleInputData],
  ["FunctionsLimits", FunctionsLimits.FunctionsLimits],
  ["FunctionsStatus", FunctionsLimits.FunctionsStatus],
  ["CreateSessionRequest", Session.CreateSessionRequest],
  ["CreatedSession", Session.CreatedSession],
  ["Session", Session.Session],
  ["FunctionAppCallRequest", FunctionApp.FunctionAppCallRequest],
  ["FunctionAppCallResult", FunctionApp.FunctionAppCallResult],
  ["AppEnvelope", FunctionApp.AppEnvelope],
  ["FunctionIdentifiersRequest", Items.FunctionIdentifiersRequest],
  ["CallIdsRequest", Items.CallIdsRequest],
  ["ErrorEnvelope", ErrorEnvelope.ErrorEnvelope],
  ["FileUploadTicket", Files.FileUploadTicket],
  ["CdfError", Errors.CdfError]
]

const RUNS = Number(process.env.RUNS ?? 1_000)

describe("round trips", () => {
  for (const [name, schema] of resources) {
    it(`${name}: decode(encode(x)) encodes to the same wire value (${RUNS} values)`, () => {
      const encode = Schema.encodeSync(schema)
      const decode = Schema.decodeUnknownSync(schema)
      const is = Schema.is(schema)
      fc.assert(
        fc.property(Arbitrary.make(schema), (value) => {
          const wire = encode(value)
          // the wire value survives JSON, as it does on the network
          const json = JSON.parse(JSON.stringify(wire))
          const back = decode(json)
          expect(is(back)).toBe(true)
          expect(JSON.parse(JSON.stringify(encode(back)))).toStrictEqual(json)
        }),
        { numRuns: RUNS, seed: 42 }
      )
    })
  }
})

// ---------------------------------------------------------------------------------------------------------
// hostile input
// ---------------------------------------------------------------------------------------------------------

const deep = (depth: number): unknown => {
  let value: unknown = { leaf: true }
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { nested: value } : [value]
  return value
}

const hostileScalar = fc.oneof(
  fc.constantFrom(
    2 ** 53,
    2 ** 53 + 2,
    -1,
    0,
    1e308,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "",
    "Queued",
    "QUEUED",
    "running",
    "Cancelled",
    null,
    undefined,
    true,
    "9007199254740993",
    "x".repeat(10_000)
  ),
  fc.anything({ maxDepth: 2 }),
  fc.integer({ min: 0, max: 200 }).map(deep)
)

/** A valid wire value of the schema, then damaged: a field removed, retyped, a huge number, extra keys. */
const mutated = (schema: Schema.Schema.AnyNoContext): fc.Arbitrary<unknown> =>
  fc.tuple(Arbitrary.make(schema), fc.nat(), hostileScalar, fc.constantFrom("remove", "retype", "extra", "wrap"))
    .map(([value, pick, scalar, how]) => {
      const wire: unknown = JSON.parse(JSON.stringify(Schema.encodeSync(schema)(value)))
      if (typeof wire !== "object" || wire === null || Array.isArray(wire)) return scalar
      const copy: Record<string, unknown> = { ...wire }
      const keys = Object.keys(copy)
      const key = keys.length === 0 ? "status" : keys[pick % keys.length]
      switch (how) {
        case "remove":
          delete copy[key]
          return copy
        case "retype":
          copy[key] = scalar
          return copy
        case "extra":
          return { ...copy, [`extra${pick}`]: scalar, __proto__x: scalar }
        default:
          return { items: [copy, scalar] }
      }
    })

describe("hostile input", () => {
  it("10,000+ damaged and random inputs produce only typed decode failures, never a throw", () => {
    let cases = 0
    let failures = 0
    for (const [name, schema] of resources) {
      const decode = Schema.decodeUnknownEither(schema)
      fc.assert(
        fc.property(fc.oneof(mutated(schema), hostileScalar), (input) => {
          cases++
          const result = decode(input)
          if (Either.isLeft(result)) {
            failures++
            expect(ParseResult.isParseError(result.left)).toBe(true)
            const typed = Errors.decodeError(name, result.left, input)
            expect(typed._tag).toBe("DecodeError")
            expect(typed.message.length).toBeGreaterThan(0)
            expect(typed.sample.length).toBeLessThan(300)
          }
        }),
        { numRuns: 400, seed: 7 }
      )
    }
    expect(cases).toBeGreaterThanOrEqual(10_000)
    // most damaged inputs must be rejected: a decoder that accepts everything proves nothing
    expect(failures / cases).toBeGreaterThan(0.5)
  })

  it("an unknown call status decodes, is reported unknown and is never terminal", () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !["Running", "Completed", "Failed", "Timeout"].includes(s)), (status) => {
        const call = Schema.decodeUnknownSync(FunctionCall.FunctionCall)({
          id: 1,
          functionId: 2,
          startTime: 3,
          status
        })
        expect(call.status).toBe(status)
        expect(FunctionCall.isTerminal(call.status)).toBe(false)
        expect(FunctionCall.isUnknownStatus(call.status)).toBe(true)
      }),
      { numRuns: 1_000, seed: 3 }
    )
  })
})
