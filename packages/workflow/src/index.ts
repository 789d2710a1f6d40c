/**
 * Durable Cognite Function calls on Effect's workflow engine. The storages are separate entry points:
 * `@effect-cdf/workflow/Sqlite` and `@effect-cdf/workflow/Postgres`.
 *
 * @since 0.1.0
 */

/** The ledger of logical calls: their sends (time, session) and the call ids they own. */
export * as CallLedger from "./CallLedger.js"
/** The ready workflow for one durable call. */
export * as CallWorkflow from "./CallWorkflow.js"
/** Durable calls to compose inside your own workflows. */
export * as DurableCall from "./DurableCall.js"
/** Removing completed executions after a while. */
export * as Retention from "./Retention.js"
