/**
 * Pacing calls to CDF's running-call limits (100 per function, 250 per project by default; both can be
 * raised on request, so they are options). Every call of one `CdfClient` shares one gate: a call holds a
 * slot of its function and of the project from before its `POST .../call` until it is seen ended, so a
 * fan-out of thousands never has more calls running than the service allows, and the rest wait in the
 * client (a parked fiber, no request) instead of being refused. A `429` on `POST .../call` provably
 * started nothing, so it is waited out and sent again (`throttledSend`), which covers slots taken by
 * other clients of the project.
 */
import type { Ids } from "@effect-cdf/core"
import type { RateLimited } from "@effect-cdf/core/Errors"
import type { CdfClient } from "@effect-cdf/http/CdfClient"
import { Clock, Deferred, Duration, Effect, Exit, Random, Schedule } from "effect"

/** The running-call limits the client paces itself to. */
export interface PacingOptions {
  /** Calls of one function running at once; default 100 (CDF's documented limit). */
  readonly maxRunningCallsPerFunction?: number | undefined
  /** Calls of the project running at once; default 250 (CDF's documented limit). */
  readonly maxRunningCallsPerProject?: number | undefined
  /**
   * How many more calls than the limits may be in flight at once, as a factor; default 1 (never above the
   * limits). A slot here is freed when a call is seen ended: calls waiting together on the default schedule
   * share a poll every {@link SHARED_QUEUED_POLL_MILLIS} while others wait for a slot (one waiting alone, or
   * on its own schedule, at most every {@link QUEUED_POLL_MILLIS}). A factor above 1 sends a few more to
   * keep the service's slots busy when ends are seen late; the few sent too early are answered `429`, which
   * started nothing and is waited out.
   */
  readonly overcommit?: number | undefined
  /**
   * How long a `POST .../call` answered `429` is waited out and re-sent before `RateLimited` is given up
   * with; default 10 minutes.
   */
  readonly throttleTimeout?: Duration.DurationInput | undefined
}

/** The gate of one client. */
export interface Gate {
  /** Runs `use` holding a running-call slot of `functionId` and of the project. */
  readonly withSlot: <A, E, R>(functionId: Ids.FunctionId, use: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly throttleTimeout: Duration.Duration
  /** Whether calls of `functionId` (or of the project) wait here for a slot now. */
  readonly queued: (functionId: Ids.FunctionId) => boolean
  /**
   * `schedule` with its delays cut to {@link QUEUED_POLL_MILLIS} while calls of `functionId` (or of the
   * project) wait here for a slot, for the wait of a call holding one: its slot is handed on soon after the
   * call ends, instead of up to a backed-off poll interval later.
   */
  readonly whileQueued: (
    functionId: Ids.FunctionId,
    schedule: Schedule.Schedule<unknown, unknown>
  ) => Schedule.Schedule<unknown, unknown>
}

/** The longest delay between the polls of a call holding a slot others wait for: 500 ms. */
export const QUEUED_POLL_MILLIS = 500

/**
 * The longest delay between the shared polls of several calls of a function while others wait for a slot:
 * 100 ms. One request polls them all, so a freed slot is seen sooner at the cost of one request per tick.
 */
export const SHARED_QUEUED_POLL_MILLIS = 100

const positive = (value: number | undefined, fallback: number) =>
  value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : fallback

/** A waiter for a slot: `granted` once a freed slot was handed to it. */
interface Waiter {
  readonly deferred: Deferred.Deferred<void>
  granted: boolean
}

/**
 * Slots handed over first come, first served: a freed slot goes to the longest waiter and wakes it alone.
 * (Effect's `Semaphore` wakes every waiter on each release and all but one go back to waiting: with 900
 * calls queued behind 100 running, that is 900 wake-ups per call ended, a CPU-bound client and a fiber
 * stack that grows with each wake-up; measured in bench/scale.)
 */
export class Slots {
  private free: number
  // a Set iterates in insertion order: the first waiter is the oldest
  private readonly waiters = new Set<Waiter>()
  constructor(permits: number) {
    this.free = permits
  }
  /** Slots free now. */
  get available(): number {
    return this.free
  }
  /** Fibers waiting for a slot now. */
  get waiting(): number {
    return this.waiters.size
  }
  private release = (): void => {
    for (const waiter of this.waiters) {
      this.waiters.delete(waiter)
      waiter.granted = true
      Deferred.unsafeDone(waiter.deferred, Exit.void)
      return
    }
    this.free++
  }
  private readonly releaseEffect = Effect.sync(this.release)
  /** Runs `use` holding one slot; waiting for it can be interrupted, and a slot handed over is never lost. */
  withSlot<A, E, R>(use: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        if (this.free > 0) {
          this.free--
          return Effect.ensuring(restore(use), this.releaseEffect)
        }
        return Effect.flatMap(Deferred.make<void>(), (deferred) => {
          const waiter: Waiter = { deferred, granted: false }
          this.waiters.add(waiter)
          return restore(Deferred.await(deferred)).pipe(
            // interrupted while waiting: leave the line, or pass on the slot handed over meanwhile
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                if (waiter.granted) this.release()
                else this.waiters.delete(waiter)
              })
            ),
            Effect.zipRight(Effect.ensuring(restore(use), this.releaseEffect))
          )
        })
      })
    )
  }
}

