/** Writing request bodies: values are encoded with their schema, so `Redacted` values become wire strings only here. */
import { InvalidInput } from "@effect-cdf/core/Errors"
import { Effect, ParseResult, Schema } from "effect"

/** Encodes a value to its wire form; a value the schema rejects is an `InvalidInput` naming `subject`. */
export const encode =
  <A, I>(schema: Schema.Schema<A, I>, subject: string) => (value: A): Effect.Effect<I, InvalidInput> =>
    Schema.encode(schema)(value).pipe(
      Effect.mapError((error) => invalid(subject, error))
    )

/**
 * Decodes what a user gave (unknown input), refusing unknown fields so that a misspelt option is an error
 * instead of being dropped.
 */
export const decodeInput =
  <A, I>(schema: Schema.Schema<A, I>, subject: string) => (input: unknown): Effect.Effect<A, InvalidInput> =>
    Schema.decodeUnknown(schema, { onExcessProperty: "error" })(input).pipe(
      Effect.mapError((error) => invalid(subject, error))
    )

const invalid = (subject: string, error: ParseResult.ParseError) =>
  new InvalidInput({
    subject,
    issue: ParseResult.ArrayFormatter.formatErrorSync(error).slice(0, 5).map((issue) =>
      issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
    ).join("; ")
  })
