/**
 * Schedules: a fiber per schedule sleeps until the next time its cron expression (UTC) matches, then
 * calls the function with the schedule's data. Sleeping is `Effect.sleep`, so a `TestClock` drives it,
 * and `advance` moves the emulator's clock forward, firing every occurrence it passes.
 *
 * @since 0.1.0
 */
import { Context, Cron, Deferred, Effect, Either, FiberMap, Layer, Ref } from "effect"
import { Executor } from "./Executor.js"
import { State } from "./State.js"

/** Runs schedules. */
export class Scheduler extends Context.Tag("@effect-cdf/emulator/Scheduler")<Scheduler, Scheduler.Service>() {}

/** The scheduler's service. */
export declare namespace Scheduler {
  /** The scheduler's service. */
  export interface Service {
    /** Starts firing a stored schedule. */
    readonly start: (scheduleId: number) => Effect.Effect<void>
    /** Stops firing a schedule. */
    readonly stop: (scheduleId: number) => Effect.Effect<void>
    /** Moves the emulator's clock forward by `millis`, firing what falls due. */
    readonly advance: (millis: number) => Effect.Effect<void>
  }
}

/** Makes the scheduler; its fibers live in the current scope. */
export const make = Effect.gen(function*() {
  const { now, store } = yield* State
  const executor = yield* Executor
  const fibers = yield* FiberMap.make<number>()
  const clockMoved = yield* Ref.make(yield* Deferred.make<void>())

  /** Waits until the emulator's time reaches `target`, waking early when `advance` moves the clock. */
  const waitUntil = (target: number): Effect.Effect<void> =>
    Effect.gen(function*() {
      for (;;) {
        const t = yield* now
        if (t >= target) return
        const moved = yield* Ref.get(clockMoved)
        yield* Effect.race(Effect.sleep(target - t), Deferred.await(moved))
      }
    })

  const loop = (scheduleId: number) =>
    Effect.gen(function*() {
      const first = store.schedules.get(scheduleId)
      if (first === undefined) return
      const cron = Cron.parse(first.schedule.cronExpression, "UTC")
      if (Either.isLeft(cron)) return
      let from = yield* now
      for (;;) {
        const next = Cron.next(cron.right, new Date(from)).getTime()
        yield* waitUntil(next)
        from = next
        const current = store.schedules.get(scheduleId)
        if (current === undefined) return
        const sessionId = current.schedule.sessionId
        const session = sessionId === undefined ? undefined : store.sessions.get(sessionId)
        if (session !== undefined && session.status !== "ACTIVE") {
          yield* Effect.logDebug(`schedule ${scheduleId}: session ${session.id} is ${session.status}, not firing`)
          continue
        }
        const functionId = current.schedule.functionId
        if (functionId === undefined) continue
        yield* executor.start(functionId, current.data ?? {}, { scheduleId, scheduledTime: next }).pipe(
          Effect.catchAll((failure) =>
            Effect.logDebug(`schedule ${scheduleId} could not call function ${functionId}: ${failure.message}`)
          )
        )
      }
    })

  const service: Scheduler.Service = {
    start: (scheduleId) => FiberMap.run(fibers, scheduleId, loop(scheduleId)).pipe(Effect.asVoid),
    stop: (scheduleId) => FiberMap.remove(fibers, scheduleId),
    advance: (millis) =>
      Effect.gen(function*() {
        store.offsetMillis += Math.max(0, millis)
        store.touch("meta")
        const fresh = yield* Deferred.make<void>()
        const old = yield* Ref.getAndSet(clockMoved, fresh)
        yield* Deferred.succeed(old, undefined)
        // Let the woken schedule fibers run and start their calls before returning.
        yield* Effect.yieldNow()
      })
  }
  return service
})

/** The scheduler layer. */
export const layer = Layer.scoped(Scheduler, make)
