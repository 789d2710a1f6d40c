/**
 * The request and response wrappers every list, byids and delete endpoint shares.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ById, Identifier } from "./Ids.js"
import { optional, optionalExact } from "./internal/schema.js"

/** `{"items": [...]}` */
export const Items = <S extends Schema.Schema.Any>(item: S) => Schema.Struct({ items: Schema.Array(item) })

/** `{"items": [...], "nextCursor"?: string}`: a page of a cursor-paginated list. */
export const ItemsWithCursor = <S extends Schema.Schema.Any>(item: S) =>
  Schema.Struct({ items: Schema.Array(item), nextCursor: optional(Schema.String) })

/** `{"items": [...]}` with 1..`max` items: the body of a create, byids or delete request. */
export const ItemsRequest = <S extends Schema.Schema.Any>(item: S, max: number) =>
  Schema.Struct({
    items: Schema.Array(item).pipe(
      Schema.minItems<Schema.Array$<S>>(1),
      Schema.maxItems<Schema.filter<Schema.Array$<S>>>(max)
    )
  })

/** The body of a byids request: 1..`max` identifiers and whether unknown ones are ignored. */
export const ByIdsRequest = <S extends Schema.Schema.Any>(item: S, max: number) =>
  Schema.Struct({
    items: Schema.Array(item).pipe(
      Schema.minItems<Schema.Array$<S>>(1),
      Schema.maxItems<Schema.filter<Schema.Array$<S>>>(max)
    ),
    ignoreUnknownIds: optionalExact(Schema.Boolean)
  })

/** `POST /functions/byids` and `/functions/delete`: at most 10 ids or external ids. */
export const FunctionIdentifiersRequest = ByIdsRequest(Identifier, 10)
/** `POST .../calls/byids`: at most 10,000 ids. */
export const CallIdsRequest = ByIdsRequest(ById, 10_000)
/** `POST /functions/schedules/byids` and `/delete`: at most 10,000 ids. */
export const ScheduleIdsRequest = ByIdsRequest(ById, 10_000)

/** The item limits of the API: how many items one request may carry. */
export const ItemLimits = {
  functionsByIds: 10,
  functionsDelete: 10,
  callsByIds: 10_000,
  schedulesByIds: 10_000,
  schedulesDelete: 10_000,
  create: 1
} as const

/** The empty object deletes answer with. */
export const EmptyResponse = Schema.Struct({})
