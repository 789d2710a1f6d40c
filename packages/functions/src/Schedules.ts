/**
 * The Schedules service: run a function on a cron, with a session bound to the schedule. A schedule's
 * nonce comes from (in this order) an explicit `nonce`, the given `clientCredentials`, or the `Sessions`
 * default (the configured client credentials, else a token exchange).
 *
 * @example
 * ```ts
 * import { Schedules } from "@effect-cdf/functions/Schedules"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const schedules = yield* Schedules
 *   const schedule = yield* schedules.create({
 *     name: "nightly",
 *     cronExpression: "0 2 * * *",
 *     function: "my-function",
 *     data: { full: true }
 *   })
 *   yield* Effect.log(`schedule ${schedule.id}: ${schedule.when ?? schedule.cronExpression}`)
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Ids } from "@effect-cdf/core"
import { FunctionSchedule, Items } from "@effect-cdf/core"
import type { NotFound } from "@effect-cdf/core/Errors"
import { CdfClient } from "@effect-cdf/http/CdfClient"
import { path } from "@effect-cdf/http/CdfRequest"
import type { HttpClient } from "@effect/platform"
import type { Redacted } from "effect"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { ConfigError } from "effect"
import * as FunctionRef from "./FunctionRef.js"
import { LIST_ALL, read, resolveFunctionId, write } from "./internal/api.js"
import { definedOnly } from "./internal/defined.js"
import { decodeInput, encode } from "./internal/encode.js"
import { fromEnv } from "./internal/env.js"
import { validScheduleId } from "./internal/ids.js"
import type { ReadError, WriteError } from "./ServiceError.js"
import { checkNonce, Sessions } from "./Sessions.js"
import type { ClientCredentials } from "./Sessions.js"

/** The schedules service. */
export class Schedules extends Context.Tag("@effect-cdf/functions/Schedules")<Schedules, Schedules.Service>() {}

/** The types of the `Schedules` service. */
export declare namespace Schedules {
  /** Every error a schedules request can end with; each method's type says which of them it can. */
  export type Error = WriteError

  /** What the schedules service offers. */
  export interface Service {
    /**
     * Creates a schedule bound to a new session (or the given nonce). An external id is looked up and sent as
     * `functionId`. Input is checked before any session is created.
     */
    readonly create: (options: CreateOptions) => Effect.Effect<FunctionSchedule.FunctionSchedule, WriteError>
    /** `POST /functions/schedules/list`: one request, not paginated; every schedule (up to 10,000) unless `limit` is given. */
    readonly list: (options?: ListOptions) => Effect.Effect<ReadonlyArray<FunctionSchedule.FunctionSchedule>, ReadError>
    /** One schedule; `NotFound` when it does not exist. */
    readonly retrieve: (id: number) => Effect.Effect<FunctionSchedule.FunctionSchedule, ReadError>
    /** One schedule, or `None` when it does not exist. */
    readonly retrieveOption: (
      id: number
    ) => Effect.Effect<Option.Option<FunctionSchedule.FunctionSchedule>, Exclude<ReadError, NotFound>>
    /** Several schedules, in chunks of 10,000; unknown ids fail with `NotFound` unless ignored. */
    readonly retrieveMany: (
      ids: ReadonlyArray<number>,
      options?: { readonly ignoreUnknownIds?: boolean | undefined }
    ) => Effect.Effect<ReadonlyArray<FunctionSchedule.FunctionSchedule>, ReadError>
    /** Deletes schedules, in chunks of 10,000 (duplicates dropped); a failure can leave earlier chunks deleted. */
    readonly delete: (ids: ReadonlyArray<number>) => Effect.Effect<void, WriteError>
    /** The data a schedule passes to each call, or `None` when it has none. */
    readonly inputData: (id: number) => Effect.Effect<Option.Option<Record<string, unknown>>, ReadError>
  }
}

