/**
 * The admin API under `/__emulator` (every endpoint but `GET /health` needs the dev token): fault
 * rules, execution counters, the calls each function ran with their start, the emulator's clock and
 * its process's memory.
 *
 * @since 0.1.0
 */
import { HttpRouter } from "@effect/platform"
import { Effect, Schema } from "effect"
import { FaultPlan, Faults } from "../Faults.js"
import { decodeBody, intParam, jsonResponse } from "../internal/http.js"
import { Scheduler } from "../Scheduler.js"
import { State } from "../State.js"
import { query, RoutesConfig } from "./common.js"

/** Where the admin API is mounted. */
export const PREFIX = "/__emulator"

const AdvanceRequest = Schema.Struct({ millis: Schema.Int.pipe(Schema.nonNegative()) })

const encodePlan = Schema.encodeSync(FaultPlan)

const faultsView = Effect.gen(function*() {
  const faults = yield* Faults
  const stats = yield* faults.stats
  return jsonResponse({
    seed: yield* faults.seed,
    rules: stats.map((s) => ({
      ...encodePlan({ seed: 0, rules: [s.rule] }).rules[0],
      matched: s.matched,
      fired: s.fired
    }))
  })
})

const setFaults = Effect.gen(function*() {
  const plan = yield* decodeBody(FaultPlan)
  yield* Effect.flatMap(Faults, (faults) => faults.set(plan))
  return jsonResponse(encodePlan(plan))
})

/** How many times each function's handler ran, and the calls now. */
const counters = Effect.gen(function*() {
  const { store } = yield* State
  const executions = [...store.executions.entries()].map(([functionId, count]) => {
    const xid = store.functions.get(functionId)?.fn.externalId
    return { functionId, ...(xid === undefined ? {} : { externalId: xid }), executions: count }
  })
  return jsonResponse({
    executions,
    totalExecutions: executions.reduce((n, e) => n + e.executions, 0),
    calls: store.calls.size,
    running: store.runningCalls()
  })
})

/**
 * Every call (of one function with `?functionId=`), oldest first, with when it started: one entry per
 * execution of a handler, so a test can tell how many executions a request caused and when.
 */
const executions = Effect.gen(function*() {
  const { store } = yield* State
  const raw = (yield* query).get("functionId")
  const functionId = raw === null ? undefined : yield* intParam(raw, "functionId")
  const items = [...store.calls.values()]
    .map((c) => c.call)
    .filter((call) => functionId === undefined || call.functionId === functionId)
    .sort((a, b) => a.startTime - b.startTime || a.id - b.id)
    .map((call) => ({
      callId: call.id,
      functionId: call.functionId,
      startTime: call.startTime,
      status: call.status,
      ...(call.scheduleId === undefined ? {} : { scheduleId: call.scheduleId })
    }))
  return jsonResponse({ items })
})

const clock = Effect.gen(function*() {
  const { now, store } = yield* State
  return jsonResponse({ now: yield* now, offsetMillis: store.offsetMillis })
})

/**
 * The emulator process's memory (`process.memoryUsage()`, in bytes), to watch what calls retain; after
 * a full garbage collection when Node runs with `--expose-gc`, so the figures are what is really held.
 */
const memoryUsage = Effect.sync(() => {
  const gc: unknown = Reflect.get(globalThis, "gc")
  if (typeof gc === "function") gc()
  return jsonResponse(process.memoryUsage())
})

/** The health check: no token needed. */
export const health = Effect.map(RoutesConfig, ({ project }) => jsonResponse({ status: "ok", project }))

/** The admin routes, relative to `PREFIX`. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/health", health),
  HttpRouter.get("/faults", faultsView),
  HttpRouter.post("/faults", setFaults),
  HttpRouter.put("/faults", setFaults),
  HttpRouter.del("/faults", Effect.as(Effect.flatMap(Faults, (faults) => faults.clear), jsonResponse({}))),
  HttpRouter.get("/counters", counters),
  HttpRouter.get("/executions", executions),
  HttpRouter.post(
    "/advance",
    Effect.gen(function*() {
      const { millis } = yield* decodeBody(AdvanceRequest)
      yield* Effect.flatMap(Scheduler, (scheduler) => scheduler.advance(millis))
      return yield* clock
    })
  ),
  HttpRouter.get("/clock", clock),
  HttpRouter.get("/memory", memoryUsage)
)
