/**
 * What every resource's routes share: the routes' configuration, capability and activation checks,
 * path and query parameters, the one place resources are looked up (a 404 naming the missing item), and
 * starting a call after binding its nonce.
 */
import type { CogniteFunction, FunctionCall, FunctionsLimits, Ids } from "@effect-cdf/core"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import type { HttpServerResponse } from "@effect/platform"
import type { Schema } from "effect"
import { Context, Effect } from "effect"
import { Executor } from "../Executor.js"
import {
  ApiFailure,
  badRequest,
  decodeBody,
  forbidden,
  intParam,
  type ItemRef,
  jsonSize,
  missing
} from "../internal/http.js"
import type { Limits } from "../Limits.js"
import { State, type Store, type StoredSession } from "../State.js"

/** A capability (ACL and action) an endpoint requires. Disabled ones answer 403. */
export type Capability =
  | "functionsAcl:READ"
  | "functionsAcl:WRITE"
  | "functionsAcl:RUN"
  | "sessionsAcl:CREATE"
  | "sessionsAcl:LIST"
  | "sessionsAcl:DELETE"
  | "filesAcl:READ"
  | "filesAcl:WRITE"

/** What the routes need beyond the services. */
export interface RoutesOptions {
  readonly project: string
  readonly limits: Limits
  /** How long a nonce can be bound, in seconds. */
  readonly nonceTtlSeconds: number
  /** How long a requested activation takes, in milliseconds. */
  readonly activationDelayMillis: number
  readonly disabledCapabilities: ReadonlySet<Capability>
  /** The origin clients reach the emulator at, e.g. `http://127.0.0.1:4000`. */
  readonly baseUrl: string
}

/** The routes' configuration. */
export class RoutesConfig extends Context.Tag("@effect-cdf/emulator/RoutesConfig")<RoutesConfig, RoutesOptions>() {}

/** The URL of the project API, for links the emulator hands out. */
export const projectUrl = Effect.map(
  RoutesConfig,
  (config) => `${config.baseUrl}/api/v1/projects/${encodeURIComponent(config.project)}`
)

/** Fails with 403 when the emulator was started without `capability`. */
export const requires = (capability: Capability) =>
  Effect.flatMap(RoutesConfig, (config) =>
    config.disabledCapabilities.has(capability)
      ? Effect.fail(forbidden(`This emulator was started without the ${capability} capability`))
      : Effect.void)

/** A handler that needs `capability` and answers with `answer` of what `lookup` finds (or its 404). */
export const readOne = <S, E, R>(
  capability: Capability,
  lookup: Effect.Effect<S, E, R>,
  answer: (stored: S) => HttpServerResponse.HttpServerResponse
) => Effect.zipRight(requires(capability), Effect.map(lookup, answer))

/** A handler that needs `capability` and answers with `handle` of the store. */
export const withStore = <B, E, R>(capability: Capability, handle: (store: Store) => Effect.Effect<B, E, R>) =>
  Effect.zipRight(requires(capability), Effect.flatMap(State, ({ store }) => handle(store)))

/**
 * A handler that needs `capability`, decodes the request body with `schema` and answers with `handle`
 * of the body and the store: the order every body-taking endpoint checks things in.
 */
export const withBody = <A, I, B, E, R>(
  capability: Capability,
  schema: Schema.Schema<A, I>,
  handle: (body: A, store: Store) => Effect.Effect<B, E, R>
) => withStore(capability, (store) => Effect.flatMap(decodeBody(schema), (body) => handle(body, store)))

/** The activation status; a requested activation completes once its delay has passed. */
export const activationStatus = Effect.gen(function*() {
  const { now, store } = yield* State
  const config = yield* RoutesConfig
  const t = yield* now
  if (store.activation === "requested" && t >= store.activationRequestedAt + config.activationDelayMillis) {
    store.activation = "activated"
    store.touch("meta")
  }
  const status: FunctionsLimits.ActivationStatus = store.activation
  return status
})

/** Fails with 403 unless Functions is activated. */
const requireActivated = Effect.gen(function*() {
  const status = yield* activationStatus
  if (status === "activated") return
  const { project } = yield* RoutesConfig
  return yield* Effect.fail(
    forbidden(`Cognite Functions is ${status} for project ${project}: activate it with POST /functions/status`)
  )
})

/** Fails with 403 without `capability`, then unless Functions is activated: what every write that runs needs. */
export const requiresActivated = (capability: Capability) => Effect.zipRight(requires(capability), requireActivated)

/** A path parameter. */
export const param = (name: string) => Effect.map(HttpRouter.params, (params) => params[name])

/** A positive integer path parameter, or a 400. */
export const idParam = (name: string) => Effect.flatMap(param(name), (value) => intParam(value, name))

/** The query parameters. */
export const query = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => new URL(request.url, "http://x").searchParams
)

/** The page size when a list request names none. */
export const DEFAULT_LIMIT = 100

/** The `limit` query parameter, if given. */
export const limitParam = Effect.flatMap(query, (params) => {
  const raw = params.get("limit")
  return raw === null ? Effect.succeed(undefined) : intParam(raw, "limit")
})

/** The reference `missing` and `duplicated` use for an identifier, spelled as the real service does. */
export const refOf = (identifier: Ids.Identifier): ItemRef =>
  "id" in identifier ? { id: identifier.id } : { externalId: identifier.externalId }

/** Whether `value` equals `filter` on each of `keys` the filter names (a key it leaves out matches all). */
export const matchesWhereGiven = <F extends object, K extends keyof F>(
  filter: F,
  value: { readonly [k in K]?: F[k] },
  keys: ReadonlyArray<K>
) => keys.every((key) => filter[key] === undefined || value[key] === filter[key])