/** The options of `create`. */
export interface CreateOptions {
  /** 1..140 characters. */
  readonly name: string
  /** A 5-field Unix cron expression (minute hour day-of-month month day-of-week), in UTC. */
  readonly cronExpression: string
  /** The function to run: an id, or an external id that is looked up once. */
  readonly function: FunctionRef.FunctionRef
  /** The `data` every scheduled call receives (a JSON object). */
  readonly data?: Readonly<Record<string, unknown>> | undefined
  /** At most 500 characters. */
  readonly description?: string | undefined
  /** A nonce from a session you created: used as it is; no session is created. */
  readonly nonce?: Redacted.Redacted<string> | undefined
  /** Credentials to create the schedule's session with, instead of the `Sessions` default. */
  readonly clientCredentials?: ClientCredentials | undefined
}

/** The filter of `list`: every field is optional and they combine with AND. */
export interface ScheduleFilterInput {
  readonly name?: string | undefined
  /** Schedules of this function (an external id is looked up to its id). */
  readonly function?: FunctionRef.FunctionRef | undefined
  /** An inclusive range of epoch milliseconds. */
  readonly createdTime?: { readonly min?: number | undefined; readonly max?: number | undefined } | undefined
  readonly cronExpression?: string | undefined
}

/** The options of `list`. */
export interface ListOptions {
  readonly filter?: ScheduleFilterInput | undefined
  /** At most this many schedules; by default every one (the request asks for 10,000). */
  readonly limit?: number | undefined
}

/** The `limit` a `list` without one sends: all schedules. */
export { LIST_ALL }

const ScheduleItems = Items.Items(FunctionSchedule.FunctionSchedule)
const WriteRequest = Schema.Struct({ items: Schema.Tuple(FunctionSchedule.FunctionScheduleWrite) })
const encodeWriteRequest = encode(WriteRequest, "schedule")
const decodeWrite = decodeInput(FunctionSchedule.FunctionScheduleWrite, "schedule")
const decodeListRequest = decodeInput(FunctionSchedule.FunctionScheduleListRequest, "schedule list request")
const encodeListRequest = encode(FunctionSchedule.FunctionScheduleListRequest, "schedule list request")
const scheduleId = validScheduleId

const distinctIds = (ids: ReadonlyArray<number>) =>
  Effect.map(Effect.forEach(ids, scheduleId), (valid) => [...new Set(valid)].map((id) => ({ id })))

