/**
 * The token endpoint's contract, shared by the client that reads it and the emulator that writes it:
 * the token stays redacted once decoded, a lifetime in any spelling is kept for the client to judge,
 * and an answer with no token is refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted, Schema } from "effect"
import * as OAuth from "../src/OAuth.js"

const decode = Schema.decodeUnknownEither(Schema.parseJson(OAuth.TokenResponse))

describe("OAuth.TokenResponse", () => {
  it("decodes the token redacted and keeps an odd token_type or expires_in as sent", () => {
    for (const expiresIn of [3600, "3600", null, "soon"]) {
      const decoded = decode(JSON.stringify({ access_token: "tok-1", token_type: 7, expires_in: expiresIn }))
      expect(Either.isRight(decoded)).toBe(true)
      if (Either.isLeft(decoded)) return
      expect(Redacted.value(decoded.right.access_token)).toBe("tok-1")
      expect(String(decoded.right.access_token)).not.toContain("tok-1")
      expect(decoded.right.expires_in).toStrictEqual(expiresIn)
    }
  })

  it("refuses an answer without a token, or with an empty one", () => {
    expect(Either.isLeft(decode(JSON.stringify({ expires_in: 3600 })))).toBe(true)
    expect(Either.isLeft(decode(JSON.stringify({ access_token: "" })))).toBe(true)
  })

  it("encodes what the emulator sends back to the wire spelling", () => {
    const wire = Schema.encodeSync(OAuth.TokenResponse)({
      access_token: Redacted.make("tok-2"),
      token_type: "Bearer",
      expires_in: 60
    })
    expect(wire).toStrictEqual({ access_token: "tok-2", token_type: "Bearer", expires_in: 60 })
  })
})

describe("OAuth.ErrorResponse", () => {
  it("reads an error and its description, both optional", () => {
    const decodeError = Schema.decodeUnknownSync(OAuth.ErrorResponse)
    expect(decodeError({ error: "invalid_client", error_description: "wrong secret" })).toStrictEqual({
      error: "invalid_client",
      error_description: "wrong secret"
    })
    expect(decodeError({})).toStrictEqual({})
  })
})
