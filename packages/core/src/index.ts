/**
 * The Cognite Functions API contract: Effect Schemas for every resource and envelope, and typed errors.
 *
 * @since 0.1.0
 */

/** Functions: the resource, the create shape with its limits, the list filter. */
export * as CogniteFunction from "./CogniteFunction.js"
/** The error envelope of the API. */
export * as ErrorEnvelope from "./ErrorEnvelope.js"
/** The typed errors of the SDK. */
export * as Errors from "./Errors.js"
/** The Files API shapes deploying needs. */
export * as Files from "./Files.js"
/** Function Apps requests, results and envelopes. */
export * as FunctionApp from "./FunctionApp.js"
/** Function calls, statuses, logs, responses. */
export * as FunctionCall from "./FunctionCall.js"
/** Schedules. */
export * as FunctionSchedule from "./FunctionSchedule.js"
/** Limits and activation status. */
export * as FunctionsLimits from "./FunctionsLimits.js"
/** Identifiers. */
export * as Ids from "./Ids.js"
/** The OAuth2 token endpoint's responses. */
export * as OAuth from "./OAuth.js"
/** Request and response wrappers. */
export * as Items from "./Items.js"
/** Scrubbing secrets out of text, samples and errors built from server or user data. */
export * as Scrub from "./Scrub.js"
/** Sessions. */
export * as Session from "./Session.js"
