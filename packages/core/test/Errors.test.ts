/** Typed errors: classification of API errors, readable messages, and no secret in any rendering. */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Either, Schema } from "effect"
import * as ErrorEnvelope from "../src/ErrorEnvelope.js"
import * as Errors from "../src/Errors.js"
import * as Session from "../src/Session.js"

describe("the error envelope", () => {
  it("decodes the object form with missing items in either spelling", () => {
    const body = Schema.decodeUnknownSync(ErrorEnvelope.ErrorEnvelope)({
      error: {
        code: 400,
        message: "ids not found",
        missing: [{ id: 1 }, { externalId: "a" }, { external_id: "b" }],
        duplicated: []
      }
    })
    expect(body.code).toBe(400)
    expect(body.missing.map((m) => m.id ?? m.externalId)).toEqual([1, "a", "b"])
    expect(body.duplicated).toEqual([])
  })
  it("decodes the bare string form", () => {
    const body = Schema.decodeUnknownSync(ErrorEnvelope.ErrorEnvelope)({ error: "Unauthorized" })
    expect(body.message).toBe("Unauthorized")
    expect(body.code).toBeUndefined()
  })
  it("rejects a body that is not an envelope", () => {
    expect(Either.isLeft(Schema.decodeUnknownEither(ErrorEnvelope.ErrorEnvelope)({ message: "x" }))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(ErrorEnvelope.ErrorEnvelope)("<html>"))).toBe(true)
  })
})

describe("apiError", () => {
  const at = (status: number, extra: Partial<Errors.ApiErrorInput> = {}) =>
    Errors.apiError({ status, message: "m", requestId: "req-1", ...extra })
  it("classifies by meaning as the official SDKs do", () => {
    expect(at(400)._tag).toBe("BadRequest")
    expect(at(400, { missing: [new ErrorEnvelope.ItemReference({ id: 1 })] })._tag).toBe("NotFound")
    expect(at(422, { missing: [new ErrorEnvelope.ItemReference({ id: 1 })] })._tag).toBe("NotFound")
    expect(at(401)._tag).toBe("Unauthorized")
    expect(at(403)._tag).toBe("Forbidden")
    expect(at(404)._tag).toBe("NotFound")
    expect(at(409, { duplicated: [new ErrorEnvelope.ItemReference({ externalId: "x" })] })._tag).toBe("Conflict")
    expect(at(429, { retryAfterMillis: 1000 })).toMatchObject({ _tag: "RateLimited", retryAfterMillis: 1000 })
    expect(at(500)._tag).toBe("ServerError")
    expect(at(503)._tag).toBe("ServerError")
    expect(at(405)._tag).toBe("UnexpectedStatus")
  })
  it("carries status, code, message and request id", () => {
    const error = at(403, { code: 403 })
    expect(error).toMatchObject({ status: 403, code: 403, message: "m", requestId: "req-1" })
    expect(at(500, { message: "" }).message).toBe("HTTP 500")
  })
})

describe("secrets never reach an error", () => {
  const canary = "CANARY-nonce-8f2b1c"
  const renderings = (error: unknown) => [
    String(error),
    JSON.stringify(error),
    Cause.pretty(Cause.fail(error)),
    error instanceof Error ? error.message : ""
  ]

  it("a session whose decode fails does not quote its nonce", () => {
    const wire = { items: [{ id: 0, status: "READY", nonce: canary }] }
    const result = Schema.decodeUnknownEither(Session.CreateSessionResponse)(wire)
    if (Either.isRight(result)) throw new Error("expected a failure")
    const error = Errors.decodeError("CreatedSession", result.left, wire)
    for (const text of renderings(error)) expect(text).not.toContain(canary)
    expect(error.sample).toContain("<redacted>")
  })

  it("a nonce of the wrong type is described without its value", () => {
    const wire = { items: [{ id: 1, status: "READY", nonce: { value: canary } }] }
    const result = Schema.decodeUnknownEither(Session.CreateSessionResponse)(wire)
    if (Either.isRight(result)) throw new Error("expected a failure")
    const error = Errors.decodeError("CreatedSession", result.left, wire)
    expect(error.issue).toContain("not shown")
    for (const text of renderings(error)) expect(text).not.toContain(canary)
  })

  it("a decoded session keeps its nonce Redacted in every rendering", () => {
    const session = Schema.decodeUnknownSync(Session.CreatedSession)({ id: 1, status: "READY", nonce: canary })
    for (const text of [String(session), JSON.stringify(session), Cause.pretty(Cause.fail(session))]) {
      expect(text).not.toContain(canary)
    }
  })

  it("redactSample hides bearer tokens, secret-named keys and query secrets, and stays short", () => {
    expect(Errors.redactSample(`Authorization: Bearer ${canary}`)).not.toContain(canary)
    expect(Errors.redactSample(`{"client_secret":"${canary}"}`)).not.toContain(canary)
    expect(Errors.redactSample(`grant_type=client_credentials&client_secret=${canary}`)).not.toContain(canary)
    expect(Errors.redactSample({ access_token: canary, nested: { nonce: canary } })).not.toContain(canary)
    expect(Errors.redactSample("x".repeat(10_000)).length).toBeLessThan(300)
  })

  it("every error has a readable message", () => {
    const request = new Errors.RequestDescription({ method: "POST", path: "/functions/1/call" })
    const errors: ReadonlyArray<Errors.CdfError> = [
      new Errors.TransportError({ reason: "ConnectFailed", request, description: "ECONNREFUSED" }),
      new Errors.CallOutcomeUnknown({ request, sentAt: 1, reason: "connection reset after send" }),
      new Errors.InvalidInput({ subject: "cron expression", issue: "not 5 fields" }),
      new Errors.AuthenticationFailed({ status: 401, description: "invalid_client" }),
      new Errors.UntrustedUrl({ origin: "https://evil.example", expectedOrigin: "https://api.cognitedata.com" })
    ]
    for (const error of errors) {
      expect(error.message.length).toBeGreaterThan(10)
      expect(String(error)).toContain(error._tag)
    }
  })
})
