/**
 * The OAuth2 client-credentials token endpoint's answers, as RFC 6749 (section 5) spells them: what an
 * identity provider (or the emulator standing in for one) sends and what a client reads.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A successful token response. `token_type` and `expires_in` are read leniently (any JSON value): a
 * valid token is never thrown away because an identity provider spelled them oddly; the client decides
 * what a lifetime means.
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.Redacted(Schema.NonEmptyString),
  token_type: Schema.optionalWith(Schema.Unknown, { exact: true }),
  expires_in: Schema.optionalWith(Schema.Unknown, { exact: true })
})

/** A token response, decoded. */
export type TokenResponse = typeof TokenResponse.Type

/** An error response of the token endpoint (both fields optional: identity providers vary). */
export const ErrorResponse = Schema.Struct({
  error: Schema.optional(Schema.String),
  error_description: Schema.optional(Schema.String)
})

/** An error response, decoded. */
export type ErrorResponse = typeof ErrorResponse.Type
