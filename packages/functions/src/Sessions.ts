/**
 * Sessions: the nonces that let a call or a schedule run with credentials. A nonce is a short-lived
 * credential (about a minute): it stays `Redacted` from the response that carries it to the request body
 * that uses it, and nothing logs it.
 *
 * @since 0.1.0
 */
import { Session } from "@effect-cdf/core"
import { InvalidInput } from "@effect-cdf/core/Errors"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { ConfigError } from "effect"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { read } from "./internal/api.js"
import { encode } from "./internal/encode.js"
import type { ReadError } from "./ServiceError.js"

/** Client credentials a session can be created with. */
export interface ClientCredentials {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
}

/** How to get the nonce a call or schedule needs. */
export type NonceSource =
  /** Use this nonce as it is. */
  | { readonly _tag: "Nonce"; readonly nonce: Redacted.Redacted<string> }
  /** Create a client-credentials session with these credentials. */
  | { readonly _tag: "ClientCredentials"; readonly credentials: ClientCredentials }
  /** Exchange the caller's own token. */
  | { readonly _tag: "TokenExchange" }
  /** A one-shot token exchange: short-lived, not refreshed. */
  | { readonly _tag: "OneshotTokenExchange" }

/**
 * Where the nonce of one call or schedule comes from, in this order: `nonce` as it is, a session created with
 * `clientCredentials`, one from `nonceSource`, else the client's default source.
 */
export interface NonceOptions {
  /** A nonce from a session you created: used as it is (a string is wrapped in `Redacted` at once). */
  readonly nonce?: Redacted.Redacted<string> | string | undefined
  /** Credentials to create the session with, instead of the client's default. */
  readonly clientCredentials?: ClientCredentials | undefined
  /** Where to get a nonce when none is given; default the client's configured source. */
  readonly nonceSource?: NonceSource | undefined
}

/** The options of the sessions service. */
export interface Options {
  /**
   * Credentials for the sessions this client creates when none is given: as the Python SDK does, a
   * client-credentials session when the client has credentials, else a token exchange.
   */
  readonly clientCredentials?: ClientCredentials | undefined
}

/** Creates sessions and hands out nonces. */
export class Sessions extends Context.Tag("@effect-cdf/functions/Sessions")<Sessions, Sessions.Service>() {}

/** The types of the `Sessions` service. */
export declare namespace Sessions {
  /** What the sessions service offers. */
  export interface Service {
    /** `POST /sessions` with one of the three variants. */
    readonly create: (variant: Session.CreateSession) => Effect.Effect<Session.CreatedSession, ReadError>
    /**
     * The nonce of one call or schedule, as {@link NonceOptions} say: by default from the configured client
     * credentials, else a token exchange. An empty nonce is an `InvalidInput`.
     */
    readonly nonce: (options?: NonceOptions) => Effect.Effect<Redacted.Redacted<string>, ReadError>
    /** The source used when none is given. */
    readonly defaultSource: NonceSource
  }
}

/** The nonce source a client uses by default. */
export const defaultSource = (options: Options): NonceSource =>
  options.clientCredentials === undefined
    ? { _tag: "TokenExchange" }
    : { _tag: "ClientCredentials", credentials: options.clientCredentials }

/** The source {@link NonceOptions} name, or `undefined` for the client's default. */
export const sourceOf = (options: NonceOptions): NonceSource | undefined =>
  options.nonce !== undefined
    ? { _tag: "Nonce", nonce: Redacted.isRedacted(options.nonce) ? options.nonce : Redacted.make(options.nonce) }
    : options.clientCredentials !== undefined
    ? { _tag: "ClientCredentials", credentials: options.clientCredentials }
    : options.nonceSource

/** A nonce given by the caller, refused when empty before anything is sent. */
export const checkNonce = (nonce: Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<string>, InvalidInput> =>
  Redacted.value(nonce).length === 0
    ? Effect.fail(new InvalidInput({ subject: "nonce", issue: "the nonce is empty" }))
    : Effect.succeed(nonce)

/** The request variant for a source that creates a session. */
const variantOf = (source: Exclude<NonceSource, { _tag: "Nonce" }>): Session.CreateSession => {
  switch (source._tag) {
    case "ClientCredentials":
      return new Session.ClientCredentialsSession({
        clientId: source.credentials.clientId,
        clientSecret: source.credentials.clientSecret
      })
    case "TokenExchange":
      return new Session.TokenExchangeSession({ tokenExchange: true })
    case "OneshotTokenExchange":
      return new Session.OneshotTokenExchangeSession({ oneshotTokenExchange: true })
  }
}

const encodeRequest = encode(Session.CreateSessionRequest, "session request")

/** A sessions service over a CDF client. */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const client = yield* CdfClient
    const fallback = defaultSource(options)

    const create = Effect.fn("Sessions.create")(function*(variant: Session.CreateSession) {
      const body = yield* encodeRequest({ items: [variant] })
      // creating a session twice leaves one unused session: safe to re-send
      const response = yield* read(client, {
        operation: "cdf.Sessions.create",
        method: "POST",
        path: path`/sessions`,
        safety: "safe",
        body,
        schema: Session.CreateSessionResponse
      })
      const created = response.items[0]
      if (created === undefined) {
        return yield* Effect.die(new Error("POST /sessions answered with no session"))
      }
      return created
    })

    const nonce = (options: NonceOptions = {}): Effect.Effect<Redacted.Redacted<string>, ReadError> => {
      const source = sourceOf(options) ?? fallback
      return source._tag === "Nonce"
        ? checkNonce(source.nonce)
        : create(variantOf(source)).pipe(Effect.map((session) => session.nonce))
    }

    return Sessions.of({ create, nonce, defaultSource: fallback })
  })

/** The sessions service. */
export const layer = (options: Options = {}): Layer.Layer<Sessions, never, CdfClient> =>
  Layer.effect(Sessions, make(options))

/**
 * Client credentials from `COGNITE_CLIENT_ID` and `COGNITE_CLIENT_SECRET`, when both are set: the
 * credentials sessions are created with by default.
 */
export const clientCredentialsFromEnv: Config.Config<Option.Option<ClientCredentials>> = Config.all({
  clientId: Config.option(Config.nonEmptyString("COGNITE_CLIENT_ID")),
  clientSecret: Config.option(Config.redacted("COGNITE_CLIENT_SECRET"))
}).pipe(Config.map(({ clientId, clientSecret }) =>
  Option.isSome(clientId) && Option.isSome(clientSecret)
    ? Option.some({ clientId: clientId.value, clientSecret: clientSecret.value })
    : Option.none()
))

/** The sessions service with client credentials from the environment, when set. */
export const layerConfig: Layer.Layer<Sessions, ConfigError.ConfigError, CdfClient> = Layer.effect(
  Sessions,
  Effect.flatMap(
    clientCredentialsFromEnv,
    (credentials) =>
      make(Option.match(credentials, { onNone: () => ({}), onSome: (clientCredentials) => ({ clientCredentials }) }))
  )
)
