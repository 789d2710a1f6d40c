import { Clock, Effect, Exit, Fiber, Option, TestClock } from "effect"

/** One real turn of the event loop, so promises that are ready settle. */
const realYield = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))

/** The pending sleeps after `now` and no later than `until`. */
const sleepsUntil = (now: number, until: number) =>
  Effect.map(TestClock.sleeps(), (sleeps) => Array.from(sleeps).filter((at) => at > now && at <= until))

/** @internal */
export const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, horizonMillis = 61_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 200_000; i++) {
      yield* realYield
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) {
        return yield* Exit.matchEffect(done.value, { onFailure: Effect.failCause, onSuccess: Effect.succeed })
      }
      const now = yield* Clock.currentTimeMillis
      const next = yield* sleepsUntil(now, now + horizonMillis)
      if (next.length > 0) yield* TestClock.setTime(Math.min(...next))
    }
    return yield* Effect.dieMessage("drive: the effect did not finish")
  })

/** @internal */
export const advance = (millis: number) =>
  Effect.gen(function*() {
    const target = (yield* Clock.currentTimeMillis) + millis
    for (let i = 0; i < 100_000; i++) {
      yield* realYield
      yield* realYield
      const now = yield* Clock.currentTimeMillis
      const next = yield* sleepsUntil(now, target)
      if (next.length === 0) {
        if (now < target) yield* TestClock.setTime(target)
        yield* realYield
        return
      }
      yield* TestClock.setTime(Math.min(...next))
    }
  })
