/** Endpoints several services share. */
import { CogniteFunction, ErrorEnvelope, FunctionsLimits, Items } from "@effect-cdf/core"
import type { Ids } from "@effect-cdf/core"
import { NotFound } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import { Effect } from "effect"
import * as FunctionRef from "../FunctionRef.js"

const FunctionItems = Items.Items(CogniteFunction.CogniteFunction)

/** `POST /functions/byids` for up to 10 identifiers. */
export const functionsByIds = (
  client: CdfClient.Service,
  identifiers: ReadonlyArray<Ids.Identifier>,
  ignoreUnknownIds: boolean
) =>
  client.execute({
    operation: "cdf.Functions.retrieve",
    method: "POST",
    path: path`/functions/byids`,
    safety: "safe",
    body: { items: identifiers, ignoreUnknownIds },
    schema: FunctionItems
  }).pipe(Effect.map((page) => page.items))

/** One function by reference; `NotFound` when it does not exist. */
export const retrieveFunction = (client: CdfClient.Service, ref: FunctionRef.ValidRef) =>
  ref._tag === "Id"
    ? client.execute({
      operation: "cdf.Functions.retrieve",
      method: "GET",
      path: path`/functions/${ref.id}`,
      safety: "safe",
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

/**
 * `GET /functions/limits`, read once: concurrent uses share one request, and only a success is kept, so a
 * failed read (a network blip) is tried again by the next use instead of being remembered for good.
 */
export const cachedLimits = (client: CdfClient.Service) =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    let cached: FunctionsLimits.FunctionsLimits | undefined
    return lock.withPermits(1)(
      Effect.suspend(() =>
        cached !== undefined ? Effect.succeed(cached) : client.execute({
          operation: "cdf.Functions.limits",
          method: "GET",
          path: path`/functions/limits`,
          safety: "safe",
          schema: FunctionsLimits.FunctionsLimits
        }).pipe(Effect.tap((fetched) => {
          cached = fetched
        }))
      )
    )
  })
