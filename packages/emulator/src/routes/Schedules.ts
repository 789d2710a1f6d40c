/**
 * `/functions/schedules/...`: create, list, retrieve and delete schedules and read their input data.
 * Mounted on its own prefix, so no `/functions/{functionId}` route can ever capture these paths.
 *
 * @since 0.1.0
 */
import { FunctionSchedule, Ids, Items } from "@effect-cdf/core"
import { HttpRouter } from "@effect/platform"
import { Effect, Redacted, Schema } from "effect"
import { describeCron } from "../internal/cronText.js"
import { badRequest, decodeBody, decodeValue, encoded, type ItemRef, missing } from "../internal/http.js"
import { Scheduler } from "../Scheduler.js"
import { State, type Store } from "../State.js"
import {
  bindNonce,
  checkInput,
  inRange,
  limitParam,
  matchesWhereGiven,
  oldestFirst,
  pathSchedule,
  readOne,
  requiresActivated,
  resolveItems,
  RoutesConfig,
  withBody,
  withStore
} from "./common.js"

/** Where these routes are mounted. */
export const PREFIX = "/functions/schedules"

const ScheduleCreateRequest = Items.ItemsRequest(FunctionSchedule.FunctionScheduleWrite, Items.ItemLimits.create)
const ScheduleList = Items.Items(FunctionSchedule.FunctionSchedule)
const RawScheduleListRequest = Schema.Struct({
  filter: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { exact: true }),
  limit: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { exact: true })
})

const listSchedules = (filter: FunctionSchedule.FunctionScheduleFilter | undefined, limit: number | undefined) =>
  withStore("functionsAcl:READ", (store) => {
    const xidFunction = filter?.functionExternalId === undefined
      ? undefined
      : store.functionByExternalId(filter.functionExternalId)
    const items = oldestFirst(
      [...store.schedules.values()]
        .map((s) => s.schedule)
        .filter((s) =>
          filter === undefined ||
          (matchesWhereGiven(filter, s, ["name", "functionId", "cronExpression"]) &&
            (filter.functionExternalId === undefined ||
              (xidFunction !== undefined && s.functionId === xidFunction.fn.id)) &&
            inRange(s.createdTime, filter.createdTime))
        ),
      limit
    )
    return Effect.succeed(encoded(ScheduleList, { items }))
  })

const createSchedule = Effect.gen(function*() {
  yield* requiresActivated("functionsAcl:WRITE")
  const { now, store } = yield* State
  const { limits } = yield* RoutesConfig
  const body = yield* decodeBody(ScheduleCreateRequest)
  const write = body.items[0]
  const stored = write.functionId !== undefined
    ? store.functions.get(write.functionId)
    : write.functionExternalId === undefined
    ? undefined
    : store.functionByExternalId(write.functionExternalId)
  if (stored === undefined) {
    const ref: ItemRef = write.functionId !== undefined
      ? { id: write.functionId }
      : { externalId: write.functionExternalId ?? "" }
    return yield* Effect.fail(missing([ref], "functions"))
  }
  if (write.nonce === undefined) {
    return yield* Effect.fail(
      badRequest("A schedule needs a nonce: create a session with POST /sessions and pass its nonce")
    )
  }
  if (store.schedules.size >= limits.maxSchedulesPerProject) {
    return yield* Effect.fail(
      badRequest(`The project already has ${limits.maxSchedulesPerProject} schedules, the most it may have`)
    )
  }
  let perFunction = 0
  for (const s of store.schedules.values()) if (s.schedule.functionId === stored.fn.id) perFunction++
  if (perFunction >= limits.maxSchedulesPerFunction) {
    return yield* Effect.fail(
      badRequest(`Function ${stored.fn.id} already has ${limits.maxSchedulesPerFunction} schedules`)
    )
  }
  if (write.data !== undefined) yield* checkInput(write.data)
  const { session } = yield* bindNonce(Redacted.value(write.nonce))
  const t = yield* now
  const id = store.newId(store.schedules)
  const schedule = new FunctionSchedule.FunctionSchedule({
    id: Ids.ScheduleId.make(id),
    name: write.name,
    createdTime: Ids.EpochMillis.make(t),
    cronExpression: write.cronExpression,
    when: describeCron(write.cronExpression),
    functionId: stored.fn.id,
    sessionId: Ids.SessionId.make(session.id),
    ...(write.description === undefined ? {} : { description: write.description }),
    ...(write.functionExternalId === undefined ? {} : { functionExternalId: write.functionExternalId })
  })
  store.schedules.set(id, { schedule, data: write.data })
  store.touch("schedule", id)
  yield* Effect.flatMap(Scheduler, (scheduler) => scheduler.start(id))
  return encoded(ScheduleList, { items: [schedule] }, 201)
})

