/**
 * The `emulator` commands, written with `@effect/cli` in `commands/Emulator.ts`: the words after
 * `cdf-fn emulator` are read by that parser, and loaded only when `cdf-fn emulator ...` runs.
 *
 * @since 0.1.0
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import * as Emulator from "./commands/Emulator.js"
import { Exit, EXIT_USAGE } from "./Output.js"
import { VERSION } from "./Tree.js"

const cli = Command.run(Command.make("cdf-fn").pipe(Command.withSubcommands([Emulator.command])), {
  name: "cdf-fn",
  version: VERSION
})

/** Runs `cdf-fn emulator <argv>`; a usage error (printed by `@effect/cli`) exits 2. */
export const emulator = (argv: ReadonlyArray<string>): Effect.Effect<void, Exit> =>
  cli(["node", "cdf-fn", "emulator", ...argv]).pipe(
    Effect.catchIf(ValidationError.isValidationError, () => Effect.fail(new Exit({ code: EXIT_USAGE }))),
    Effect.provide(NodeContext.layer)
  )
