/**
 * Sessions: the nonces that let a call or a schedule run with credentials. A nonce is a short-lived
 * credential (about a minute): it stays `Redacted` from the response that carries it to the request body
 * that uses it, and nothing logs it.
 *
 * @since 0.1.0
 */
import type { Ids } from "@effect-cdf/core"
import { Items, Session } from "@effect-cdf/core"
import { InvalidInput } from "@effect-cdf/core/Errors"
import * as Auth from "@effect-cdf/http/Auth"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { Config, ConfigError } from "effect"
import { Context, Effect, Layer, Option, Redacted } from "effect"
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
    /**
     * The same nonce and, when it was made here, the id of the session made for it alone: that session's
     * status tells later whether the nonce was ever used (which is how a lost call is reconciled).
     */
    readonly issue: (options?: NonceOptions) => Effect.Effect<Issued, ReadError>
    /** `POST /sessions/byids`: the sessions' statuses (needs `sessionsAcl:LIST`). */
    readonly retrieve: (ids: ReadonlyArray<Ids.SessionId>) => Effect.Effect<ReadonlyArray<Session.Session>, ReadError>
    /** `POST /sessions/revoke`: a revoked session's nonce can no longer be used (needs `sessionsAcl:DELETE`). */
    readonly revoke: (ids: ReadonlyArray<Ids.SessionId>) => Effect.Effect<ReadonlyArray<Session.Session>, ReadError>
    /** The source used when none is given. */
    readonly defaultSource: NonceSource
  }
}

/** A nonce and the session made for it, if it was made here. */
export interface Issued {
  readonly nonce: Redacted.Redacted<string>
  /** `None` when the nonce was given as it is: nothing is known about its session. */
  readonly sessionId: Option.Option<Ids.SessionId>
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
const SessionItems = Items.Items(Session.Session)

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

    const issue = (options: NonceOptions = {}): Effect.Effect<Issued, ReadError> => {
      const source = sourceOf(options) ?? fallback
      return source._tag === "Nonce"
        ? Effect.map(checkNonce(source.nonce), (nonce) => ({ nonce, sessionId: Option.none() }))
        : create(variantOf(source)).pipe(
          Effect.map((session) => ({ nonce: session.nonce, sessionId: Option.some(session.id) }))
        )
    }

    const nonce = (options: NonceOptions = {}) => Effect.map(issue(options), (issued) => issued.nonce)

    const byIds = (operation: "retrieve" | "revoke") =>
      Effect.fn(`Sessions.${operation}`)(function*(ids: ReadonlyArray<Ids.SessionId>) {
        const response = yield* read(client, {
          operation: `cdf.Sessions.${operation}`,
          method: "POST",
          path: operation === "retrieve" ? path`/sessions/byids` : path`/sessions/revoke`,
          // revoking twice revokes once: both are safe to re-send
          safety: "safe",
          body: { items: ids.map((id) => ({ id })) },
          schema: SessionItems
        })
        return response.items
      })

    return Sessions.of({
      create,
      nonce,
      issue,
      retrieve: byIds("retrieve"),
      revoke: byIds("revoke"),
      defaultSource: fallback
    })
  })

/** The sessions service. */
export const layer = (options: Options = {}): Layer.Layer<Sessions, never, CdfClient> =>
  Layer.effect(Sessions, make(options))

/**
 * Client credentials from the environment, when both are set: `COGNITE_CLIENT_ID` or the Cognite toolkit's
 * `IDP_CLIENT_ID`, with `COGNITE_CLIENT_SECRET` or `IDP_CLIENT_SECRET` (one precedence with the transport's
 * `Auth.clientCredentialsFromEnv`, which this is): the credentials sessions are created with by default.
 */
export const clientCredentialsFromEnv: Config.Config<Option.Option<ClientCredentials>> = Auth.clientCredentialsFromEnv

/** The sessions service with client credentials from the environment, when set. */
export const layerConfig: Layer.Layer<Sessions, ConfigError.ConfigError, CdfClient> = Layer.effect(
  Sessions,
  Effect.flatMap(
    clientCredentialsFromEnv,
    (credentials) =>
      make(Option.match(credentials, { onNone: () => ({}), onSome: (clientCredentials) => ({ clientCredentials }) }))
  )
)
