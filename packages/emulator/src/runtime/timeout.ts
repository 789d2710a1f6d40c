/**
 * The one timeout every runtime shares: a call runs against the Effect `Clock`, so `TestClock` and the
 * emulator's own time drive call timeouts the same way they drive schedules.
 *
 * @since 0.1.0
 */
import { Duration, Effect } from "effect"
import { LogCollector } from "./logs.js"
import type { RunOutcome, RunRequest } from "./types.js"
import { timeoutMessage } from "./types.js"

/**
 * Runs one call with the request's timeout. `run` gets the call's log collector; when the timeout
 * passes first, `run` is interrupted (each runtime kills its worker or process in its release) and the
 * call ends `Timeout` with the lines printed so far.
 */
export const runWithTimeout = (
  req: RunRequest,
  run: (collector: LogCollector) => Effect.Effect<RunOutcome>
): Effect.Effect<RunOutcome> =>
  Effect.suspend(() => {
    const collector = new LogCollector(req.onLog)
    return Effect.timeoutTo(run(collector), {
      duration: Duration.millis(Math.max(1, req.timeoutMillis)),
      onSuccess: (outcome): RunOutcome => outcome,
      onTimeout: (): RunOutcome => ({
        status: "Timeout",
        error: { message: timeoutMessage(req.timeoutMillis) },
        logs: collector.close()
      })
    })
  })
