/**
 * `/sessions/...`: create sessions (and their one-use nonces), list, retrieve and revoke them.
 *
 * @since 0.1.0
 */
import { Ids, Items, Session } from "@effect-cdf/core"
import { HttpRouter } from "@effect/platform"
import { Effect, Schema } from "effect"
import { badRequest, decodeBody, encoded, jsonResponse } from "../internal/http.js"
import { randomToken } from "../internal/ids.js"
import { State, type StoredSession } from "../State.js"
import { Tokens } from "../Tokens.js"
import { limitParam, query, requires, resolveItems, RoutesConfig, withBody, withStore } from "./common.js"

/** Where these routes are mounted. */
export const PREFIX = "/sessions"

/** How long a session lives. */
const SESSION_LIFETIME_MILLIS = 3_600_000
/** The page size of `GET /sessions` when none is named. */
const DEFAULT_SESSION_LIMIT = 25

const SessionIdsRequest = Items.ItemsRequest(Ids.ById, 1000)
const SessionList = Schema.Struct({
  items: Schema.Array(Session.Session),
  nextCursor: Schema.optionalWith(Schema.String, { exact: true })
})

const sessionView = (s: StoredSession) =>
  new Session.Session({
    id: Ids.SessionId.make(s.id),
    type: s.type,
    status: s.status,
    creationTime: Ids.EpochMillis.make(s.createdTime),
    expirationTime: Ids.EpochMillis.make(s.createdTime + SESSION_LIFETIME_MILLIS),
    ...(s.clientId === undefined ? {} : { clientId: s.clientId })
  })

const createSession = Effect.gen(function*() {
  yield* requires("sessionsAcl:CREATE")
  const { now, store } = yield* State
  const tokens = yield* Tokens
  const { nonceTtlSeconds } = yield* RoutesConfig
  const body = yield* decodeBody(Session.CreateSessionRequest)
  const request = body.items[0]
  const t = yield* now
  let type: StoredSession["type"]
  let clientId: string | undefined
  if ("clientId" in request) {
    if (request.clientId !== tokens.clientId) {
      return yield* Effect.fail(badRequest("Could not create a session: unknown client credentials"))
    }
    type = "CLIENT_CREDENTIALS"
    clientId = request.clientId
  } else if ("tokenExchange" in request) {
    type = "TOKEN_EXCHANGE"
  } else {
    type = "ONESHOT_TOKEN_EXCHANGE"
  }
  const session: StoredSession = {
    id: store.newId(store.sessions),
    type,
    status: "READY",
    nonce: randomToken(),
    nonceExpiresAt: t + nonceTtlSeconds * 1000,
    nonceUsed: false,
    createdTime: t,
    clientId
  }
  store.sessions.set(session.id, session)
  store.touch("session", session.id)
  return jsonResponse({
    items: [{
      id: session.id,
      status: session.status,
      nonce: session.nonce,
      type: session.type,
      ...(clientId === undefined ? {} : { clientId })
    }]
  })
})

/** The routes under `PREFIX`, relative to it. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.post("/", createSession),
  HttpRouter.get(
    "/",
    withStore("sessionsAcl:LIST", (store) =>
      Effect.gen(function*() {
        const limit = (yield* limitParam) ?? DEFAULT_SESSION_LIMIT
        const status = (yield* query).get("status")
        const items = [...store.sessions.values()]
          .filter((s) => status === null || s.status === status.toUpperCase())
          .slice(0, limit)
          .map(sessionView)
        return encoded(SessionList, { items })
      }))
  ),
  HttpRouter.post(
    "/byids",
    withBody("sessionsAcl:LIST", SessionIdsRequest, (body, store) =>
      Effect.map(
        resolveItems(body.items, (item) => store.sessions.get(item.id), (item) => ({ id: item.id }), "sessions", false),
        (found) => encoded(SessionList, { items: found.map(sessionView) })
      ))
  ),
  // Revoking a session that is not there is not an error: the session is gone either way.
  HttpRouter.post(
    "/revoke",
    withBody("sessionsAcl:DELETE", SessionIdsRequest, (body, store) =>
      Effect.sync(() => {
        const items = body.items.flatMap((item) => {
          const s = store.sessions.get(item.id)
          if (s === undefined) return []
          s.status = "REVOKED"
          store.touch("session", s.id)
          return [sessionView(s)]
        })
        return encoded(SessionList, { items })
      }))
  )
)
