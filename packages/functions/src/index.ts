/**
 * Effect services for Cognite Functions: functions, calls, schedules, sessions and Function Apps.
 *
 * @since 0.1.0
 */

/** Calling functions and waiting for them; reading calls, responses and logs. */
export * as Calls from "./Calls.js"
/** Every service in one layer. */
export * as CogniteFunctions from "./CogniteFunctions.js"
/** Function Apps. */
export * as FunctionApps from "./FunctionApps.js"
/** Typed function definitions. */
export * as FunctionDef from "./FunctionDef.js"
/** How functions are named. */
export * as FunctionRef from "./FunctionRef.js"
/** Functions: deploy, list, retrieve, delete, limits, activation. */
export * as Functions from "./Functions.js"
/** The poll schedule and deadlines. */
export * as Polling from "./Polling.js"
/** What each operation can fail with. */
export * as ServiceError from "./ServiceError.js"
/** Schedules. */
export * as Schedules from "./Schedules.js"
/** Sessions and nonces. */
export * as Sessions from "./Sessions.js"