/** A schedules service over a CDF client and a sessions service. */
export const make: Effect.Effect<Schedules.Service, never, CdfClient | Sessions> = Effect.gen(function*() {
  const client = yield* CdfClient
  const sessions = yield* Sessions

  const create = Effect.fn("Schedules.create")(function*(options: CreateOptions) {
    const ref = yield* FunctionRef.validate(options.function)
    // The shape is checked with the reference as given, before any lookup or session.
    const checked = yield* decodeWrite(definedOnly({
      name: options.name,
      cronExpression: options.cronExpression,
      description: options.description,
      data: options.data,
      ...(ref._tag === "Id" ? { functionId: ref.id } : { functionExternalId: ref.externalId })
    }))
    // a nonce given is checked with the input, before the lookup
    if (options.nonce !== undefined) yield* checkNonce(options.nonce)
    const functionId = ref._tag === "Id" ? ref.id : yield* resolveFunctionId(client, ref.externalId)
    const nonce = yield* sessions.nonce({ nonce: options.nonce, clientCredentials: options.clientCredentials })
    const { functionExternalId: _xid, ...rest } = checked
    const body = yield* encodeWriteRequest({
      items: [FunctionSchedule.FunctionScheduleWrite.make({ ...rest, functionId, nonce })]
    })
    const response = yield* write(client, {
      operation: "cdf.Schedules.create",
      method: "POST",
      path: path`/functions/schedules`,
      safety: "unsafe",
      body,
      schema: ScheduleItems
    })
    const created = response.items[0]
    if (created === undefined) {
      return yield* Effect.die(new Error("POST /functions/schedules answered with no schedule"))
    }
    return created
  })

  const list = Effect.fn("Schedules.list")(function*(options: ListOptions = {}) {
    const filter = options.filter ?? {}
    const functionId = filter.function === undefined ? undefined : yield* resolveFunctionId(client, filter.function)
    const request = yield* decodeListRequest({
      filter: definedOnly({
        name: filter.name,
        functionId,
        createdTime: filter.createdTime === undefined ? undefined : definedOnly(filter.createdTime),
        cronExpression: filter.cronExpression
      }),
      limit: options.limit ?? LIST_ALL
    })
    const response = yield* read(client, {
      operation: "cdf.Schedules.list",
      method: "POST",
      path: path`/functions/schedules/list`,
      body: yield* encodeListRequest(request),
      schema: ScheduleItems
    })
    return response.items
  })

  const get = (id: Ids.ScheduleId) =>
    read(client, {
      operation: "cdf.Schedules.retrieve",
      method: "GET",
      path: path`/functions/schedules/${id}`,
      schema: FunctionSchedule.FunctionSchedule
    })

  const retrieve = Effect.fn("Schedules.retrieve")(function*(id: number) {
    return yield* get(yield* scheduleId(id))
  })

  const retrieveOption = Effect.fn("Schedules.retrieveOption")(function*(id: number) {
    return yield* get(yield* scheduleId(id)).pipe(
      Effect.map(Option.some),
      Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
    )
  })

  const retrieveMany = Effect.fn("Schedules.retrieveMany")(
    function*(ids: ReadonlyArray<number>, options: { readonly ignoreUnknownIds?: boolean | undefined } = {}) {
      const items = yield* distinctIds(ids)
      const ignoreUnknownIds = options.ignoreUnknownIds ?? false
      const pages = yield* client.chunked(items, Items.ItemLimits.schedulesByIds, (chunk) =>
        read(client, {
          operation: "cdf.Schedules.retrieve",
          method: "POST",
          path: path`/functions/schedules/byids`,
          body: { items: chunk, ignoreUnknownIds },
          schema: ScheduleItems
        }))
      return pages.flatMap((page) => page.items)
    }
  )

  const delete_ = Effect.fn("Schedules.delete")(function*(ids: ReadonlyArray<number>) {
    const items = yield* distinctIds(ids)
    yield* client.chunked(items, Items.ItemLimits.schedulesDelete, (chunk) =>
      write(client, {
        operation: "cdf.Schedules.delete",
        method: "POST",
        path: path`/functions/schedules/delete`,
        safety: "unsafe",
        body: { items: chunk },
        schema: Items.EmptyResponse
      }))
  })

  const inputData = Effect.fn("Schedules.inputData")(function*(id: number) {
    const valid = yield* scheduleId(id)
    const response = yield* read(client, {
      operation: "cdf.Schedules.inputData",
      method: "GET",
      path: path`/functions/schedules/${valid}/input_data`,
      schema: FunctionSchedule.FunctionScheduleInputData
    })
    return Option.fromNullable(response.data)
  })

  return Schedules.of({ create, list, retrieve, retrieveOption, retrieveMany, delete: delete_, inputData })
})

/** The schedules service as a layer over a `CdfClient` and `Sessions`. */
export const layer: Layer.Layer<Schedules, never, CdfClient | Sessions> = Layer.effect(Schedules, make)

/**
 * The service with its client, auth and sessions from the `COGNITE_*` variables; only the `HttpClient` is
 * left to provide. To use several services, prefer `CogniteFunctions.layerConfig`: one client for all.
 */
export const layerConfig: Layer.Layer<Schedules, ConfigError.ConfigError, HttpClient.HttpClient> = layer.pipe(
  Layer.provide(fromEnv)
)
