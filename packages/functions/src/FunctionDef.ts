/**
 * Typed function definitions: a function's external id with the schemas of its input and output, so that
 * `Calls.call(definition, input)` encodes the input and decodes the output, all typed.
 *
 * @example
 * ```ts
 * import { Calls, FunctionDef } from "@effect-cdf/functions"
 * import { Effect, Schema } from "effect"
 *
 * const Forecast = FunctionDef.make({
 *   externalId: "forecast",
 *   input: Schema.Struct({ assetId: Schema.Number, horizonHours: Schema.Number }),
 *   output: Schema.Struct({ values: Schema.Array(Schema.Number) })
 * })
 *
 * const program = Effect.gen(function*() {
 *   const calls = yield* Calls.Calls
 *   const { response } = yield* calls.call(Forecast, { assetId: 42, horizonHours: 24 })
 *   return response.values
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Schema } from "effect"
import { Predicate } from "effect"

/** A function known by its external id, with the schemas of what it takes and what it returns. */
export interface FunctionDef<I, IE, O, OE> {
  readonly _tag: "FunctionDef"
  readonly externalId: string
  /** Encodes the input to the call's `data`: its encoded form must be a JSON object. */
  readonly input: Schema.Schema<I, IE>
  /** Decodes the call's response. */
  readonly output: Schema.Schema<O, OE>
}

/** Any function definition. */
export type Any = FunctionDef<any, any, any, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** Defines a function by its external id and the schemas of its input and output. */
export const make = <I, IE, O, OE>(options: {
  readonly externalId: string
  readonly input: Schema.Schema<I, IE>
  readonly output: Schema.Schema<O, OE>
}): FunctionDef<I, IE, O, OE> => ({ _tag: "FunctionDef", ...options })

/** Whether a value is a function definition. */
export const isFunctionDef = (u: unknown): u is Any => Predicate.hasProperty(u, "_tag") && u._tag === "FunctionDef"

/** The input type of a definition. */
export type Input<D> = D extends FunctionDef<infer I, infer _IE, infer _O, infer _OE> ? I : never
/** The output type of a definition. */
export type Output<D> = D extends FunctionDef<infer _I, infer _IE, infer O, infer _OE> ? O : never
