/**
 * The project's Functions limits and the activation status of Functions.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { openLiteral } from "./internal/schema.js"

const Amount = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())

/** A numeric range with a default, as in the `cpuCores` and `memoryGb` limits. */
export const LimitRange = Schema.Struct({ min: Amount, max: Amount, default: Amount })

/** The body of `GET /functions/limits`. */
export class FunctionsLimits extends Schema.Class<FunctionsLimits>("FunctionsLimits")({
  timeoutMinutes: Schema.Int.pipe(Schema.positive()),
  cpuCores: LimitRange,
  memoryGb: LimitRange,
  runtimes: Schema.Array(Schema.String),
  responseSizeMb: Schema.Int.pipe(Schema.positive())
}) {}

/** Whether Cognite Functions is activated for the project (a later value stays open). */
export const ActivationStatus = openLiteral(["inactive", "requested", "activated"], "UnknownActivationStatus")
/** Whether Cognite Functions is activated for the project. */
export type ActivationStatus = typeof ActivationStatus.Type

/** The body of `GET /functions/status` and `POST /functions/status`. */
export class FunctionsStatus extends Schema.Class<FunctionsStatus>("FunctionsStatus")({
  status: ActivationStatus
}) {}
