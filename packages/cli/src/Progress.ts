/**
 * The progress line drawn on stderr while waiting: a spinner, the elapsed time, the status and the polls,
 * redrawn in place with `\r` and cleared at the end. Off a TTY nothing is drawn.
 *
 * @since 0.1.0
 */
import { Effect, Ref, Schedule } from "effect"
import type { Scope } from "effect"
import { Output, seconds } from "./Output.js"

/** A running progress line. */
export interface Progress {
  /** Sets the status shown. */
  readonly status: (status: string) => Effect.Effect<void>
  /** Counts one more poll. */
  readonly poll: Effect.Effect<void>
  /** The polls counted so far. */
  readonly polls: Effect.Effect<number>
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/**
 * Starts a progress line for `label` in the current scope; closing the scope clears it. The counters work
 * off a TTY too, where nothing is drawn.
 */
export const make = (label: string): Effect.Effect<Progress, never, Output | Scope.Scope> =>
  Effect.gen(function*() {
    const out = yield* Output
    const status = yield* Ref.make("Running")
    const polls = yield* Ref.make(0)
    const progress: Progress = {
      status: (next) => Ref.set(status, next),
      poll: Ref.update(polls, (n) => n + 1),
      polls: Ref.get(polls)
    }
    if (!out.interactive) return progress
    const started = Date.now()
    const frame = yield* Ref.make(0)
    const draw = Effect.gen(function*() {
      const i = yield* Ref.getAndUpdate(frame, (n) => n + 1)
      const n = yield* Ref.get(polls)
      const text = `${out.style.cyan(FRAMES[i % FRAMES.length] ?? "-")} ${label}  ${yield* Ref.get(status)}  ${
        seconds(Date.now() - started)
      }  ${n} poll${n === 1 ? "" : "s"}`
      process.stderr.write(`\r\u001b[2K${text}`)
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => void process.stderr.write("\r\u001b[2K")))
    yield* Effect.forkScoped(Effect.repeat(draw, Schedule.spaced("80 millis")))
    return progress
  })
