/** Boundary tests at each limit of the API. */
import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted, Schema } from "effect"
import * as CogniteFunction from "../src/CogniteFunction.js"
import * as FunctionApp from "../src/FunctionApp.js"
import * as FunctionSchedule from "../src/FunctionSchedule.js"
import * as Ids from "../src/Ids.js"
import * as Items from "../src/Items.js"

const ok = (schema: Schema.Schema.AnyNoContext, value: unknown) =>
  expect(Either.isRight(Schema.decodeUnknownEither(schema)(value))).toBe(true)

/** Fails, and the message says why (the `because` text must appear in it). */
const rejects = (schema: Schema.Schema.AnyNoContext, value: unknown, because: string) => {
  const result = Schema.decodeUnknownEither(schema)(value)
  if (Either.isRight(result)) throw new Error(`accepted ${JSON.stringify(value).slice(0, 100)}`)
  expect(result.left.message).toContain(because)
}

const fn = (patch: Record<string, unknown>) => ({ name: "f", fileId: 1, ...patch })
const secrets = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`s-${i}`, "v"]))
const schedule = (patch: Record<string, unknown>) => ({
  name: "s",
  cronExpression: "*/5 * * * *",
  functionId: 1,
  ...patch
})

describe("ids", () => {
  for (const schema of [Ids.FunctionId, Ids.CallId, Ids.ScheduleId, Ids.SessionId, Ids.FileId]) {
    it(`${String(schema.ast)}: 1 and 2^53-1 pass, 0, 2^53, fractions and strings fail`, () => {
      rejects(schema, 0, "an internal id is an integer from 1 to 2^53-1")
      ok(schema, 1)
      ok(schema, 2 ** 53 - 1)
      rejects(schema, 2 ** 53, "")
      rejects(schema, 1.5, "")
      rejects(schema, "1", "")
    })
  }
  it("external ids are 1..255 characters", () => {
    rejects(Ids.ExternalId, "", "at least 1 character")
    ok(Ids.ExternalId, "x")
    ok(Ids.ExternalId, "x".repeat(255))
    rejects(Ids.ExternalId, "x".repeat(256), "at most 255 characters")
  })
})

