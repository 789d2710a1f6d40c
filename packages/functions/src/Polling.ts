/**
 * How waiting is paced: the poll schedule and the deadline. Every wait is an `Effect.sleep` of the effect
 * `Clock`, so `TestClock` drives it in tests.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Option, Ref, Schedule, ScheduleDecision, ScheduleIntervals } from "effect"

/**
 * The default poll schedule: 250 ms, growing x1.5 per poll, capped at 5 s, with ±20 % jitter. Against the
 * Python SDK's `uniform(0, min(0.3·2^n, 10 s))` it polls about as often and sees completion sooner
 * (p99 lag ~5.5 s instead of ~9 s for a 60 s call; see docs/reliability.md).
 */
export const defaultSchedule: Schedule.Schedule<unknown> = Schedule.exponential("250 millis", 1.5).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered
)

/** The grace added to the project's call timeout to make the default deadline: one minute. */
export const DEFAULT_GRACE: Duration.Duration = Duration.minutes(1)

/** The deadline used when the project's limits cannot be read: 15 minutes (the longest timeout CDF has had). */
export const FALLBACK_TIMEOUT: Duration.Duration = Duration.minutes(15)

/** The largest delay a timer can take in Node (2^31-1 ms); longer delays would fire at once. */
export const MAX_TIMER_MILLIS = 2_147_483_647

/** How long to sleep before the next poll: the schedule's delay, never past the deadline, in whole milliseconds. */
export const sleepMillis = (delay: Option.Option<number>, now: number, deadline: number): number => {
  const left = Math.max(0, Math.ceil(deadline - now))
  return Math.min(Option.getOrElse(delay, () => left), left)
}

/** A running schedule: each `next` says how long to wait before the next poll, or `None` when it ended. */
export interface Pacer {
  readonly next: Effect.Effect<Option.Option<number>>
}

/** Starts a schedule: the delays it gives, one poll at a time. */
export const pacer = (schedule: Schedule.Schedule<unknown, unknown>): Effect.Effect<Pacer> =>
  Effect.map(Ref.make<unknown>(schedule.initial), (state) => ({
    next: Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const [nextState, , decision] = yield* schedule.step(now, undefined, yield* Ref.get(state))
      yield* Ref.set(state, nextState)
      if (ScheduleDecision.isDone(decision)) return Option.none()
      const delay = ScheduleIntervals.start(decision.intervals) - now
      // whole milliseconds: fractions add up to a deadline that is never quite reached
      return Option.some(Math.min(MAX_TIMER_MILLIS, Math.max(1, Math.ceil(delay))))
    })
  }))

/**
 * The default deadline for waiting on a call: the project's call timeout plus a minute of grace, or 15
 * minutes plus grace when the limits cannot be read (logged).
 */
export const defaultDeadline = <E extends { readonly _tag: string }, R>(
  limits: Effect.Effect<{ readonly timeoutMinutes: number }, E, R>
): Effect.Effect<Duration.Duration, never, R> =>
  limits.pipe(
    Effect.map((l) => Duration.sum(Duration.minutes(l.timeoutMinutes), DEFAULT_GRACE)),
    Effect.catchAll((error) =>
      Effect.logWarning("could not read the project's Functions limits; waiting at most 16 minutes").pipe(
        Effect.annotateLogs("error", error._tag),
        Effect.as(Duration.sum(FALLBACK_TIMEOUT, DEFAULT_GRACE))
      )
    )
  )