/** A gate with its own slots. */
export const makeGate = (options: PacingOptions = {}): Gate => {
  const factor = options.overcommit !== undefined && Number.isFinite(options.overcommit) && options.overcommit >= 1
    ? options.overcommit
    : 1
  const perFunction = Math.ceil(positive(options.maxRunningCallsPerFunction, 100) * factor)
  const project = new Slots(Math.ceil(positive(options.maxRunningCallsPerProject, 250) * factor))
  const functions = new Map<number, { readonly slots: Slots; users: number }>()
  const withSlot = <A, E, R>(functionId: Ids.FunctionId, use: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const known = functions.get(functionId)
        const entry = known ?? { slots: new Slots(perFunction), users: 0 }
        entry.users++
        if (known === undefined) functions.set(functionId, entry)
        return entry
      }),
      // function slot first, then the project's: one order, so no two calls wait on each other
      (entry) => entry.slots.withSlot(project.withSlot(use)),
      (entry) =>
        Effect.sync(() => {
          // a function nobody waits on is forgotten, so a long-lived client does not grow
          if (--entry.users === 0) functions.delete(functionId)
        })
    )
  const queued = (functionId: Ids.FunctionId) =>
    project.waiting > 0 || (functions.get(functionId)?.slots.waiting ?? 0) > 0
  return {
    withSlot,
    queued,
    whileQueued: (functionId, schedule) =>
      Schedule.modifyDelay(schedule, (_, delay) =>
        queued(functionId) && Duration.toMillis(delay) > QUEUED_POLL_MILLIS
          ? Duration.millis(QUEUED_POLL_MILLIS)
          : delay),
    throttleTimeout: Duration.decode(options.throttleTimeout ?? Duration.minutes(10))
  }
}

const gates = new WeakMap<CdfClient.Service, Gate>()

/** The gate every call of `client` shares; `options` set it up when this client has none yet. */
export const gateFor = (client: CdfClient.Service, options?: PacingOptions): Gate => {
  const known = gates.get(client)
  if (known !== undefined && options === undefined) return known
  const gate = makeGate(options)
  gates.set(client, gate)
  return gate
}

/** What a sent request reports: attempts and time spent between them. */
interface Sent {
  readonly attempts: number
  readonly retryDelayMillis: number
}

/**
 * Sends `send` again while it fails with `RateLimited` (which started nothing), waiting the server's hint
 * or a jittered backoff (200 ms, x1.5, at most 5 s), for at most `timeout`. The attempts and waits are
 * added to what the request reports.
 */
export const throttledSend = <A extends Sent, E extends { readonly _tag: string }, R>(
  send: Effect.Effect<A, E | RateLimited, R>,
  timeout: Duration.Duration
): Effect.Effect<A, E | RateLimited, R> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    let ceiling = 200
    let attempts = 0
    let waited = 0
    while (true) {
      const result = yield* Effect.either(send)
      if (result._tag === "Right") {
        return {
          ...result.right,
          attempts: result.right.attempts + attempts,
          retryDelayMillis: result.right.retryDelayMillis + waited
        }
      }
      const error = result.left
      const now = yield* Clock.currentTimeMillis
      const left = started + Duration.toMillis(timeout) - now
      if (!isRateLimited(error) || left <= 0) return yield* Effect.fail(error)
      const jittered = Math.round(ceiling / 2 + (yield* Random.nextIntBetween(0, Math.ceil(ceiling / 2) + 1)))
      const delay = Math.min(Math.max(jittered, error.retryAfterMillis ?? 0), left)
      ceiling = Math.min(ceiling * 1.5, 5_000)
      attempts++
      waited += delay
      yield* Effect.sleep(Duration.millis(delay))
    }
  })

const isRateLimited = (error: { readonly _tag: string }): error is RateLimited => error._tag === "RateLimited"