describe("function create", () => {
  it("name is 1..140 characters", () => {
    rejects(CogniteFunction.FunctionWrite, fn({ name: "" }), "at least 1 character")
    ok(CogniteFunction.FunctionWrite, fn({ name: "n".repeat(140) }))
    rejects(CogniteFunction.FunctionWrite, fn({ name: "n".repeat(141) }), "at most 140 characters")
  })
  it("description <= 500, owner <= 128", () => {
    ok(CogniteFunction.FunctionWrite, fn({ description: "d".repeat(500), owner: "o".repeat(128) }))
    rejects(CogniteFunction.FunctionWrite, fn({ description: "d".repeat(501) }), "at most 500")
    rejects(CogniteFunction.FunctionWrite, fn({ owner: "o".repeat(129) }), "at most 128")
  })
  it("functionPath is a relative POSIX path to a .py file of at most 500 characters", () => {
    ok(CogniteFunction.FunctionWrite, fn({ functionPath: "handler.py" }))
    ok(CogniteFunction.FunctionWrite, fn({ functionPath: "my/deep/handler.py" }))
    ok(CogniteFunction.FunctionWrite, fn({ functionPath: `${"a".repeat(497)}.py` }))
    rejects(CogniteFunction.FunctionWrite, fn({ functionPath: `${"a".repeat(498)}.py` }), "at most 500")
    rejects(CogniteFunction.FunctionWrite, fn({ functionPath: "handler.js" }), "ending in .py")
    rejects(CogniteFunction.FunctionWrite, fn({ functionPath: "my\\handler.py" }), "POSIX")
    rejects(CogniteFunction.FunctionWrite, fn({ functionPath: "/abs/handler.py" }), "relative")
    rejects(CogniteFunction.FunctionWrite, fn({ functionPath: "../handler.py" }), "..")
  })
  it("at most 30 secrets, names [a-z0-9-]{1,15}, not reserved, values kept Redacted", () => {
    const decoded = Schema.decodeUnknownSync(CogniteFunction.FunctionWrite)(fn({ secrets: secrets(30) }))
    expect(Redacted.isRedacted(decoded.secrets?.["s-0"])).toBe(true)
    expect(String(decoded.secrets?.["s-0"])).toBe("<redacted>")
    rejects(CogniteFunction.FunctionWrite, fn({ secrets: secrets(31) }), "at most 30 secrets")
    rejects(CogniteFunction.FunctionWrite, fn({ secrets: { "Upper": "v" } }), "lowercase letters")
    rejects(CogniteFunction.FunctionWrite, fn({ secrets: { "sixteen-chars-xx": "v" } }), "1..15 lowercase")
    ok(CogniteFunction.FunctionWrite, fn({ secrets: { "fifteen-chars-x": "v" } }))
    rejects(CogniteFunction.FunctionWrite, fn({ secrets: { token: "v" } }), "reserved")
    rejects(CogniteFunction.FunctionWrite, fn({ secrets: { big: "v".repeat(25 * 1024 + 1) } }), "25 kB")
    // the wire form is the plain value: it is written to the API and nowhere else
    expect(Schema.encodeSync(CogniteFunction.FunctionWrite)(decoded).secrets?.["s-0"]).toBe("v")
  })
  it("at most 100 env vars with names of letters, digits and underscores", () => {
    const vars = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`V_${i}`, "x"]))
    ok(CogniteFunction.FunctionWrite, fn({ envVars: vars(100) }))
    rejects(CogniteFunction.FunctionWrite, fn({ envVars: vars(101) }), "at most 100 env vars")
    rejects(CogniteFunction.FunctionWrite, fn({ envVars: { "A-B": "x" } }), "letters, digits and underscores")
  })
  it("metadata: 16 pairs, keys 32 bytes, values 512 bytes, 4096 bytes in all", () => {
    const meta = (n: number, v = "x") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, v]))
    ok(CogniteFunction.FunctionWrite, fn({ metadata: meta(16) }))
    rejects(CogniteFunction.FunctionWrite, fn({ metadata: meta(17) }), "at most 16 pairs")
    ok(CogniteFunction.FunctionWrite, fn({ metadata: { ["k".repeat(32)]: "v".repeat(512) } }))
    rejects(CogniteFunction.FunctionWrite, fn({ metadata: { ["k".repeat(33)]: "v" } }), "over 32 bytes")
    rejects(CogniteFunction.FunctionWrite, fn({ metadata: { k: "v".repeat(513) } }), "over 512 bytes")
    // multi-byte characters count in bytes: 171 x 3 bytes = 513
    rejects(CogniteFunction.FunctionWrite, fn({ metadata: { k: "€".repeat(171) } }), "over 512 bytes")
    rejects(CogniteFunction.FunctionWrite, fn({ metadata: meta(9, "v".repeat(500)) }), "at most 4096")
  })
  it("runtime is one of py310..py314; cpu and memory are positive numbers", () => {
    ok(CogniteFunction.FunctionWrite, fn({ runtime: "py313", cpu: 0.25, memory: 1.5 }))
    rejects(CogniteFunction.FunctionWrite, fn({ runtime: "py39" }), "py310")
    rejects(CogniteFunction.FunctionWrite, fn({ cpu: 0 }), "")
    rejects(CogniteFunction.FunctionWrite, fn({ memory: "1" }), "")
  })
  it("a create request carries exactly one function", () => {
    const request = Items.ItemsRequest(CogniteFunction.FunctionWrite, 1)
    rejects(request, { items: [] }, "")
    ok(request, { items: [fn({})] })
    rejects(request, { items: [fn({}), fn({})] }, "")
  })
  it("byids and delete take 1..10 functions, calls byids 1..10,000", () => {
    const ids = (n: number) => ({ items: Array.from({ length: n }, (_, i) => ({ id: i + 1 })) })
    ok(Items.FunctionIdentifiersRequest, ids(10))
    rejects(Items.FunctionIdentifiersRequest, ids(11), "")
    rejects(Items.FunctionIdentifiersRequest, ids(0), "")
    ok(Items.CallIdsRequest, ids(10_000))
    rejects(Items.CallIdsRequest, ids(10_001), "")
  })
})

