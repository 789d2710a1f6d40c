/**
 * Runs one command on the Effect runtime: Ctrl-C interrupts it (exit 130), an expected error was already
 * printed by the command and carries its exit code, and a defect (a bug) is printed with its cause.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, FiberRefs, Logger, LogLevel } from "effect"
import {
  Exit as CommandExit,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  HINTS_INTERRUPTS,
  isInterruptNote
} from "./Output.js"

/**
 * The SDK's logs on stderr, without its note of an interrupted call where the command prints its own hint
 * (the same facts as a `cdf-fn` command line, not twice).
 */
export const logger: Logger.Logger<unknown, void> = Logger.prettyLogger({ stderr: true, colors: false }).pipe(
  (pretty) =>
    Logger.make((options) => {
      const hinted = FiberRefs.getOrDefault(options.context, HINTS_INTERRUPTS)
      if (!(hinted && isInterruptNote(options.message, options.annotations))) pretty.log(options)
    })
)

/** The exit code of a command's effect; the SDK's warnings go to stderr, so stdout stays the output. */
export const exitCode = (command: Effect.Effect<void, unknown>): Effect.Effect<number> =>
  command.pipe(
    Effect.as(EXIT_OK),
    Effect.catchAll((error) => Effect.succeed(error instanceof CommandExit ? error.code : EXIT_FAILED)),
    Effect.catchAllDefect((defect) =>
      Effect.sync(() => {
        process.stderr.write(
          `cdf-fn: unexpected error (a bug; please report it):\n${Cause.pretty(Cause.die(defect))}\n`
        )
        return EXIT_FAILED
      })
    ),
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )

const flushed = (stream: NodeJS.WriteStream, then: () => void) => {
  if (stream.destroyed || !stream.writable) return then()
  stream.write("", () => then())
}

/** Runs a command as the process's main program and sets its exit code. */
export const runMain = (command: Effect.Effect<void, unknown>): void =>
  NodeRuntime.runMain(
    Effect.tap(exitCode(command), (code) => Effect.sync(() => void (process.exitCode = code))),
    {
      disableErrorReporting: true,
      disablePrettyLogger: true,
      teardown: (exit, onExit) => {
        const code = Exit.isSuccess(exit)
          ? typeof process.exitCode === "number" ? process.exitCode : 0
          : Cause.isInterruptedOnly(exit.cause)
          ? EXIT_INTERRUPTED
          : EXIT_FAILED
        process.exitCode = code
        onExit(code)
        // Idle keep-alive sockets and timers of the HTTP client would hold the process open a while after
        // the command is done: exit once stdout and stderr have taken everything written to them.
        flushed(process.stdout, () => flushed(process.stderr, () => process.exit(code)))
      }
    }
  )
