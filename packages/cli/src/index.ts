/**
 * `cdf-fn`, the command line for Cognite Functions, as a library: the command tree as data and `main`,
 * which runs a command line as the executable does.
 *
 * @since 0.1.0
 */

/** `main(argv)`, the command tree and the version. */
export * as Cli from "./Cli.js"
/** What every command shares: running against a target, reading the token, references, JSON, durations. */
export * as Command from "./Command.js"
/** The `@effect/cli` options and runners of the `emulator` commands. */
export * as Common from "./Common.js"
/** Where the example functions are. */
export * as Examples from "./Examples.js"
/** `--help` text from the command tree. */
export * as Help from "./Help.js"
/** Human and JSON output, error reports and exit codes. */
export * as Output from "./Output.js"
/** Reading a command line against the tree, with suggestions for typos. */
export * as Parse from "./Parse.js"
/** The progress line shown while waiting. */
export * as Progress from "./Progress.js"
/** The builders and types of the command tree. */
export * as Spec from "./Spec.js"
/** CDF or the embedded emulator. */
export * as Target from "./Target.js"
/** Every command as data. */
export * as Tree from "./Tree.js"
