/** Writing request bodies: values are encoded with their schema, so `Redacted` values become wire strings only here. */
import { Scrub } from "@effect-cdf/core"
import { invalidInput } from "@effect-cdf/core/Errors"
import type { InvalidInput } from "@effect-cdf/core/Errors"
import { Effect, Schema } from "effect"

/** Encodes a value to its wire form; a value the schema rejects is an `InvalidInput` naming `subject`. */
export const encode =
  <A, I>(schema: Schema.Schema<A, I>, subject: string) => (value: A): Effect.Effect<I, InvalidInput> =>
    Schema.encode(schema)(value).pipe(
      Effect.mapError((error) => invalidInput(subject, error, value, Scrub.secretsIn(value)))
    )

/**
 * Decodes what a user gave (unknown input), refusing unknown fields so that a misspelt option is an error
 * instead of being dropped.
 */
export const decodeInput =
  <A, I>(schema: Schema.Schema<A, I>, subject: string) => (input: unknown): Effect.Effect<A, InvalidInput> =>
    Schema.decodeUnknown(schema, { onExcessProperty: "error" })(input).pipe(
      Effect.mapError((error) => invalidInput(subject, error, input, Scrub.secretsIn(input)))
    )