/** The spec spells the filter's keys `FunctionId` / `FunctionExternalId`; the Python SDK sends camelCase. */
const scheduleFilter = (raw: Readonly<Record<string, unknown>> | undefined) =>
  Effect.gen(function*() {
    if (raw === undefined) return undefined
    const { FunctionExternalId, FunctionId, ...rest } = raw
    const merged: Record<string, unknown> = { ...rest }
    for (
      const [spec, camel, value] of [
        ["FunctionId", "functionId", FunctionId],
        ["FunctionExternalId", "functionExternalId", FunctionExternalId]
      ] as const
    ) {
      if (value === undefined) continue
      if (merged[camel] !== undefined && merged[camel] !== value) {
        return yield* Effect.fail(badRequest(`filter.${spec} and filter.${camel} disagree`))
      }
      merged[camel] = value
    }
    return yield* decodeValue(FunctionSchedule.FunctionScheduleFilter, merged, "filter")
  })

/** The schedules named in the body; unknown ones are `missing` unless ignored. */
const namedSchedules = (store: Store, body: typeof Items.ScheduleIdsRequest.Type) =>
  resolveItems(
    body.items,
    (item) => store.schedules.get(item.id),
    (item) => ({ id: item.id }),
    "schedules",
    body.ignoreUnknownIds === true
  )

/** The routes under `PREFIX`, relative to it. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.post("/", createSchedule),
  HttpRouter.get("/", Effect.flatMap(limitParam, (limit) => listSchedules(undefined, limit))),
  HttpRouter.post(
    "/list",
    Effect.gen(function*() {
      const body = yield* decodeBody(RawScheduleListRequest)
      return yield* listSchedules(yield* scheduleFilter(body.filter), body.limit)
    })
  ),
  HttpRouter.post(
    "/byids",
    withBody(
      "functionsAcl:READ",
      Items.ScheduleIdsRequest,
      (body, store) =>
        Effect.map(
          namedSchedules(store, body),
          (found) => encoded(ScheduleList, { items: found.map((s) => s.schedule) })
        )
    )
  ),
  HttpRouter.post(
    "/delete",
    withBody("functionsAcl:WRITE", Items.ScheduleIdsRequest, (body, store) =>
      Effect.gen(function*() {
        const scheduler = yield* Scheduler
        for (const s of yield* namedSchedules(store, body)) {
          const id = s.schedule.id
          store.schedules.delete(id)
          store.touch("schedule", id)
          const session = s.schedule.sessionId === undefined ? undefined : store.sessions.get(s.schedule.sessionId)
          if (session !== undefined) {
            session.status = "REVOKED"
            store.touch("session", session.id)
          }
          yield* scheduler.stop(id)
        }
        return encoded(Items.EmptyResponse, {})
      }))
  ),
  HttpRouter.get(
    "/:scheduleId",
    readOne("functionsAcl:READ", pathSchedule, (stored) => encoded(FunctionSchedule.FunctionSchedule, stored.schedule))
  ),
  HttpRouter.get(
    "/:scheduleId/input_data",
    readOne("functionsAcl:READ", pathSchedule, (stored) =>
      encoded(
        FunctionSchedule.FunctionScheduleInputData,
        new FunctionSchedule.FunctionScheduleInputData({
          id: stored.schedule.id,
          ...(stored.data === undefined ? {} : { data: stored.data })
        })
      ))
  )
)
