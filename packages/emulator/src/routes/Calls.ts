/**
 * `/functions/{functionId}/call` and `/functions/{functionId}/calls/...`: start a call, list calls with
 * cursors, retrieve them, their responses and their logs.
 *
 * @since 0.1.0
 */
import { FunctionCall, Ids, Items } from "@effect-cdf/core"
import { HttpRouter } from "@effect/platform"
import { Effect, Redacted, Schema } from "effect"
import { ApiFailure, badRequest, decodeBody, encoded } from "../internal/http.js"
import { State, type StoredCall } from "../State.js"
import {
  callOr404,
  callOrder,
  DEFAULT_LIMIT,
  functionOr404,
  idParam,
  inRange,
  limitParam,
  pathFunction,
  query,
  requires,
  requiresActivated,
  resolveItems,
  startCall
} from "./common.js"

const CallList = Items.ItemsWithCursor(FunctionCall.FunctionCall)
/** A list of calls. */
export const CallItems = Items.Items(FunctionCall.FunctionCall)
const CallsCursor = Schema.parseJson(Schema.Tuple(Schema.Number, Schema.Number))

const encodeCursor = (startTime: number, id: number) =>
  Buffer.from(JSON.stringify([startTime, id]), "utf8").toString("base64url")

const decodeCursor = (cursor: string) =>
  Schema.decodeUnknown(CallsCursor)(Buffer.from(cursor, "base64url").toString("utf8")).pipe(
    Effect.mapError(() => badRequest("Invalid cursor"))
  )

const listCalls = (
  functionId: number,
  filter: FunctionCall.FunctionCallFilter | undefined,
  limit: number | undefined,
  cursor: string | undefined
) =>
  Effect.gen(function*() {
    yield* requires("functionsAcl:READ")
    yield* functionOr404(functionId)
    const { store } = yield* State
    const after = cursor === undefined ? undefined : yield* decodeCursor(cursor)
    const all = [...store.calls.values()]
      .map((c) => c.call)
      .filter((call) =>
        call.functionId === functionId &&
        (filter === undefined ||
          ((filter.status === undefined || call.status === filter.status) &&
            (filter.scheduleId === undefined || call.scheduleId === filter.scheduleId) &&
            inRange(call.startTime, filter.startTime) &&
            inRange(call.endTime, filter.endTime)))
      )
      .sort(callOrder)
      .filter((call) =>
        after === undefined || call.startTime < after[0] || (call.startTime === after[0] && call.id < after[1])
      )
    const n = limit ?? DEFAULT_LIMIT
    const items = all.slice(0, n)
    const last = items[items.length - 1]
    return encoded(CallList, {
      items,
      ...(all.length > n && last !== undefined ? { nextCursor: encodeCursor(last.startTime, last.id) } : {})
    })
  })

/** The body of `GET .../response`. */
const callResponseBody = (stored: StoredCall) => ({
  callId: stored.call.id,
  functionId: stored.call.functionId,
  ...(stored.response === undefined ? {} : { response: stored.response.value })
})

/** The call named by the path, of the function named by the path (both must exist). */
const pathCall = Effect.gen(function*() {
  yield* requires("functionsAcl:READ")
  const { fn } = yield* pathFunction
  return yield* Effect.flatMap(idParam("callId"), (callId) => callOr404(fn.id, callId))
})

/** The routes of one function's calls. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/functions/:functionId/call",
    Effect.gen(function*() {
      yield* requiresActivated("functionsAcl:RUN")
      const stored = yield* pathFunction
      const body = yield* decodeBody(FunctionCall.CallFunctionRequest)
      const call = yield* startCall(stored.fn.id, body.data ?? {}, Redacted.value(body.nonce))
      return encoded(FunctionCall.FunctionCall, call.call, 201)
    })
  ),
  HttpRouter.get(
    "/functions/:functionId/calls",
    Effect.gen(function*() {
      const functionId = yield* idParam("functionId")
      const limit = yield* limitParam
      const cursor = (yield* query).get("cursor") ?? undefined
      return yield* listCalls(functionId, undefined, limit, cursor)
    })
  ),
  HttpRouter.post(
    "/functions/:functionId/calls/list",
    Effect.gen(function*() {
      const functionId = yield* idParam("functionId")
      const body = yield* decodeBody(FunctionCall.FunctionCallListRequest)
      return yield* listCalls(functionId, body.filter, body.limit, body.cursor)
    })
  ),
  HttpRouter.post(
    "/functions/:functionId/calls/byids",
    Effect.gen(function*() {
      yield* requires("functionsAcl:READ")
      const { fn } = yield* pathFunction
      const { store } = yield* State
      const body = yield* decodeBody(Items.CallIdsRequest)
      const ids = body.items.map((item) => item.id)
      if (new Set(ids).size !== ids.length) {
        const seen = new Set<number>()
        const dups = ids.filter((id) => seen.has(id) || (seen.add(id), false)).map((id) => ({ id }))
        return yield* Effect.fail(new ApiFailure({ status: 400, message: "Duplicate call ids", duplicated: dups }))
      }
      const found = yield* resolveItems(
        ids,
        (id) => {
          const c = store.calls.get(id)
          return c?.call.functionId === fn.id ? c.call : undefined
        },
        (id) => ({ id }),
        "calls",
        body.ignoreUnknownIds === true
      )
      return encoded(CallItems, { items: found })
    })
  ),
  HttpRouter.get(
    "/functions/:functionId/calls/:callId",
    Effect.map(pathCall, (stored) => encoded(FunctionCall.FunctionCall, stored.call))
  ),
  HttpRouter.get(
    "/functions/:functionId/calls/:callId/response",
    Effect.gen(function*() {
      const stored = yield* pathCall
      if (stored.call.status === "Running") {
        return yield* Effect.fail(badRequest(`Call ${stored.call.id} is still running: it has no response yet`))
      }
      return encoded(FunctionCall.FunctionCallResponse, new FunctionCall.FunctionCallResponse(callResponseBody(stored)))
    })
  ),
  HttpRouter.get(
    "/functions/:functionId/calls/:callId/logs",
    Effect.map(pathCall, (stored) =>
      encoded(FunctionCall.FunctionCallLogs, {
        items: stored.logs.map((line) =>
          new FunctionCall.FunctionCallLogEntry({
            timestamp: Ids.EpochMillis.make(Math.max(0, Math.floor(line.timestamp))),
            message: line.message
          })
        )
      }))
  )
)
