/** Requests several services share, with their errors narrowed to what each kind of request can end with. */
import { CogniteFunction, ErrorEnvelope, FunctionCall, FunctionsLimits, Items } from "@effect-cdf/core"
import type { Ids } from "@effect-cdf/core"
import { type CallOutcomeUnknown, NotFound, type UntrustedUrl } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import type { JsonRequest, PageRequest } from "@effect-cdf/http/CdfRequest"
import { path } from "@effect-cdf/http/CdfRequest"
import { Effect, Stream } from "effect"
import * as FunctionRef from "../FunctionRef.js"
import type { ReadError, WriteError } from "../ServiceError.js"

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * A request to a path of the project (no URL handed back by the server), safe to re-send: `read` says
 * so itself, so its `safety` need not be given.
 */
export type ReadRequest<A, I> = DistributiveOmit<JsonRequest<A, I>, "safety"> & {
  readonly safety?: "safe"
  readonly url?: undefined
}

/** A request to a path of the project that may not be re-sent. */
export type WriteRequest<A, I> = JsonRequest<A, I> & { readonly url?: undefined }

const isUntrusted = (error: { readonly _tag: string }): error is UntrustedUrl => error._tag === "UntrustedUrl"
const isLostOrUntrusted = (error: { readonly _tag: string }): error is CallOutcomeUnknown | UntrustedUrl =>
  error._tag === "CallOutcomeUnknown" || isUntrusted(error)

// Only a URL handed back can be untrusted, and only an unsafe request can lose its outcome: either one here
// is a broken invariant of the transport, so a defect.
/** A safe request to a project path: its errors without the two it cannot have. */
export const onlyRead = <A, R>(effect: Effect.Effect<A, CdfClient.Error, R>): Effect.Effect<A, ReadError, R> =>
  Effect.catchIf(effect, isLostOrUntrusted, Effect.die)

/** An unsafe request to a project path: its errors without `UntrustedUrl`. */
export const onlyWrite = <A, R>(effect: Effect.Effect<A, CdfClient.Error, R>): Effect.Effect<A, WriteError, R> =>
  Effect.catchIf(effect, isUntrusted, Effect.die)

/** `client.execute` of a read. */
export const read = <A, I>(client: CdfClient.Service, request: ReadRequest<A, I>): Effect.Effect<A, ReadError> =>
  onlyRead(client.execute({ ...request, safety: "safe" }))

/** `client.execute` of a write. */
export const write = <A, I>(client: CdfClient.Service, request: WriteRequest<A, I>): Effect.Effect<A, WriteError> =>
  onlyWrite(client.execute(request))

/** `client.paginate` of a safe list. */
export const readPages = <A, I>(
  client: CdfClient.Service,
  request: PageRequest<A, I> & { readonly safety: "safe"; readonly url?: undefined }
): Stream.Stream<A, ReadError> =>
  Stream.catchAll(
    client.paginate(request),
    (error) => isLostOrUntrusted(error) ? Stream.die(error) : Stream.fail(error)
  )

/** `GET /functions/{functionId}/calls/{callId}`: one call as the service sees it now. */
export const retrieveCall = (client: CdfClient.Service, functionId: number, callId: number) =>
  read(client, {
    operation: "cdf.Calls.retrieve",
    method: "GET",
    path: path`/functions/${functionId}/calls/${callId}`,
    safety: "safe",
    schema: FunctionCall.FunctionCall
  })

const FunctionItems = Items.Items(CogniteFunction.CogniteFunction)

/** `POST /functions/byids` for up to 10 identifiers. */
export const functionsByIds = (
  client: CdfClient.Service,
  identifiers: ReadonlyArray<Ids.Identifier>,
  ignoreUnknownIds: boolean
) =>
  read(client, {
    operation: "cdf.Functions.retrieve",
    method: "POST",
    path: path`/functions/byids`,
    body: { items: identifiers, ignoreUnknownIds },
    schema: FunctionItems
  }).pipe(Effect.map((page) => page.items))

/** One function by reference; `NotFound` when it does not exist. */
export const retrieveFunction = (client: CdfClient.Service, ref: FunctionRef.ValidRef) =>
  ref._tag === "Id"
    ? read(client, {
      operation: "cdf.Functions.retrieve",
      method: "GET",
      path: path`/functions/${ref.id}`,
      schema: CogniteFunction.CogniteFunction
    })
    : functionsByIds(client, [FunctionRef.toIdentifier(ref)], true).pipe(
      Effect.flatMap((items) =>
        items.length > 0 ? Effect.succeed(items[0]) : Effect.fail(
          new NotFound({
            status: 404,
            message: `No ${FunctionRef.describe(ref)}`,
            missing: [new ErrorEnvelope.ItemReference({ externalId: ref.externalId })]
          })
        )
      )
    )

/** The id of a referenced function: an id as it is, an external id looked up with `POST /functions/byids`. */
export const resolveFunctionId = (client: CdfClient.Service, ref: FunctionRef.FunctionRef) =>
  FunctionRef.validate(ref).pipe(
    Effect.flatMap((valid) =>
      valid._tag === "Id"
        ? Effect.succeed(valid.id)
        : retrieveFunction(client, valid).pipe(Effect.map((fn) => fn.id))
    )
  )

/** The `limit` a list without one sends: every item, as the Python SDK asks for an unlimited list. */
export const LIST_ALL = 10_000

const limitsByClient = new WeakMap<CdfClient.Service, Effect.Effect<FunctionsLimits.FunctionsLimits, ReadError>>()

/**
 * `GET /functions/limits`, read once per client (every service over the same `CdfClient` shares it):
 * concurrent uses share one request, and only a success is kept, so a failed read (a network blip) is
 * tried again by the next use instead of being remembered for good.
 */
export const cachedLimits = (client: CdfClient.Service): Effect.Effect<FunctionsLimits.FunctionsLimits, ReadError> => {
  const known = limitsByClient.get(client)
  if (known !== undefined) return known
  const lock = Effect.unsafeMakeSemaphore(1)
  let cached: FunctionsLimits.FunctionsLimits | undefined
  const limits = lock.withPermits(1)(
    Effect.suspend(() =>
      cached !== undefined ? Effect.succeed(cached) : read(client, {
        operation: "cdf.Functions.limits",
        method: "GET",
        path: path`/functions/limits`,
        schema: FunctionsLimits.FunctionsLimits
      }).pipe(Effect.tap((fetched) => {
        cached = fetched
      }))
    )
  )
  limitsByClient.set(client, limits)
  return limits
}
