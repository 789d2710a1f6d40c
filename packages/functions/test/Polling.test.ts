import { RateLimited } from "@effect-cdf/core/Errors"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Option, Ref, Schedule, TestClock } from "effect"
import * as Calls from "../src/Calls.js"
import * as Functions from "../src/Functions.js"
import * as Polling from "../src/Polling.js"
import { callBody, drive, scriptCall, scripted } from "./support/scripted.js"

/** A poll that answers `values` one after another, recording when each poll was made. */
const polls = <A>(values: ReadonlyArray<Effect.Effect<A, RateLimited>>) =>
  Effect.gen(function*() {
    const at = yield* Ref.make<ReadonlyArray<number>>([])
    let n = 0
    const poll = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.update(at, (times) => [...times, now]).pipe(Effect.zipRight(values[Math.min(n++, values.length - 1)])))
    return { poll, at: Ref.get(at) }
  })

describe("Polling.until", () => {
  it.effect("polls on the schedule given until a value is done, and says how many polls it made", () =>
    Effect.gen(function*() {
      const script = yield* polls([Effect.succeed(1), Effect.succeed(2), Effect.succeed(3)])
      const fiber = yield* Effect.fork(Polling.until({
        poll: script.poll,
        isDone: (n) => n === 3,
        deadline: 60_000,
        schedule: Schedule.spaced("2 seconds")
      }))
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(fiber)).toEqual({ _tag: "Done", value: 3, polls: 3 })
      // nothing known: the first poll at once, then every 2 s
      expect(yield* script.at).toEqual([0, 2_000, 4_000])
    }))

  it.effect("a known value is checked first; the deadline ends the wait with the last value, the last poll at it", () =>
    Effect.gen(function*() {
      const script = yield* polls([Effect.succeed("Running")])
      const fiber = yield* Effect.fork(Polling.until({
        poll: script.poll,
        isDone: (s) => s === "Completed",
        deadline: 5_000,
        schedule: Schedule.spaced("2 seconds"),
        initial: Option.some("Queued")
      }))
      yield* TestClock.adjust("1 minute")
      expect(yield* Fiber.join(fiber)).toEqual({ _tag: "DeadlineReached", last: Option.some("Running"), polls: 3 })
      expect(yield* script.at).toEqual([2_000, 4_000, 5_000])
    }))

  it.effect("a server's Retry-After of a day is clamped to the transport's cap of 60 s", () =>
    Effect.gen(function*() {
      const limited = new RateLimited({ status: 429, message: "slow down", retryAfterMillis: 86_400_000 })
      const script = yield* polls([Effect.fail(limited), Effect.succeed("Completed")])
      const fiber = yield* Effect.fork(Polling.until({
        poll: script.poll,
        isDone: (s) => s === "Completed",
        deadline: 3_600_000,
        schedule: Schedule.spaced("1 second"),
        transient: (error) => Option.some(error.retryAfterMillis ?? 0)
      }))
      yield* TestClock.adjust("5 minutes")
      expect((yield* Fiber.join(fiber))._tag).toBe("Done")
      // 60 s of the clamped hint, then the schedule's 1 s
      expect(yield* script.at).toEqual([0, 61_000])
      expect(Polling.clampHint(86_400_000)).toBe(60_000)
      expect(Polling.clampHint(undefined)).toBe(0)
      expect(Polling.clampHint(Number.NaN)).toBe(0)
    }))

  it.effect("an error that is not transient fails the wait at once", () =>
    Effect.gen(function*() {
      const limited = new RateLimited({ status: 429, message: "slow down" })
      const script = yield* polls<string>([Effect.fail(limited)])
      const error = yield* Effect.flip(Polling.until({ poll: script.poll, isDone: () => true, deadline: 1_000 }))
      expect(error).toBe(limited)
    }))
})

describe("the project's limits", () => {
  it.scoped("are read once per CdfClient: Functions.limits and the default deadline of Calls.call share one read", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(scriptCall(() => ({ status: 200, body: callBody(100, "Completed") })))
      const functions = yield* Layer.build(Functions.layer).pipe(Effect.provide(fake.context))
      yield* Effect.gen(function*() {
        yield* (yield* Functions.Functions).limits
        yield* drive(Effect.flatMap(Calls.Calls, (calls) => calls.call(7, {})))
      }).pipe(Effect.provide(functions), Effect.provide(fake.context))
      expect(fake.to("/functions/limits").length).toBe(1)
    }))
})

describe("Calls.call under a server's Retry-After", () => {
  it.scoped("a RateLimited poll with Retry-After: 86400 waits the transport's cap, not a day", () =>
    Effect.gen(function*() {
      // five answers of 429: the transport's five attempts of the first poll, then the poll fails RateLimited
      const fake = yield* scripted(scriptCall((n) =>
        n <= 5
          ? { status: 429, body: { error: { code: 429, message: "slow down" } }, headers: { "retry-after": "86400" } }
          : { status: 200, body: callBody(100, "Completed") }
      ))
      const result = yield* drive(
        Effect.flatMap(
          Calls.Calls,
          (calls) => calls.call(7, {}, { deadline: "2 days", schedule: Schedule.spaced("1 second") })
        )
      ).pipe(Effect.provide(fake.context))
      const polls = fake.to("/functions/7/calls/100").map((r) => r.at)
      // after the failed poll, the next one comes 60 s later (the clamped hint), then 1 s
      const failedAt = polls[4]
      expect(polls[5] - failedAt).toBeLessThanOrEqual(61_000)
      expect(result.report.waitedMillis).toBeLessThan(10 * 60_000)
    }))
})
