/**
 * When a request is sent again, and how long the client waits first.
 *
 * The decision depends on the operation's {@link Safety}, which the caller states: a read can be repeated,
 * a create, delete or function call cannot. Waits are exponential with full jitter, honour the server's
 * `Retry-After` / `retry-after-ms` hints within a clamp, and draw on a client-wide {@link RetryBudget} so a
 * failing endpoint cannot be hammered.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Ref } from "effect"

/**
 * How safe an operation is to send twice.
 *
 * - `"safe"`: reads, lists, byids, session creation. Retried on 429, 502, 503, 504, a response carrying
 *   `cdf-is-auto-retryable`, transport errors and attempt timeouts.
 * - `"unsafe"`: creates, deletes, function calls. Retried only on 429 and on transport errors that provably
 *   happened before the request left (connection refused, DNS failure). Anything else after the body may
 *   have been sent becomes `CallOutcomeUnknown` and is never re-sent.
 */
export type Safety = "safe" | "unsafe"

/** The retry policy of a client. Every duration is in milliseconds. */
export interface RetryPolicy {
  /** Attempts per request, the first included. Default 5. */
  readonly maxAttempts: number
  /** The first backoff ceiling; attempt `n` waits `uniform(0, min(base * 2^(n-1), maxDelay))`. Default 250. */
  readonly baseDelayMillis: number
  /** The largest computed backoff. Default 10 000. */
  readonly maxDelayMillis: number
  /** The largest server hint (`Retry-After`, `retry-after-ms`) honoured. Default 60 000. */
  readonly maxRetryAfterMillis: number
  /** The retry budget shared by every request of one client. */
  readonly budget: BudgetPolicy
}

/** The client-wide token bucket that bounds retry amplification (modelled on AWS's standard retry strategy). */
export interface BudgetPolicy {
  /** Tokens when the client starts, and the most it holds. Default 500. */
  readonly capacity: number
  /** Tokens one retry costs. Default 5. */
  readonly retryCost: number
  /** Tokens one retry after an attempt timeout costs. Default 10. */
  readonly timeoutRetryCost: number
  /** Tokens a success returns when it needed no retry (a success after retries returns its last retry's cost). Default 1. */
  readonly successRefund: number
}

/** The longest server hint (`Retry-After`, `retry-after-ms`) honoured by default anywhere: 60 s. */
export const MAX_HINT = 60_000

/** The default policy: 5 attempts, 250 ms base, 10 s cap, hints up to 60 s, a 500-token budget. */
export const defaultPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMillis: 250,
  maxDelayMillis: 10_000,
  maxRetryAfterMillis: MAX_HINT,
  budget: { capacity: 500, retryCost: 5, timeoutRetryCost: 10, successRefund: 1 }
}

/** A partial policy, as options take it: what is left out keeps its default. */
export interface PolicyInput {
  readonly maxAttempts?: number | undefined
  readonly baseDelayMillis?: number | undefined
  readonly maxDelayMillis?: number | undefined
  readonly maxRetryAfterMillis?: number | undefined
  readonly budget?: Partial<BudgetPolicy> | undefined
}

/** The largest delay a timer accepts: Node turns anything above 2^31-1 ms into 1 ms. */
export const MAX_TIMER_MILLIS = 2_147_483_647

const clampTimer = (millis: number): number =>
  Number.isNaN(millis) ? 0 : Math.min(Math.max(0, Math.floor(millis)), MAX_TIMER_MILLIS)

/**
 * A server hint in milliseconds, clamped once for every consumer (retries, polling, `RateLimited`): at
 * least 0, at most `maxMillis` (default {@link MAX_HINT}), never above what a timer accepts; an unreadable
 * number is 0.
 */
export const clampHint = (hintMillis: number, maxMillis: number = MAX_HINT): number =>
  Math.min(clampTimer(hintMillis), clampTimer(maxMillis))

const positiveInt = (value: number | undefined, fallback: number, min: number): number =>
  value === undefined || !Number.isFinite(value) ? fallback : Math.max(min, Math.floor(value))

