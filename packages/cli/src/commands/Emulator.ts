/**
 * `cdf-fn emulator start`: the emulator's own command (`@effect-cdf/emulator/Command`, the same flags and
 * output as the `effect-cdf-emulator` bin), run under `cdf-fn`'s error reporting. That module is light
 * (`@effect/cli` and `effect` only); the emulator itself is imported only when `start` runs, so building
 * the `cdf-fn` command tree (`--help` included) does not load it.
 *
 * @since 0.1.0
 */
import * as EmulatorCommand from "@effect-cdf/emulator/Command"
import { Command } from "@effect/cli"
import { Effect } from "effect"
import * as Common from "../Common.js"
import { EnvironmentError } from "../Output.js"

/** The variables that point a client at a running emulator. */
export const environment = EmulatorCommand.environment

const start = Command.make("start", EmulatorCommand.options, (args) =>
  Common.runLocal(
    args.json,
    EmulatorCommand.serve(args).pipe(
      Effect.mapError((error) =>
        new EnvironmentError({ message: `the emulator could not start: ${EmulatorCommand.describeFailure(error)}` })
      )
    )
  )).pipe(Command.withDescription("Run the local emulator until Ctrl+C, printing the COGNITE_* exports"))

/** `cdf-fn emulator`. */
export const command = Command.make("emulator").pipe(
  Command.withDescription("The local Cognite Functions emulator"),
  Command.withSubcommands([start])
)