describe("schedule create", () => {
  it("takes a 5-field cron checked with effect's Cron", () => {
    ok(FunctionSchedule.FunctionScheduleWrite, schedule({}))
    ok(FunctionSchedule.FunctionScheduleWrite, schedule({ cronExpression: "0 0 1 1 *" }))
    rejects(FunctionSchedule.FunctionScheduleWrite, schedule({ cronExpression: "* * * *" }), "5-field")
    rejects(FunctionSchedule.FunctionScheduleWrite, schedule({ cronExpression: "0 * * * * *" }), "5-field")
    rejects(FunctionSchedule.FunctionScheduleWrite, schedule({ cronExpression: "61 * * * *" }), "not a valid cron")
    rejects(FunctionSchedule.FunctionScheduleWrite, schedule({ cronExpression: "every day" }), "5-field")
  })
  it("names exactly one of functionId and functionExternalId", () => {
    ok(FunctionSchedule.FunctionScheduleWrite, { name: "s", cronExpression: "* * * * *", functionExternalId: "f" })
    rejects(
      FunctionSchedule.FunctionScheduleWrite,
      schedule({ functionExternalId: "f" }),
      "exactly one of functionId and functionExternalId"
    )
    rejects(
      FunctionSchedule.FunctionScheduleWrite,
      { name: "s", cronExpression: "* * * * *" },
      "exactly one of functionId and functionExternalId"
    )
  })
  it("a nonce requires functionId", () => {
    ok(FunctionSchedule.FunctionScheduleWrite, schedule({ nonce: "n" }))
    rejects(
      FunctionSchedule.FunctionScheduleWrite,
      { name: "s", cronExpression: "* * * * *", functionExternalId: "f", nonce: "n" },
      "must name its function by functionId"
    )
  })
  it("the schedule's sessionId arrives as a number or a numeric string", () => {
    const read = { id: 1, name: "s", createdTime: 0, cronExpression: "* * * * *" }
    expect(Schema.decodeUnknownSync(FunctionSchedule.FunctionSchedule)({ ...read, sessionId: 12345 }).sessionId).toBe(
      12345
    )
    expect(Schema.decodeUnknownSync(FunctionSchedule.FunctionSchedule)({ ...read, sessionId: "12345" }).sessionId)
      .toBe(12345)
    rejects(FunctionSchedule.FunctionSchedule, { ...read, sessionId: "abc" }, "")
  })
})

describe("function apps", () => {
  it("the envelope decodes as success below 400 and as an error when it names an error_type", () => {
    const success = Schema.decodeUnknownSync(FunctionApp.AppEnvelope)({ status_code: 201, data: { id: 1 } })
    expect(success._tag).toBe("AppSuccess")
    const failure = Schema.decodeUnknownSync(FunctionApp.AppEnvelope)({
      status_code: 404,
      error_type: "RouteNotFound",
      message: "no route",
      details: { available_routes: ["/items"] }
    })
    expect(failure._tag).toBe("AppError")
    rejects(FunctionApp.AppEnvelope, { status_code: 500, data: {} }, "")
  })
  it("a request path starts with / and the method is an HTTP method", () => {
    ok(FunctionApp.FunctionAppCallRequest, { data: { path: "/items/1", method: "GET" }, nonce: "n" })
    rejects(FunctionApp.FunctionAppCallRequest, { data: { path: "items", method: "GET" }, nonce: "n" }, "starts with /")
    rejects(FunctionApp.FunctionAppCallRequest, { data: { path: "/", method: "FETCH" }, nonce: "n" }, "")
  })
})
