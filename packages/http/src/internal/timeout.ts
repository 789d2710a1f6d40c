import { Clock, Context, DefaultServices, Effect } from "effect"
import type { Fiber } from "effect"

/** The clock of the default services: real time. */
export const liveClock: Clock.Clock = Context.get(DefaultServices.liveServices, Clock.Clock)

/**
 * `Effect.timeoutFail` for the attempt timeout, cheaper on the live clock. `Effect.timeoutFail` races two
 * forked fibers and joins the winner's fiber refs into the caller, which measured about as much as the whole
 * request it bounded. On the live clock this forks only the attempt (a daemon fiber whose refs are not
 * joined back: an attempt sets none that its caller reads) and bounds it with one timer. Under any other
 * clock (a `TestClock`) it is `Effect.timeoutFail` itself, so tests drive the timeout as before.
 */
export const timeoutFail = <A, E, E2>(
  self: Effect.Effect<A, E>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2> =>
  Effect.clockWith((clock) =>
    clock !== liveClock
      ? Effect.timeoutFail(self, { duration: millis, onTimeout })
      : Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.forkDaemon(restore(self)), (fiber) =>
          Effect.withFiberRuntime<A, E | E2>((parent) =>
            restore(Effect.async<A, E | E2>((resume) => {
              let settled = false
              const stop = (child: Fiber.RuntimeFiber<A, E>) => child.unsafeInterruptAsFork(parent.id())
              const timer = setTimeout(() => {
                if (settled) return
                settled = true
                stop(fiber)
                resume(Effect.fail(onTimeout()))
              }, millis)
              fiber.addObserver((exit) => {
                if (settled) return
                settled = true
                clearTimeout(timer)
                resume(exit)
              })
              return Effect.sync(() => {
                if (settled) return
                settled = true
                clearTimeout(timer)
                stop(fiber)
              })
            }))
          ))
      )
  )
