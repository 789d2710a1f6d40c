/**
 * Running code that talks to CDF under the `TestClock`, in tests. Retry waits, Retry-After hints, poll
 * intervals and deadlines are sleeps on the Effect `Clock`, so a test moves time instead of waiting; but
 * an `HttpClient` (a fake one too) answers through real promises, which settle only when the event loop
 * turns. These helpers interleave the two: they let real promises settle, then move the `TestClock` to
 * the next pending sleep, and so on, so every instant is seen in order.
 *
 * @example
 * ```ts
 * import * as TestClockDriver from "@effect-cdf/http/TestClockDriver"
 *
 * // inside an `it.effect` test: retries over a fake transport finish without real waiting
 * const result = yield* TestClockDriver.drive(client.execute(request))
 * ```
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import * as internal from "./internal/testClockDriver.js"

/**
 * Runs `effect` to its end under the `TestClock`: whenever it waits, time jumps to the earliest pending
 * sleep no further than `horizonMillis` ahead (default 61 s, past any retry wait); sleeps further away
 * (long attempt timeouts, say) are left alone. Dies if the effect has not finished after 200,000 turns.
 */
export const drive: <A, E, R>(effect: Effect.Effect<A, E, R>, horizonMillis?: number) => Effect.Effect<A, E, R> =
  internal.drive

/**
 * Moves the `TestClock` forward by `millis`, stopping at every pending sleep on the way and letting real
 * promises settle between steps, so background fibers see each instant in order.
 */
export const advance: (millis: number) => Effect.Effect<void> = internal.advance
