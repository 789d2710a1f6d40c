/**
 * `cdf-fn`, the command line for Cognite Functions, as a library: embed the command tree or run it.
 *
 * @since 0.1.0
 */

/** The command tree and `run(argv)`, which gives the exit code. */
export * as Cli from "./Cli.js"
/** Shared options and helpers of the commands. */
export * as Common from "./Common.js"
/** Where the example functions are. */
export * as Examples from "./Examples.js"
/** Human and JSON output, error reports and exit codes. */
export * as Output from "./Output.js"
/** The progress line shown while waiting. */
export * as Progress from "./Progress.js"
/** CDF or the embedded emulator. */
export * as Target from "./Target.js"
