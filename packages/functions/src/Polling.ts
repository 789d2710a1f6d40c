/**
 * How waiting is paced: the poll schedule, the deadline, and `until`, the one poll loop every wait of the
 * SDK uses (a call, an asynchronous Function App call, a deploy's upload and build). Every wait is an
 * `Effect.sleep` of the effect `Clock`, so `TestClock` drives it in tests.
 *
 * @example
 * ```ts
 * import { Calls, Polling } from "@effect-cdf/functions"
 * import { Effect, Schedule } from "effect"
 *
 * // poll every 2 seconds instead of the default backoff
 * const program = Effect.flatMap(Calls.Calls, (calls) =>
 *   calls.call("my-function", { x: 1 }, { schedule: Schedule.spaced("2 seconds"), deadline: "5 minutes" }))
 * ```
 *
 * @since 0.1.0
 */
import { defaultPolicy, MAX_TIMER_MILLIS } from "@effect-cdf/http/Retry"
import { Duration, Effect } from "effect"
import type { Option, Schedule } from "effect"
import * as internal from "./internal/polling.js"

/**
 * The default poll schedule: 250 ms, growing x1.5 per poll, capped at 5 s, with ±20 % jitter. Against the
 * Python SDK's `uniform(0, min(0.3·2^n, 10 s))` it polls about as often and sees completion sooner
 * (p99 lag ~5.5 s instead of ~9 s for a 60 s call; see docs/reliability.md).
 */
export const defaultSchedule: Schedule.Schedule<unknown> = internal.defaultSchedule

/** The grace added to the project's call timeout to make the default deadline: one minute. */
export const DEFAULT_GRACE: Duration.Duration = Duration.minutes(1)

/** The deadline used when the project's limits cannot be read: 15 minutes (the longest timeout CDF has had). */
export const FALLBACK_TIMEOUT: Duration.Duration = Duration.minutes(15)

/** The largest delay a timer can take in Node (2^31-1 ms), as the transport defines it. */
export { MAX_TIMER_MILLIS }

/**
 * The longest a poll waits on a server's hint (a `Retry-After` on a `RateLimited` poll): the transport's cap
 * (`Retry.defaultPolicy.maxRetryAfterMillis`, 60 s), so a hint of a day does not stall a wait for a day.
 */
export const MAX_HINT_MILLIS: number = defaultPolicy.maxRetryAfterMillis

/** A server's hint in milliseconds, clamped to {@link MAX_HINT_MILLIS}; no hint, or a bad one, is 0. */
export const clampHint: (millis: number | undefined) => number = internal.clampHint

/** How long to sleep before the next poll: the schedule's delay, never past the deadline, in whole milliseconds. */
export const sleepMillis: (delay: Option.Option<number>, now: number, deadline: number) => number = internal.sleepMillis

/**
 * The poll schedule of every wait that is given none (`Calls.call`, `Calls.await`, `Calls.followLogs`,
 * `FunctionApps.call`): {@link defaultSchedule} unless replaced, for example for a whole program with
 * `Layer.succeed(Polling.PollSchedule, Schedule.spaced("2 seconds"))`. Each step of the schedule gets the
 * last value polled (a `FunctionCall` for a call) as its input.
 */
export { PollSchedule } from "./internal/polling.js"

/** A running schedule: each `next` says how long to wait before the next poll, or `None` when it ended. */
export interface Pacer {
  readonly next: Effect.Effect<Option.Option<number>>
  /** As `next`, stepping the schedule with `input` (the last value polled). */
  readonly nextFor: (input: unknown) => Effect.Effect<Option.Option<number>>
}

/** Starts a schedule: the delays it gives, one poll at a time. */
export const pacer: (schedule: Schedule.Schedule<unknown, unknown>) => Effect.Effect<Pacer> = internal.pacer

/** What `until` polls, how it knows it is done, and how long it may take. */
export interface UntilOptions<A, E, R> {
  /** One poll. */
  readonly poll: Effect.Effect<A, E, R>
  /** Whether a polled (or the initial) value ends the wait. */
  readonly isDone: (value: A) => boolean
  /** The epoch milliseconds after which no poll is started; the last poll is made at the deadline. */
  readonly deadline: number
  /** The delays between polls; {@link PollSchedule} by default. A schedule that ends waits for the deadline. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** A value already known (a call as its POST answered): checked first, and the first poll waits a delay. */
  readonly initial?: Option.Option<A> | undefined
  /** Seen with every value, the initial one included (to record statuses, report progress). */
  readonly onValue?: ((value: A) => Effect.Effect<void>) | undefined
  /**
   * A failed poll to ride out until the deadline: `Some(hintMillis)` (the server's hint, clamped with
   * {@link clampHint}, 0 for none), or `None` to fail the wait with the error.
   */
  readonly transient?: ((error: E) => Option.Option<number>) | undefined
}

/** How a wait ended: a value that is done, or the deadline with the last value seen. */
export type UntilResult<A> =
  | { readonly _tag: "Done"; readonly value: A; readonly polls: number }
  | { readonly _tag: "DeadlineReached"; readonly last: Option.Option<A>; readonly polls: number }

/**
 * Polls until a value is done or the deadline passes, sleeping on the schedule between polls (each delay
 * cut to the deadline). Ending at the deadline is a value, not an error, so that each wait fails with the
 * error its users expect (`PollDeadlineExceeded`, `DeployFailed`, ...).
 */
export const until: <A, E, R>(options: UntilOptions<A, E, R>) => Effect.Effect<UntilResult<A>, E, R> = internal.until

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
