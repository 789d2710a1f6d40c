/**
 * An interrupted `call` keeps its identity: interrupted while waiting, a Warning names the handle that
 * resumes it; interrupted while its POST is in flight, a Warning names what reconciles it; `onStarted`
 * hands the handle over before any wait. Nothing is sent after the interrupt.
 */
import type { FunctionCall } from "@effect-cdf/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Logger, LogLevel, Schedule } from "effect"
import * as Calls from "../src/Calls.js"
import { advance, callBody, type Reply, scripted, type Seen } from "./support/scripted.js"

const steady = Schedule.spaced("1 second")

/** Collects what is logged, with annotations, at every level. */
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push(`${logLevel.label} ${String(message)} ${JSON.stringify(Object.fromEntries(annotations))}`)
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

const running = (hangPost: boolean) => (seen: Seen): Reply | undefined => {
  if (seen.path === "/functions/7/call") {
    return hangPost
      ? { hang: true }
      : { status: 201, body: callBody(100, "Running") }
  }
  if (seen.path === "/functions/7/calls/100") return { status: 200, body: callBody(100, "Running") }
  return undefined
}

describe("an interrupted call", () => {
  it.scoped("interrupted while waiting: a Warning carries the handle, and Calls.await resumes from it", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(running(false))
      const log = capture()
      const kept: Array<FunctionCall.CallHandle> = []
      const fiber = yield* Effect.fork(
        Effect.flatMap(Calls.Calls, (calls) =>
          calls.call(7, {}, {
            schedule: steady,
            onStarted: (started) => Effect.sync(() => kept.push(started.handle))
          })).pipe(
            Effect.provide(fake.context),
            Effect.provide(log.layer),
            Logger.withMinimumLogLevel(LogLevel.All)
          )
      )
      yield* advance(3_500)
      const sent = fake.requests.length
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* advance(60_000)
      expect(fake.requests.length).toBe(sent)
      expect(kept.map((h) => h.callId)).toEqual([100])
      const warning = log.lines.find((line) => line.startsWith("WARN interrupted while waiting"))
      expect(warning).toBeDefined()
      expect(warning).toContain(`"callId":100`)
      expect(warning).toContain(`Calls.await({"functionId":7,"callId":100,"startedAt":0})`)
    }))

  it.scoped("interrupted while the POST is in flight: a Warning carries sentAt and the session to reconcile with", () =>
    Effect.gen(function*() {
      const fake = yield* scripted(running(true))
      const log = capture()
      const fiber = yield* Effect.fork(
        Effect.flatMap(Calls.Calls, (calls) => calls.call(7, {}, { schedule: steady })).pipe(
          Effect.provide(fake.context),
          Effect.provide(log.layer)
        )
      )
      yield* advance(1_000)
      expect(fake.to("/functions/7/call").length).toBe(1)
      yield* Fiber.interrupt(fiber)
      const warning = log.lines.find((line) => line.startsWith("WARN interrupted while POST"))
      expect(warning).toContain(`Calls.reconcile(7, {"sentAt":0,"sessionId":99})`)
      expect(warning).not.toContain("canary-nonce")
    }))
})
