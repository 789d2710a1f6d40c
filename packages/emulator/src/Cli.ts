/**
 * The emulator's own command line, `effect-cdf-emulator [flags]`: the command of `Command.ts`, run with
 * `@effect/cli` (so `--help`, `--version` and errors read as in `cdf-fn`).
 *
 * @since 0.1.0
 */
import { Command, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import { Console, Effect } from "effect"
import * as EmulatorCommand from "./Command.js"

/** The emulator's version. */
export const VERSION = "0.1.0"

/** The root command of the bin. */
export const command = EmulatorCommand.make("effect-cdf-emulator")

const cli = Command.run(command, { name: "effect-cdf-emulator", version: VERSION })

/**
 * Runs the command on `argv` (`process.argv`: the runtime and the script first) and gives the exit code:
 * 0 after Ctrl+C or `--help`, 2 for a bad flag, 1 when the emulator cannot start.
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> => {
  const args = argv.slice(2)
  if (args.includes("--help") || args.includes("-h")) {
    return Effect.as(Console.log(EmulatorCommand.helpText("effect-cdf-emulator")), 0)
  }
  return cli(argv).pipe(
    Effect.as(0),
    Effect.catchAll((error) =>
      ValidationError.isValidationError(error)
        ? Effect.succeed(2)
        : Effect.as(
          Console.error(`effect-cdf-emulator: ${EmulatorCommand.describeFailure(error)}`),
          error._tag === "InvalidFlag" ? 2 : 1
        )
    )
  )
}