/** A complete policy from a partial one; out-of-range numbers are clamped to sensible values. */
export const makePolicy = (input: PolicyInput = {}): RetryPolicy => {
  const d = defaultPolicy
  return {
    maxAttempts: positiveInt(input.maxAttempts, d.maxAttempts, 1),
    baseDelayMillis: clampTimer(input.baseDelayMillis ?? d.baseDelayMillis),
    maxDelayMillis: clampTimer(input.maxDelayMillis ?? d.maxDelayMillis),
    maxRetryAfterMillis: clampTimer(input.maxRetryAfterMillis ?? d.maxRetryAfterMillis),
    budget: {
      capacity: positiveInt(input.budget?.capacity, d.budget.capacity, 0),
      retryCost: positiveInt(input.budget?.retryCost, d.budget.retryCost, 0),
      timeoutRetryCost: positiveInt(input.budget?.timeoutRetryCost, d.budget.timeoutRetryCost, 0),
      successRefund: positiveInt(input.budget?.successRefund, d.budget.successRefund, 0)
    }
  }
}

/**
 * The ceiling of the full-jitter backoff before retry number `retry` (1 for the first retry):
 * `min(base * 2^(retry-1), maxDelay)`.
 */
export const backoffCeilingMillis = (policy: RetryPolicy, retry: number): number =>
  clampTimer(Math.min(policy.baseDelayMillis * Math.pow(2, Math.max(0, retry - 1)), policy.maxDelayMillis))

/**
 * The wait before a retry: full jitter over the backoff ceiling (`random` in [0, 1)), raised to the server's
 * hint when it gave one, the hint clamped to `maxRetryAfterMillis`. Never above 2^31-1 ms.
 */
export const delayMillis = (
  policy: RetryPolicy,
  retry: number,
  random: number,
  hintMillis: number | undefined
): number => {
  const jittered = Math.floor(backoffCeilingMillis(policy, retry) * Math.min(Math.max(random, 0), 1))
  const hint = hintMillis === undefined ? 0 : clampHint(hintMillis, policy.maxRetryAfterMillis)
  return clampTimer(Math.max(jittered, hint))
}

const DIGITS = /^\s*\d+(\.\d+)?\s*$/

/**
 * The server's retry hint in milliseconds, from `retry-after-ms` (milliseconds) or `Retry-After` (seconds or
 * an HTTP date, relative to `nowMillis`). A date in the past is 0; anything unreadable is no hint. Not clamped.
 */
export const parseRetryAfter = (
  headers: { readonly [name: string]: string | undefined },
  nowMillis: number
): number | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && DIGITS.test(ms)) {
    const value = Number(ms)
    if (Number.isFinite(value)) return Math.ceil(value)
  }
  const after = headers["retry-after"]
  if (after === undefined) return undefined
  if (DIGITS.test(after)) {
    const seconds = Number(after)
    return Number.isFinite(seconds) ? Math.ceil(seconds * 1000) : undefined
  }
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMillis)
}

/** The client-wide retry budget: a token bucket shared by every request of one client. */
export interface RetryBudget {
  /** Takes `cost` tokens for a retry; `false` (and nothing taken) when the bucket holds fewer. */
  readonly acquire: (cost: number) => Effect.Effect<boolean>
  /** Returns tokens after a success, up to the capacity. */
  readonly release: (tokens: number) => Effect.Effect<void>
  /** The tokens in the bucket now. */
  readonly available: Effect.Effect<number>
}

/** A new retry budget, full. */
export const makeBudget = (policy: BudgetPolicy): Effect.Effect<RetryBudget> =>
  Effect.map(Ref.make(policy.capacity), (ref) => ({
    acquire: (cost) =>
      Ref.modify(ref, (tokens) => tokens >= cost ? [true, tokens - cost] as const : [false, tokens] as const),
    release: (tokens) => Ref.update(ref, (current) => Math.min(policy.capacity, current + tokens)),
    available: Ref.get(ref)
  }))

/** A duration option as milliseconds, clamped to what a timer accepts. */
export const toTimerMillis = (duration: Duration.DurationInput): number =>
  clampTimer(Duration.toMillis(Duration.decode(duration)))
