/**
 * The options and runners for commands written with `@effect/cli` (the `emulator` commands): `--json` and
 * `--data-dir` as `@effect/cli` options, and the runners of `Command`. The other commands are plain data
 * (`Tree`) so that `--help` loads nothing.
 *
 * @since 0.1.0
 */
import { Options } from "@effect/cli"

/** The runners of every command, for the `@effect/cli` commands. */
export { embeddedNotice, run, runLocal } from "./Command.js"

/** `--json` and `--data-dir` as `@effect/cli` options. */
export const options = {
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON document on stdout")),
  dataDir: Options.text("data-dir").pipe(
    Options.withDescription("Keep the emulator's state in this directory"),
    Options.optional
  )
}
