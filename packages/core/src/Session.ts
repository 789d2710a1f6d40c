/**
 * Sessions: how a call or a schedule gets the credentials it runs with. The nonce a session returns is
 * a credential and stays `Redacted`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { EpochMillis, SessionId } from "./Ids.js"
import { openLiteral, optional } from "./internal/schema.js"

/** A session bound to a client id and secret: it is refreshed for as long as the schedule lives. */
export class ClientCredentialsSession extends Schema.Class<ClientCredentialsSession>("ClientCredentialsSession")({
  clientId: Schema.String.pipe(Schema.minLength(1)),
  clientSecret: Schema.Redacted(Schema.String)
}) {}

/** A session made by exchanging the caller's own token. */
export class TokenExchangeSession extends Schema.Class<TokenExchangeSession>("TokenExchangeSession")({
  tokenExchange: Schema.Literal(true)
}) {}

/** A short-lived session that is not refreshed and needs no token exchange support from the identity provider. */
export class OneshotTokenExchangeSession
  extends Schema.Class<OneshotTokenExchangeSession>("OneshotTokenExchangeSession")({
    oneshotTokenExchange: Schema.Literal(true)
  })
{}

/** One of the three ways to create a session. */
export const CreateSession = Schema.Union(ClientCredentialsSession, TokenExchangeSession, OneshotTokenExchangeSession)
/** One of the three ways to create a session. */
export type CreateSession = typeof CreateSession.Type

/** The body of `POST /sessions`: exactly one item. */
export const CreateSessionRequest = Schema.Struct({
  items: Schema.Tuple(CreateSession)
})

/** A session's status (later values stay open). */
export const SessionStatus = openLiteral(
  ["READY", "ACTIVE", "CANCELLED", "EXPIRED", "REVOKED", "ACCESS_LOST"],
  "UnknownSessionStatus"
)

/** A session's type (later values stay open). */
export const SessionType = openLiteral(
  ["CLIENT_CREDENTIALS", "TOKEN_EXCHANGE", "ONESHOT_TOKEN_EXCHANGE"],
  "UnknownSessionType"
)

/** A session just created: its nonce is short-lived (about a minute) and is a credential. */
export class CreatedSession extends Schema.Class<CreatedSession>("CreatedSession")({
  id: SessionId,
  status: SessionStatus,
  nonce: Schema.Redacted(Schema.String),
  type: optional(SessionType),
  clientId: optional(Schema.String)
}) {}

/** The body `POST /sessions` answers with. */
export const CreateSessionResponse = Schema.Struct({ items: Schema.Array(CreatedSession) })

/** A session as `GET /sessions` lists it. */
export class Session extends Schema.Class<Session>("Session")({
  id: SessionId,
  type: optional(SessionType),
  status: SessionStatus,
  creationTime: optional(EpochMillis),
  expirationTime: optional(EpochMillis),
  clientId: optional(Schema.String)
}) {}
