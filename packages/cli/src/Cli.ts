/**
 * The `cdf-fn` command tree and how it runs: every error is printed by the command that met it and becomes
 * the process's exit code (see `Output` for the codes).
 *
 * @since 0.1.0
 */
import { Command, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import { Cause, Effect, Logger, LogLevel } from "effect"
import * as App from "./commands/App.js"
import * as Call from "./commands/Call.js"
import * as Calls from "./commands/Calls.js"
import * as Demo from "./commands/Demo.js"
import * as Durable from "./commands/Durable.js"
import * as Emulator from "./commands/Emulator.js"
import * as Functions from "./commands/Functions.js"
import * as Schedules from "./commands/Schedules.js"
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./Output.js"

/** The CLI's version. */
export const VERSION = "0.1.0"

/** The root command, `cdf-fn`, with every subcommand. */
export const command = Command.make("cdf-fn").pipe(
  Command.withDescription(
    "Cognite Functions from the command line, against CDF (COGNITE_* set) or the embedded emulator (none set)"
  ),
  Command.withSubcommands([
    Functions.command,
    Call.callCommand,
    Call.awaitCommand,
    Calls.command,
    Schedules.command,
    App.command,
    Emulator.command,
    Demo.command,
    Durable.command
  ])
)

const cli = Command.run(command, { name: "cdf-fn", version: VERSION })

/**
 * Runs the CLI on `argv` (`process.argv`: the runtime and script first) and gives the exit code. Usage
 * errors were already printed by `@effect/cli`; a defect (a bug) is printed with its cause.
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  cli(argv).pipe(
    Effect.as(EXIT_OK),
    Effect.catchAll((error) =>
      ValidationError.isValidationError(error)
        ? Effect.succeed(EXIT_USAGE)
        : Effect.succeed(error.code)
    ),
    Effect.catchAllDefect((defect) =>
      Effect.sync(() => {
        process.stderr.write(
          `cdf-fn: unexpected error (a bug; please report it):\n${Cause.pretty(Cause.die(defect))}\n`
        )
        return EXIT_FAILED
      })
    ),
    // the SDK's warnings go to stderr, so stdout stays the command's output
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true, colors: false }))),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