/** Whether `value` is in a time range filter. */
export const inRange = (value: number | undefined, range: typeof CogniteFunction.TimeRange.Type | undefined) =>
  range === undefined ||
  (value !== undefined && (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max))

/** The first page of a list the API returns oldest first (ties by id): `limit` items, or `DEFAULT_LIMIT`. */
export const oldestFirst = <A extends { readonly createdTime: number; readonly id: number }>(
  items: ReadonlyArray<A>,
  limit: number | undefined
) => [...items].sort((a, b) => a.createdTime - b.createdTime || a.id - b.id).slice(0, limit ?? DEFAULT_LIMIT)

/** Newest first; ties broken by id so a cursor is a strict position. */
export const callOrder = (a: FunctionCall.FunctionCall, b: FunctionCall.FunctionCall) =>
  b.startTime - a.startTime || b.id - a.id

// ----- lookups: the one place a resource that is not there becomes a 404 ------------------------------

const found = <A>(value: A | undefined, message: string, ref: ItemRef) =>
  value === undefined
    ? Effect.fail(new ApiFailure({ status: 404, message, missing: [ref] }))
    : Effect.succeed(value)

/** The function `id`, or a 404. */
export const functionOr404 = (id: number) =>
  Effect.flatMap(State, ({ store }) => found(store.functions.get(id), `Function ${id} not found`, { id }))

/** The call `callId` of function `functionId`, or a 404. */
export const callOr404 = (functionId: number, callId: number) =>
  Effect.flatMap(State, ({ store }) => {
    const stored = store.calls.get(callId)
    return found(
      stored?.call.functionId === functionId ? stored : undefined,
      `Call ${callId} of function ${functionId} not found`,
      { id: callId }
    )
  })

/** The schedule `id`, or a 404. */
export const scheduleOr404 = (id: number) =>
  Effect.flatMap(State, ({ store }) => found(store.schedules.get(id), `Schedule ${id} not found`, { id }))

/** The file `id`, or a 404. */
export const fileOr404 = (id: number) =>
  Effect.flatMap(State, ({ store }) => found(store.files.get(id), `File ${id} not found`, { id }))

/** The function the `functionId` path parameter names, or a 404. */
export const pathFunction = Effect.flatMap(idParam("functionId"), functionOr404)

/** The file the `fileId` path parameter names, or a 404. */
export const pathFile = Effect.flatMap(idParam("fileId"), fileOr404)

/** The schedule the `scheduleId` path parameter names, or a 404. */
export const pathSchedule = Effect.flatMap(idParam("scheduleId"), scheduleOr404)

/**
 * What a by-ids request names, in its order: `lookup` finds each item, and those it does not find fail
 * the request as `missing` `resource` (named by `ref`), unless `ignoreUnknown`.
 */
export const resolveItems = <I, S>(
  items: ReadonlyArray<I>,
  lookup: (item: I) => S | undefined,
  ref: (item: I) => ItemRef,
  resource: string,
  ignoreUnknown: boolean
) => {
  const found: Array<S> = []
  const unknown: Array<ItemRef> = []
  for (const item of items) {
    const stored = lookup(item)
    if (stored === undefined) unknown.push(ref(item))
    else found.push(stored)
  }
  return unknown.length > 0 && !ignoreUnknown ? Effect.fail(missing(unknown, resource)) : Effect.succeed(found)
}

/** The function of the Function App named by the `externalId` path parameter, or a 404. */
export const appOr404 = Effect.gen(function*() {
  const { store } = yield* State
  const externalId = (yield* param("externalId")) ?? ""
  return yield* found(store.functionByExternalId(externalId), `Function app ${externalId} not found`, { externalId })
})

// ----- starting calls ----------------------------------------------------------------------------------

/** Fails with 413 when the call's data is over the input limit. */
export const checkInput = (data: unknown) =>
  Effect.flatMap(RoutesConfig, ({ limits }) => {
    const size = jsonSize(data)
    return size > limits.maxInputBytes
      ? Effect.fail(
        new ApiFailure({
          status: 413,
          message: `The call's data is ${size} bytes, over the limit of ${limits.maxInputBytes} bytes`
        })
      )
      : Effect.void
  })

/**
 * Binds a nonce: it must exist, be unused and unexpired. It is marked used before anything else
 * happens (so two requests cannot both bind it); `release` undoes that when the request then fails.
 */
export const bindNonce = (nonce: string) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const t = yield* now
    let session: StoredSession | undefined
    for (const s of store.sessions.values()) {
      if (s.nonce === nonce) session = s
    }
    if (session === undefined) return yield* Effect.fail(badRequest("Invalid nonce: no session has this nonce"))
    if (session.nonceUsed) return yield* Effect.fail(badRequest("Invalid nonce: it has already been used"))
    if (session.status === "REVOKED") return yield* Effect.fail(badRequest("Invalid nonce: the session is revoked"))
    if (t >= session.nonceExpiresAt) return yield* Effect.fail(badRequest("Invalid nonce: it has expired"))
    const bound = session
    bound.nonceUsed = true
    bound.status = "ACTIVE"
    store.touch("session", bound.id)
    return {
      session: bound,
      release: Effect.sync(() => {
        bound.nonceUsed = false
        bound.status = "READY"
        store.touch("session", bound.id)
      })
    }
  })

/** Starts a call of function `functionId` after binding its nonce; a failed start gives the nonce back. */
export const startCall = (functionId: number, data: Readonly<Record<string, unknown>>, nonce: string) =>
  Effect.gen(function*() {
    yield* checkInput(data)
    const { release } = yield* bindNonce(nonce)
    const executor = yield* Executor
    return yield* executor.start(functionId, data).pipe(Effect.tapError(() => release))
  })
