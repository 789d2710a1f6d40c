/**
 * In-process handlers: functions registered from code and run inside the emulator's own process, for
 * tests that want a handler without a zip. They cannot be killed; a timeout only stops waiting for them.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { LineSplitter, LogCollector } from "./logs.js"
import { checkResponse } from "./response.js"
import type { InProcessHandler, RunOutcome, RunRequest } from "./types.js"
import { failed, timeoutMessage } from "./types.js"

/** The `functionPath` prefix that selects a handler registered with `registerInProcess`. */
export const inProcessPrefix = "inprocess:"

/** Runs one call of an in-process handler. Never fails. */
export const runInProcess = (handler: InProcessHandler | undefined, name: string, req: RunRequest) =>
  Effect.async<RunOutcome>((resume) => {
    const collector = new LogCollector(req.onLog)
    if (handler === undefined) {
      resume(Effect.succeed(failed([], `No in-process handler named ${JSON.stringify(name)} is registered.`)))
      return
    }
    let done = false
    const finish = (outcome: (logs: ReadonlyArray<{ timestamp: number; message: string }>) => RunOutcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(Effect.succeed(outcome(collector.close())))
    }
    const timer = setTimeout(
      () => finish((logs) => ({ status: "Timeout", error: { message: timeoutMessage(req.timeoutMillis) }, logs })),
      Math.max(1, req.timeoutMillis)
    )
    const log = (message: string): void => {
      const splitter = new LineSplitter((line) => collector.push(line))
      splitter.write(message)
      splitter.flush()
    }
    Promise.resolve()
      .then(() =>
        handler({
          data: req.data === undefined ? {} : req.data,
          secrets: { ...req.secrets },
          functionCallInfo: req.callInfo,
          log
        })
      )
      .then(
        (value) => {
          const checked = checkResponse(value, req.responseSizeLimitBytes)
          finish((logs) =>
            "response" in checked
              ? { status: "Completed", response: checked.response, logs }
              : failed(logs, checked.message)
          )
        },
        (error: unknown) =>
          finish((logs) =>
            error instanceof Error
              ? failed(logs, `${error.name}: ${error.message}`, error.stack)
              : failed(logs, `Uncaught ${String(error)}`)
          )
      )
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
    })
  })
