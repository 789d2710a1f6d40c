/**
 * In-process handlers: functions registered from code and run inside the emulator's own process, for
 * tests that want a handler without a zip. A handler returns a value, a promise or an `Effect`; an
 * `Effect` runs on the calling fiber, so its sleeps follow the Effect `Clock` (a `TestClock` in tests),
 * and a timeout interrupts it. A promise cannot be stopped: a timeout only stops waiting for it.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit } from "effect"
import { LineSplitter, type LogCollector } from "./logs.js"
import { checkResponse } from "./response.js"
import { runWithTimeout } from "./timeout.js"
import type { InProcessHandler, RunOutcome, RunRequest } from "./types.js"
import { failed } from "./types.js"

/** The `functionPath` prefix that selects a handler registered with `registerInProcess`. */
export const inProcessPrefix = "inprocess:"

const thrown = (logs: ReadonlyArray<{ timestamp: number; message: string }>, error: unknown): RunOutcome =>
  error instanceof Error
    ? failed(logs, `${error.name}: ${error.message}`, error.stack)
    : failed(logs, `Uncaught ${String(error)}`)

/** An in-process handler's `Effect`: by contract it needs no services. */
const isHandlerEffect = (value: unknown): value is Effect.Effect<unknown, unknown> => Effect.isEffect(value)

const invoke = (handler: InProcessHandler, req: RunRequest, collector: LogCollector) =>
  Effect.suspend(() => {
    const log = (message: string): void => {
      const splitter = new LineSplitter((line) => collector.push(line))
      splitter.write(message)
      splitter.flush()
    }
    const value = handler({
      data: req.data === undefined ? {} : req.data,
      secrets: { ...req.secrets },
      functionCallInfo: req.callInfo,
      log
    })
    if (isHandlerEffect(value)) return Effect.exit(value)
    return Effect.exit(Effect.tryPromise({ try: () => Promise.resolve(value), catch: (error) => error }))
  })

/** Runs one call of an in-process handler. Never fails. */
export const runInProcess = (handler: InProcessHandler | undefined, name: string, req: RunRequest) =>
  handler === undefined
    ? Effect.succeed(failed([], `No in-process handler named ${JSON.stringify(name)} is registered.`))
    : runWithTimeout(
      req,
      (collector) =>
        Effect.catchAllDefect(invoke(handler, req, collector), (defect) => Effect.succeed(Exit.die(defect))).pipe(
          Effect.map((exit): RunOutcome => {
            const logs = collector.close()
            if (Exit.isSuccess(exit)) {
              const checked = checkResponse(exit.value, req.responseSizeLimitBytes)
              return "response" in checked
                ? { status: "Completed", response: checked.response, logs }
                : failed(logs, checked.message)
            }
            const failure = Cause.failureOption(exit.cause)
            if (failure._tag === "Some") return thrown(logs, failure.value)
            const defect = Cause.dieOption(exit.cause)
            if (defect._tag === "Some") return thrown(logs, defect.value)
            return failed(logs, "The handler was interrupted.", Cause.pretty(exit.cause))
          })
        )
    )
