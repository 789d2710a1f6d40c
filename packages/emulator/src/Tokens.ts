/**
 * Authentication: the dev token printed at start, and short-lived tokens issued by the emulator's
 * OAuth2 client-credentials endpoint.
 *
 * @since 0.1.0
 */
import type { OAuth } from "@effect-cdf/core"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomToken } from "./internal/ids.js"
import { State } from "./State.js"

/** What the token endpoint needs to know. */
export interface TokensOptions {
  /** The token that is always valid (random when absent). */
  readonly devToken?: string | undefined
  /** The client id `/oauth2/token` accepts. Default `emulator-client`. */
  readonly clientId?: string | undefined
  /** The client secret `/oauth2/token` accepts. Default `emulator-secret`. */
  readonly clientSecret?: string | undefined
  /** How long an issued token lives, in seconds. Default 3600. */
  readonly tokenTtlSeconds?: number | undefined
}

/** The default client id of the token endpoint. */
export const DEFAULT_CLIENT_ID = "emulator-client"
/** The default client secret of the token endpoint. */
export const DEFAULT_CLIENT_SECRET = "emulator-secret"

/** Why a token request failed, in OAuth2 terms. */
export interface TokenRequestProblem {
  readonly error: "invalid_request" | "invalid_client" | "unsupported_grant_type"
  readonly description: string
}

/** The token authority of one emulator. */
export class Tokens extends Context.Tag("@effect-cdf/emulator/Tokens")<Tokens, Tokens.Service>() {}

/** The token authority's service. */
export declare namespace Tokens {
  /** The token authority's service. */
  export interface Service {
    /** The dev token: always valid. */
    readonly devToken: Redacted.Redacted<string>
    /** The client id the token endpoint accepts. */
    readonly clientId: string
    /** Answers a form-encoded client-credentials token request with the token response CDF's IdPs send. */
    readonly issue: (form: URLSearchParams) => Effect.Effect<OAuth.TokenResponse, TokenRequestProblem>
    /** Whether a bearer token is the dev token or an issued, unexpired one. */
    readonly isValid: (token: string) => Effect.Effect<boolean>
  }
}

/** Makes the token authority. */
export const make = (options: TokensOptions) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const devToken = options.devToken ?? randomToken()
    const clientId = options.clientId ?? DEFAULT_CLIENT_ID
    const clientSecret = options.clientSecret ?? DEFAULT_CLIENT_SECRET
    const ttl = options.tokenTtlSeconds ?? 3600
    const service: Tokens.Service = {
      devToken: Redacted.make(devToken),
      clientId,
      issue: (form) =>
        Effect.gen(function*() {
          const grant = form.get("grant_type")
          if (grant !== "client_credentials") {
            return yield* Effect.fail<TokenRequestProblem>({
              error: grant === null ? "invalid_request" : "unsupported_grant_type",
              description: "grant_type must be client_credentials"
            })
          }
          if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
            return yield* Effect.fail<TokenRequestProblem>({
              error: "invalid_client",
              description: "unknown client_id or wrong client_secret"
            })
          }
          const t = yield* now
          const token = randomToken()
          // Drop expired tokens so a long-running emulator does not accumulate them.
          for (const [k, v] of store.tokens) {
            if (v.expiresAt <= t) {
              store.tokens.delete(k)
              store.touch("token", k)
            }
          }
          store.tokens.set(token, { expiresAt: t + ttl * 1000 })
          store.touch("token", token)
          return { access_token: Redacted.make(token), token_type: "Bearer", expires_in: ttl }
        }),
      isValid: (token) =>
        Effect.map(now, (t) => {
          if (token === devToken) return true
          const issued = store.tokens.get(token)
          return issued !== undefined && issued.expiresAt > t
        })
    }
    return service
  })

/** The token authority layer. */
export const layer = (options: TokensOptions) => Layer.effect(Tokens, make(options))
