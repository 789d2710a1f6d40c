import { AuthenticationFailed } from "@effect-cdf/core/Errors"
import type { Scope } from "effect"
import { Cause, Clock, Deferred, Duration, Effect, Exit, Option, Redacted, Ref } from "effect"
import type { Auth, CacheOptions, Token } from "../Auth.js"

interface Cached {
  readonly token: Token
  /** Below this much time left the token is not handed out. */
  readonly floorMillis: number
  /** Below this much time left a background refresh starts. */
  readonly windowMillis: number
}

interface State {
  readonly current: Option.Option<Cached>
  readonly inflight: Option.Option<Deferred.Deferred<Token, AuthenticationFailed>>
  /** The last fetch's failure, and how many fetches in a row failed. */
  readonly failure: Option.Option<
    { readonly atMillis: number; readonly count: number; readonly error: AuthenticationFailed }
  >
}

/** The longest pause between fetches after failures. */
const MAX_RETRY_INTERVAL_MILLIS = 30_000

/**
 * A caching token source over `fetch`: one fetch at a time however many requests wait, a background
 * refresh inside `refreshWindow`, and no token handed out with less than `minimumValidity` left. Both
 * windows shrink with the token's lifetime. After a failure, fetches back off (doubling from
 * `retryInterval`) and requests without a usable token fail fast with that failure. Fetches run in the
 * given scope, interruptibly and within `fetchTimeout`, so a request that gives up does not cancel the
 * refresh others wait for, and a hung identity provider never hangs a request.
 */
export const makeCached = (
  fetch: Effect.Effect<Token, AuthenticationFailed>,
  options: CacheOptions = {}
): Effect.Effect<Auth.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const refreshWindow = Duration.toMillis(options.refreshWindow ?? Duration.minutes(2))
    const minimumValidity = Duration.toMillis(options.minimumValidity ?? Duration.seconds(30))
    const retryInterval = Duration.toMillis(options.retryInterval ?? Duration.seconds(3))
    const fetchTimeout = options.fetchTimeout ?? Duration.minutes(2)
    const state = yield* Ref.make<State>({ current: Option.none(), inflight: Option.none(), failure: Option.none() })

    const backingOff = (s: State, now: number): Option.Option<AuthenticationFailed> => {
      if (Option.isNone(s.failure)) return Option.none()
      const { atMillis, count, error } = s.failure.value
      const pause = Math.min(retryInterval * Math.pow(2, Math.max(0, count - 1)), MAX_RETRY_INTERVAL_MILLIS)
      return now - atMillis < pause ? Option.some(error) : Option.none()
    }

    // The state's current token, readable without an effect for `cached`.
    let snapshot: Cached | undefined
    const settle = (exit: Exit.Exit<Token, AuthenticationFailed>, fetchedAt: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(state, (s): State => {
          if (Exit.isSuccess(exit)) {
            const token = exit.value
            const lifetime = Math.max(0, token.expiresAtMillis - fetchedAt)
            const floorMillis = Math.min(minimumValidity, lifetime / 2)
            snapshot = {
              token,
              floorMillis,
              windowMillis: Math.max(floorMillis, Math.min(refreshWindow, (lifetime * 3) / 4))
            }
            return {
              current: Option.some(snapshot),
              inflight: Option.none(),
              failure: Option.none()
            }
          }
          const error = Option.getOrElse(
            Cause.failureOption(exit.cause),
            () => new AuthenticationFailed({ description: "the token fetch was interrupted" })
          )
          const count = Option.match(s.failure, { onNone: () => 1, onSome: (f) => f.count + 1 })
          return { current: s.current, inflight: Option.none(), failure: Option.some({ atMillis: now, count, error }) }
        }))

    const bounded = fetch.pipe(
      Effect.timeoutFail({
        duration: fetchTimeout,
        onTimeout: () => new AuthenticationFailed({ description: "the token fetch timed out" })
      }),
      // The fork inherits the uninterruptible region of `start`: without this the timeouts could not fire.
      Effect.interruptible
    )

    // Starts a fetch unless one is running; either way returns the one to wait for.
    const start = Effect.uninterruptible(Effect.gen(function*() {
      const fresh = yield* Deferred.make<Token, AuthenticationFailed>()
      const deferred = yield* Ref.modify(state, (s): readonly [Deferred.Deferred<Token, AuthenticationFailed>, State] =>
        Option.isSome(s.inflight) ? [s.inflight.value, s] : [fresh, { ...s, inflight: Option.some(fresh) }])
      if (deferred === fresh) {
        const fetchedAt = yield* Clock.currentTimeMillis
        yield* bounded.pipe(
          Effect.onExit((exit) =>
            Effect.zipRight(settle(exit, fetchedAt), Deferred.done(fresh, exit))
          ),
          Effect.forkIn(scope)
        )
      }
      return deferred
    }))

    const awaitFetch = Effect.flatMap(start, (deferred) =>
      Effect.map(Deferred.await(deferred), (fetched) =>
        fetched.accessToken))

    const token = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const s = yield* Ref.get(state)
      const failed = backingOff(s, now)
      if (Option.isSome(s.current)) {
        const { floorMillis, token, windowMillis } = s.current.value
        const left = token.expiresAtMillis - now
        if (left >= floorMillis) {
          if (left <= windowMillis && Option.isNone(s.inflight) && Option.isNone(failed)) {
            yield* start
          }
          return token.accessToken
        }
      }
      if (Option.isNone(s.inflight) && Option.isSome(failed)) {
        return yield* Effect.fail(failed.value)
      }
      return yield* awaitFetch
    })

    const refresh = (rejected: Redacted.Redacted<string>) =>
      Effect.gen(function*() {
        const s = yield* Ref.get(state)
        if (
          Option.isSome(s.current) && Redacted.value(s.current.value.token.accessToken) !== Redacted.value(rejected)
        ) {
          // Another request already replaced the rejected token.
          return s.current.value.token.accessToken
        }
        const failed = backingOff(s, yield* Clock.currentTimeMillis)
        if (Option.isNone(s.inflight) && Option.isSome(failed)) {
          return yield* Effect.fail(failed.value)
        }
        return yield* awaitFetch
      })

    // Outside the refresh window there is nothing to start: the token is handed out as it is.
    const cached = (nowMillis: number) =>
      snapshot !== undefined && snapshot.token.expiresAtMillis - nowMillis > snapshot.windowMillis
        ? snapshot.token.accessToken
        : undefined

    return { token, refresh, cached } satisfies Auth.Service
  })
