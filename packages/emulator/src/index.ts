/**
 * A local Cognite Functions service on 127.0.0.1: the same REST API, real JavaScript and Python
 * handlers, schedules, fault injection and persistence.
 *
 * @since 0.1.0
 */

/** The emulator's own command line (`effect-cdf-emulator`). */
export * as Cli from "./Cli.js"
/** The emulator's one command: its flags and its run, shared by its bin and `cdf-fn emulator start`. */
export * as Command from "./Command.js"
/** The emulator as a layer: options, the running emulator's service. */
export * as Emulator from "./Emulator.js"
/** Deploying functions and running calls. */
export * as Executor from "./Executor.js"
/** Seeded fault injection rules. */
export * as Faults from "./Faults.js"
/** The limits the emulator enforces. */
export * as Limits from "./Limits.js"
/** Persistence in a data directory. */
export * as Persistence from "./Persistence.js"
/** The REST routes of the emulated project. */
export * as Routes from "./Routes.js"
/** The handler runtime: warm JavaScript workers, warm Python runners, in-process handlers. */
export * as HandlerRuntime from "./HandlerRuntime.js"
/**
 * The handler runtime under its former name.
 *
 * @deprecated Use `HandlerRuntime`.
 */
export * as Runtime from "./HandlerRuntime.js"
/** Schedules firing on their cron expressions. */
export * as Scheduler from "./Scheduler.js"
/** The HTTP front: auth, faults, envelopes, the token endpoint, the admin API. */
export * as Server from "./Server.js"
/** The emulator's state. */
export * as State from "./State.js"
/** The dev token and the OAuth2 token endpoint. */
export * as Tokens from "./Tokens.js"
