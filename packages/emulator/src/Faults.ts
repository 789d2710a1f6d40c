/**
 * Fault injection: seeded, deterministic rules that make chosen requests fail the way networks and
 * servers fail — error statuses, latency, connection resets before or after the request ran, truncated
 * and malformed bodies.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import { mulberry32, type Prng } from "./internal/prng.js"

/** An error status with an optional `Retry-After` (seconds) and `cdf-is-auto-retryable` header. */
export class StatusFault extends Schema.TaggedClass<StatusFault>()("status", {
  status: Schema.Literal(400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504),
  retryAfterSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { exact: true }),
  autoRetryable: Schema.optionalWith(Schema.Boolean, { exact: true }),
  message: Schema.optionalWith(Schema.String, { exact: true })
}) {}

/** Added latency before the request is handled (combines with other faults). */
export class LatencyFault extends Schema.TaggedClass<LatencyFault>()("latency", {
  millis: Schema.Int.pipe(Schema.nonNegative())
}) {}

/** The connection is destroyed before the request is processed: nothing happened on the server. */
export class ResetBeforeFault extends Schema.TaggedClass<ResetBeforeFault>()("resetBefore", {}) {}

/** The request is processed, then the connection is destroyed: the outcome is unknown to the client. */
export class ResetAfterFault extends Schema.TaggedClass<ResetAfterFault>()("resetAfter", {}) {}

/** The request is processed and half of the response body is sent before the connection closes. */
export class TruncateFault extends Schema.TaggedClass<TruncateFault>()("truncate", {}) {}

/** The request is processed and the response body is replaced by text that is not JSON. */
export class MalformedFault extends Schema.TaggedClass<MalformedFault>()("malformed", {}) {}

/**
 * The request is processed (a call is created, say), then its answer is held for `millis` before it is
 * sent: a window in which the client has no answer yet but the server already acted.
 */
export class DelayAfterFault extends Schema.TaggedClass<DelayAfterFault>()("delayAfter", {
  millis: Schema.Int.pipe(Schema.nonNegative())
}) {}

/**
 * The request is processed and every call in the response has its `error` object replaced by the error's
 * message as a plain string (`"error": "ZeroDivisionError: division by zero"`), the form some revisions
 * of the API docs show.
 */
export class StringErrorFault extends Schema.TaggedClass<StringErrorFault>()("stringError", {}) {}

/** What a fault rule does. */
export const FaultAction = Schema.Union(
  StatusFault,
  LatencyFault,
  ResetBeforeFault,
  ResetAfterFault,
  TruncateFault,
  MalformedFault,
  DelayAfterFault,
  StringErrorFault
)
/** What a fault rule does. */
export type FaultAction = typeof FaultAction.Type

/**
 * A fault rule. `path` is a pattern on the path after `/api/v1/projects/{project}` (or on the whole path
 * when it starts with `/api/` or `/oauth2/`): `*` matches one segment, `**` any rest. It fires with
 * `probability` (default 1), at most `times` times (default unlimited), after `skip` matching requests.
 */
export class FaultRule extends Schema.Class<FaultRule>("FaultRule")({
  method: Schema.optionalWith(Schema.String, { exact: true }),
  path: Schema.String,
  probability: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { exact: true }),
  times: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { exact: true }),
  skip: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { exact: true }),
  action: FaultAction
}) {}

/** A set of rules with the seed of their PRNG. */
export class FaultPlan extends Schema.Class<FaultPlan>("FaultPlan")({
  seed: Schema.optionalWith(Schema.Int, { exact: true, default: () => 1 }),
  rules: Schema.Array(FaultRule)
}) {}

/** One rule with how often it matched and fired. */
export interface RuleStats {
  readonly rule: FaultRule
  readonly matched: number
  readonly fired: number
}

/** The faults chosen for one request: latency to add, then at most one other action. */
export interface Decision {
  readonly latencyMillis: number
  readonly action: Exclude<FaultAction, LatencyFault> | undefined
}

const segmentsMatch = (pattern: ReadonlyArray<string>, path: ReadonlyArray<string>): boolean => {
  if (pattern.length === 0) return path.length === 0
  const [head, ...rest] = pattern
  if (head === "**") return true
  if (path.length === 0) return false
  const [first, ...tail] = path
  return (head === "*" || head === first) && segmentsMatch(rest, tail)
}

/** Whether `pattern` (with `*` and `**`) matches `path`. */
export const pathMatches = (pattern: string, path: string): boolean =>
  segmentsMatch(pattern.split("/").filter((s) => s !== ""), path.split("/").filter((s) => s !== ""))

/** The fault injector of one emulator. */
export class Faults extends Context.Tag("@effect-cdf/emulator/Faults")<Faults, Faults.Service>() {}

/** The fault injector's service. */
export declare namespace Faults {
  /** The fault injector's service. */
  export interface Service {
    /** Replaces the rules (and reseeds the PRNG). */
    readonly set: (plan: FaultPlan) => Effect.Effect<void>
    /** Removes every rule. */
    readonly clear: Effect.Effect<void>
    /** The rules with their counters. */
    readonly stats: Effect.Effect<ReadonlyArray<RuleStats>>
    /** The seed in use. */
    readonly seed: Effect.Effect<number>
    /** Chooses the faults for a request (`path` relative to the project base when under it). */
    readonly decide: (method: string, path: string) => Effect.Effect<Decision>
  }
}

/** Makes a fault injector starting with `initial`. */
export const make = (initial?: FaultPlan) =>
  Effect.sync((): Faults.Service => {
    let seed = initial?.seed ?? 1
    let prng: Prng = mulberry32(seed)
    let rules: Array<{ rule: FaultRule; matched: number; fired: number }> = (initial?.rules ?? []).map((rule) => ({
      rule,
      matched: 0,
      fired: 0
    }))
    return {
      set: (plan) =>
        Effect.sync(() => {
          seed = plan.seed
          prng = mulberry32(plan.seed)
          rules = plan.rules.map((rule) => ({ rule, matched: 0, fired: 0 }))
        }),
      clear: Effect.sync(() => {
        rules = []
      }),
      stats: Effect.sync(() => rules.map((r) => ({ ...r }))),
      seed: Effect.sync(() => seed),
      decide: (method, path) =>
        Effect.sync(() => {
          let latencyMillis = 0
          let action: Decision["action"] = undefined
          for (const entry of rules) {
            const { rule } = entry
            if (rule.method !== undefined && rule.method !== "*" && rule.method.toUpperCase() !== method) continue
            if (!pathMatches(rule.path, path)) continue
            if (action !== undefined && rule.action._tag !== "latency") continue
            entry.matched++
            if (entry.matched <= (rule.skip ?? 0)) continue
            if (rule.times !== undefined && entry.fired >= rule.times) continue
            // One draw per matching rule, so a given seed and request sequence always decides the same way.
            const draw = prng.next()
            if (draw >= (rule.probability ?? 1)) continue
            entry.fired++
            if (rule.action._tag === "latency") latencyMillis += rule.action.millis
            else action = rule.action
          }
          return { latencyMillis, action }
        })
    }
  })

/** A fault injector layer starting with `initial`. */
export const layer = (initial?: FaultPlan) => Layer.effect(Faults, make(initial))
