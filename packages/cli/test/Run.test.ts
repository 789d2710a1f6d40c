/**
 * The SDK's logs as `cdf-fn` prints them: its note of an interrupted call is left out where the command
 * prints its own hint, and only there.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { vi } from "vitest"
import { HINTS_INTERRUPTS } from "../src/Output.js"
import { logger } from "../src/Run.js"

/** What `effect` printed to stderr through `logger`. */
const printed = (effect: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = (...args: Array<unknown>) => void lines.push(args.map(String).join(" "))
    const error = vi.spyOn(console, "error").mockImplementation(capture)
    const log = vi.spyOn(console, "log").mockImplementation(capture)
    yield* effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Effect.ensuring(Effect.sync(() => {
        error.mockRestore()
        log.mockRestore()
      }))
    )
    return lines.join("\n")
  })

const sendNote = Effect.logWarning(
  "interrupted while POST /functions/1/call was in flight: find it with Calls.reconcile(1, {})"
)
  .pipe(Effect.annotateLogs({ functionId: 1, sentAt: 5 }))
const other = Effect.logWarning("call status \"Paused\" is unknown to this client").pipe(
  Effect.annotateLogs({ functionId: 1, callId: 2 })
)

describe("the SDK's logs", () => {
  it.effect("the interrupt note is left out where the command hints, printed elsewhere; other warnings stay", () =>
    Effect.gen(function*() {
      const hinted = yield* printed(Effect.zipRight(sendNote, other).pipe(Effect.locally(HINTS_INTERRUPTS, true)))
      expect(hinted).not.toContain("Calls.reconcile(")
      expect(hinted).toContain("is unknown to this client")
      const plain = yield* printed(sendNote)
      expect(plain).toContain("Calls.reconcile(")
    }))
})
