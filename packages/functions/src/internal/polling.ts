/** The bodies of `Polling`: the pacer over a schedule and the one poll loop, `until`. */
import { defaultPolicy, MAX_TIMER_MILLIS } from "@effect-cdf/http/Retry"
import { Clock, Context, Duration, Effect, Option, Ref, Schedule, ScheduleDecision, ScheduleIntervals } from "effect"
import type { Pacer, UntilOptions, UntilResult } from "../Polling.js"

export const defaultSchedule: Schedule.Schedule<unknown> = Schedule.exponential("250 millis", 1.5).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered
)

export class PollSchedule extends Context.Reference<PollSchedule>()("@effect-cdf/functions/PollSchedule", {
  defaultValue: (): Schedule.Schedule<unknown, unknown> => defaultSchedule
}) {}

export const clampHint = (millis: number | undefined): number =>
  millis === undefined || !(millis > 0) ? 0 : Math.min(Math.ceil(millis), defaultPolicy.maxRetryAfterMillis)

export const sleepMillis = (delay: Option.Option<number>, now: number, deadline: number): number => {
  const left = Math.max(0, Math.ceil(deadline - now))
  return Math.min(Option.getOrElse(delay, () => left), left)
}

export const pacer = (schedule: Schedule.Schedule<unknown, unknown>): Effect.Effect<Pacer> =>
  Effect.map(Ref.make<unknown>(schedule.initial), (state) => {
    const nextFor = (input: unknown) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const [nextState, , decision] = yield* schedule.step(now, input, yield* Ref.get(state))
        yield* Ref.set(state, nextState)
        if (ScheduleDecision.isDone(decision)) return Option.none<number>()
        const delay = ScheduleIntervals.start(decision.intervals) - now
        // whole milliseconds: fractions add up to a deadline that is never quite reached
        return Option.some(Math.min(MAX_TIMER_MILLIS, Math.max(0, Math.ceil(delay))))
      })
    return { next: nextFor(undefined), nextFor }
  })

const sleep = (millis: number) => millis > 0 ? Effect.sleep(Duration.millis(millis)) : Effect.void

export const until = Effect.fnUntraced(function*<A, E, R>(options: UntilOptions<A, E, R>) {
  const { deadline, isDone, onValue } = options
  const pace = yield* pacer(options.schedule ?? (yield* PollSchedule))
  let last: Option.Option<A> = options.initial ?? Option.none()
  // a value just seen (the initial one, or a poll's): checked once
  let fresh = Option.isSome(last)
  // a wait that knows nothing polls at once; one that knows a value waits a delay before its first poll
  let tried = Option.isSome(last)
  let polls = 0
  while (true) {
    if (fresh && Option.isSome(last)) {
      if (onValue !== undefined) yield* onValue(last.value)
      if (isDone(last.value)) return { _tag: "Done", value: last.value, polls } satisfies UntilResult<A>
    }
    const now = yield* Clock.currentTimeMillis
    if (tried) {
      if (now >= deadline) return { _tag: "DeadlineReached", last, polls } satisfies UntilResult<A>
      // a schedule that ends means waiting until the deadline: the last poll is made at it
      // the schedule sees the last value, so a schedule may pace by what it polls
      yield* sleep(sleepMillis(yield* pace.nextFor(Option.getOrUndefined(last)), now, deadline))
    }
    tried = true
    const polled = yield* Effect.either(options.poll)
    polls++
    if (polled._tag === "Right") {
      last = Option.some(polled.right)
      fresh = true
      continue
    }
    fresh = false
    const hint = options.transient === undefined ? Option.none() : options.transient(polled.left)
    if (Option.isNone(hint)) return yield* Effect.fail(polled.left)
    // the transport already retried it: ride it out until the deadline, honouring the server's hint within the cap
    const left = deadline - (yield* Clock.currentTimeMillis)
    yield* sleep(Math.min(clampHint(hint.value), Math.max(0, left)))
  }
})

/** A poll failure the transport already retried: ridden out until the deadline, with the server's hint. */
export const transientPollError = (error: { readonly _tag: string; readonly retryAfterMillis?: number | undefined }) =>
  error._tag === "RateLimited"
    ? Option.some(error.retryAfterMillis ?? 0)
    : error._tag === "ServerError" || error._tag === "TransportError"
    ? Option.some(0)
    : Option.none()
